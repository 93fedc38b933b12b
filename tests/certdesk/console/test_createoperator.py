"""``certdesk createoperator`` creates a console user with a strong password, no account."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

GOOD = "Unyou-Tantou-2026!"


def create(*extra: str, stdin: str | None = None, **kw: object) -> str:
    out = StringIO()
    args = [
        "--username",
        "Tanaka.Op",
        "--email",
        "tanaka@operator.example",
        "--name",
        "田中 一郎",
        *extra,
    ]
    if stdin is not None:
        call_command("createoperator", *args, "--password-stdin", stdin=StringIO(stdin), stdout=out)
    else:
        call_command("createoperator", *args, stdout=out)
    return out.getvalue()


def test_password_from_stdin(client):
    assert "operator tanaka.op created" in create(stdin=GOOD + "\n")
    user = User.objects.get(username="tanaka.op")
    assert user.is_staff and user.is_active and user.account_id is None
    assert user.check_password(GOOD)
    assert AuditEvent.objects.filter(action="operator.created", target_id=str(user.pk)).exists()
    client.force_login(user)
    assert client.get("/console/").status_code == 200


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("CERTDESK_OPERATOR_PASSWORD", GOOD)
    create()
    assert User.objects.get(username="tanaka.op").check_password(GOOD)


def test_without_a_password_source_it_refuses(monkeypatch):
    monkeypatch.delenv("CERTDESK_OPERATOR_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", StringIO(""))
    with pytest.raises(CommandError, match="no password"):
        create()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password", ["short1!", "password1234", "123456789012345", "tanaka.op-tanaka"]
)
def test_weak_passwords_are_refused_by_the_validators(password):
    with pytest.raises(CommandError, match="refused: weak_password: password:"):
        create(stdin=password)
    assert not User.objects.filter(username="tanaka.op").exists()


def test_a_duplicate_is_refused():
    create(stdin=GOOD)
    with pytest.raises(CommandError, match="refused: duplicate_user"):
        create(stdin=GOOD)
    with pytest.raises(CommandError, match="refused: duplicate_user"):
        call_command(
            "createoperator",
            "--username",
            "someone-else",
            "--email",
            "TANAKA@operator.example",
            "--name",
            "x",
            "--password-stdin",
            stdin=StringIO(GOOD),
        )
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--username", "x", "--email", "a@b.example", "--name", "n"], "invalid_username"),
        (["--username", "okname", "--email", "not-an-email", "--name", "n"], "invalid_email"),
        (["--username", "okname", "--email", "a@b.example", "--name", " "], "invalid_name"),
    ],
)
def test_malformed_fields_are_refused(args, code):
    with pytest.raises(CommandError, match=f"refused: {code}"):
        call_command("createoperator", *args, "--password-stdin", stdin=StringIO(GOOD))
