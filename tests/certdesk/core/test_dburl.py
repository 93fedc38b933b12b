import pytest

from certdesk.core.dburl import database_from_url


def test_sqlite_url_keeps_an_absolute_path():
    db = database_from_url("sqlite:////srv/certdesk/var/db.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == "/srv/certdesk/var/db.sqlite3"


def test_postgresql_url_is_split_into_django_settings():
    db = database_from_url("postgresql://cd%40user:p%2Fw@db.internal:6543/certdesk?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "cd@user",
        "p/w",
        "db.internal",
        "6543",
        "certdesk",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_unknown_scheme_is_refused_with_its_name():
    with pytest.raises(ValueError, match="mysql"):
        database_from_url("mysql://root@localhost/certdesk")
