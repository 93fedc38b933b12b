"""Which of an account's certificates have a name containing a text — when few do.

A substring (``LIKE '%shop%'``) cannot use a B-tree index. Migration 0005 adds a trigram
index over ``CertificateName``: on PostgreSQL a GIN index on ``(account_id, name)`` (pg_trgm
for the name), on SQLite an FTS5 table with the ``trigram`` tokenizer, kept in step by
triggers. They find the few names that contain a rare text quickly, however large the
account. A text that many of the account's names contain needs no index: walking the
account's certificates in page order fills a page after a short walk. ``matching_certificate_ids``
tells the two cases apart by fetching at most ``cap`` matching names.

Where the index could not be made (no extension, SQLite without FTS5) the same functions
answer by scanning the account's names.
"""

from __future__ import annotations

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from certdesk.accounts.models import Account
from certdesk.certificates.models import CertificateName

# Names of what migration 0005 creates.
PG_INDEX = "certname_account_name_trgm"
SQLITE_TABLE = "certificates_certname_trigram"
SQLITE_TRIGGERS = ("certname_trigram_ai", "certname_trigram_ad", "certname_trigram_au")
# Trigram indexes cannot help below three characters.
MIN_LENGTH = 3
# On SQLite an account with fewer names than this is scanned rather than asked through FTS.
SQLITE_SMALL_ACCOUNT = 20_000

_available: dict[str, bool] = {}


def trigram_available(connection: BaseDatabaseWrapper) -> bool:
    """Whether the database behind ``connection`` has the trigram index (asked once)."""
    known = _available.get(connection.alias)
    if known is not None:
        return known
    found = False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            found = cursor.fetchone() is not None
        elif connection.vendor == "sqlite":
            # Without its triggers (a table rebuild drops them) the FTS table goes stale.
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE (type = 'table' AND name = %s) "
                "OR (type = 'trigger' AND name IN (%s, %s, %s))",
                [SQLITE_TABLE, *SQLITE_TRIGGERS],
            )
            found = cursor.fetchone()[0] == 1 + len(SQLITE_TRIGGERS)
    _available[connection.alias] = found
    return found


def trigram_forget() -> None:
    """Ask again next time (after migrating, or in tests that drop the index)."""
    _available.clear()


def _sqlite_global_candidates(
    connection: BaseDatabaseWrapper, text: str, cap: int
) -> list[int] | None:
    """Ids of every name (any account) containing ``text`` through the FTS table, if fewer
    than ``cap``; None when there are more, or the FTS table cannot answer."""
    if any(c in text for c in "%_\\") or not trigram_available(connection):
        # FTS5's LIKE has no ESCAPE; certificate names never contain these characters.
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SQLITE_TABLE} WHERE name LIKE %s LIMIT %s",  # noqa: S608
            [f"%{text}%", cap],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) < cap else None


def matching_certificate_ids(
    *, account: Account, text: str, cap: int, using: str = "default"
) -> set[int] | None:
    """Ids of ``account``'s certificates with a name containing ``text`` (literally: ``%``
    and ``_`` are no wildcards), if fewer than ``cap`` of its names do; None when at least
    ``cap`` do, or ``text`` is shorter than three characters — then a walk in page order
    finds a page of them sooner. One or two queries (up to four on SQLite).
    """
    connection = connections[using]
    if len(text) < MIN_LENGTH:
        # One or two characters ("jp", "my") are in most names: no index narrows them.
        return None
    names = CertificateName.objects.using(using).filter(account=account)
    if (
        connection.vendor == "sqlite"
        and names[:SQLITE_SMALL_ACCOUNT].count() >= SQLITE_SMALL_ACCOUNT
    ):
        # FTS5 cannot narrow by account: for a large account, ask it first whether the text
        # is rare everywhere (a small account's names are scanned faster than FTS answers).
        candidates = _sqlite_global_candidates(connection, text, cap)
        if candidates is not None:
            return set(names.filter(id__in=candidates).values_list("certificate_id", flat=True))
    matching = names.filter(name__contains=text)
    found = list(matching.values_list("certificate_id", flat=True)[:cap])
    return set(found) if len(found) < cap else None
