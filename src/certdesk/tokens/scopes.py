"""API token scopes: the one list, with human labels; ``…:write`` implies ``…:read``."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACCOUNT_READ = "account:read"
ACCOUNT_WRITE = "account:write"
CERTIFICATES_READ = "certificates:read"
CERTIFICATES_WRITE = "certificates:write"
BILLING_READ = "billing:read"

SCOPES: dict[str, str | Promise] = {
    ACCOUNT_READ: _("Read account data, members and tokens"),
    ACCOUNT_WRITE: _("Change account data, members and tokens"),
    CERTIFICATES_READ: _("Search and download certificates"),
    CERTIFICATES_WRITE: _("Apply for, renew and revoke certificates"),
    BILLING_READ: _("Read invoices and payments"),
}
ALL_SCOPES: tuple[str, ...] = tuple(SCOPES)
READ_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s.endswith(":read"))


def scope_choices() -> list[tuple[str, str | Promise]]:
    """``(scope, label)`` pairs for forms."""
    return list(SCOPES.items())


def scopes_normalize(scopes: Iterable[str]) -> list[str]:
    """Deduplicate and order ``scopes`` as in ``SCOPES``; unknown names are dropped by callers
    that validate first (see ``scopes_unknown``)."""
    wanted = set(scopes)
    return [s for s in ALL_SCOPES if s in wanted]


def scopes_unknown(scopes: Iterable[str]) -> list[str]:
    """The names in ``scopes`` that are not scopes, in the order given."""
    return [s for s in scopes if s not in SCOPES]


def scope_granted(granted: Iterable[str], scope: str) -> bool:
    """True when ``granted`` contains ``scope``, or the write scope that implies it."""
    have = set(granted)
    if scope in have:
        return True
    resource, _sep, level = scope.partition(":")
    return level == "read" and f"{resource}:write" in have


def scope_is_write(scope: str) -> bool:
    return not scope.endswith(":read")
