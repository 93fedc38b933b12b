"""Indexes behind the certificate history search (``certdesk.certificates.selectors``).

* ``cert_account_issued``: the default order, newest issued first, as a keyset range per
  account (``cert_account_expiry`` already serves the expiry order).
* ``cert_account_revoked`` and ``cert_account_live_expiry``: partial indexes for the two
  status filters that a full index serves badly — "revoked" (a few percent of the rows:
  without it a page walks past dozens of rows per hit) and "valid by expiry" (the dashboard
  and renewal planning: the unrevoked certificates from now on, in expiry order).
* ``certname_certificate_name``: a certificate's names with the names themselves, so that
  checking a certificate for a name containing a text reads the index alone.
* ``certname_account_name_cert``: an account's names with their certificates, so that
  scanning an account's names for a text (SQLite, when the text is common everywhere) and
  host coverage read the index alone. It makes ``certname_account_name`` redundant.
* A trigram index over certificate names for "names containing …" (see
  ``certdesk.certificates.trigram``): on PostgreSQL a GIN index on ``(account_id, name)``
  (``btree_gin`` for the account, ``pg_trgm`` for the name), on SQLite an FTS5 table with
  the ``trigram`` tokenizer that triggers keep in step with the names. Where the database
  cannot have one (the extensions are missing or may not be created; an SQLite built
  without FTS5) the migration leaves it out and search scans instead.

Beware on SQLite: rebuilding ``certificates_certificatename`` (what Django does for most
``AlterField``s there) drops its triggers; the search then stops using the FTS table (it checks
for the triggers) until a migration creates them again and rebuilds it.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations, models, transaction

PG_INDEX = "certname_account_name_trgm"
FTS_TABLE = "certificates_certname_trigram"
TRIGGERS = ("certname_trigram_ai", "certname_trigram_ad", "certname_trigram_au")


def _names_table(apps: Any) -> str:
    return apps.get_model("certificates", "CertificateName")._meta.db_table


def create_trigram_index(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    table = _names_table(apps)
    if connection.vendor == "postgresql":
        _create_pg(connection, table)
    elif connection.vendor == "sqlite":
        _create_sqlite(connection, table)


def _create_pg(connection: Any, table: str) -> None:
    with connection.cursor() as cursor:
        for extension in ("pg_trgm", "btree_gin"):
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [extension])
            if cursor.fetchone() is not None:
                continue
            try:
                # A savepoint: a refused CREATE EXTENSION must not abort the migration.
                with transaction.atomic(using=connection.alias):
                    cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
            except DatabaseError:
                print(  # noqa: T201 - migrate's console
                    f"\n  {extension} is not available: name substring search will scan instead."
                )
                return
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS {PG_INDEX} ON "{table}" '
            "USING gin (account_id, name gin_trgm_ops)"
        )


def _create_sqlite(connection: Any, table: str) -> None:
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(
                    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(name, content='{table}', "
                    "content_rowid='id', tokenize='trigram')"
                )
        except DatabaseError:
            print(  # noqa: T201 - migrate's console
                "\n  SQLite lacks FTS5 trigrams: name substring search will scan instead."
            )
            return
        # Identifiers below are this module's constants and the model's table: no input.
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
        insert, delete, update = TRIGGERS
        cursor.execute(
            f'CREATE TRIGGER {insert} AFTER INSERT ON "{table}" BEGIN '  # noqa: S608
            f"INSERT INTO {FTS_TABLE}(rowid, name) VALUES (new.id, new.name); END"
        )
        cursor.execute(
            f'CREATE TRIGGER {delete} AFTER DELETE ON "{table}" BEGIN '  # noqa: S608
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name) "
            "VALUES ('delete', old.id, old.name); END"
        )
        cursor.execute(
            f'CREATE TRIGGER {update} AFTER UPDATE ON "{table}" BEGIN '  # noqa: S608
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name) "
            "VALUES ('delete', old.id, old.name); "
            f"INSERT INTO {FTS_TABLE}(rowid, name) VALUES (new.id, new.name); END"
        )


def drop_trigram_index(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif connection.vendor == "sqlite":
            for trigger in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0004_default_products"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(fields=["account", "issued_at", "id"], name="cert_account_issued"),
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(
                fields=["account", "issued_at", "id"],
                name="cert_account_revoked",
                condition=models.Q(revoked_at__isnull=False),
            ),
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(
                fields=["account", "not_after", "id"],
                name="cert_account_live_expiry",
                condition=models.Q(revoked_at__isnull=True),
            ),
        ),
        migrations.AddIndex(
            model_name="certificatename",
            index=models.Index(fields=["certificate", "name"], name="certname_certificate_name"),
        ),
        migrations.AddIndex(
            model_name="certificatename",
            index=models.Index(
                fields=["account", "name", "certificate"], name="certname_account_name_cert"
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
