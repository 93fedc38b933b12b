"""Reads of the certificate lifecycle for one account: products on sale, applications with
their validations, and one certificate with its lineage.

Every function takes the reading user and filters by their account, so an id of another
account reads exactly like an id that never existed. Lists are keyset pages on the
``(account, -id)`` indexes; each read is a fixed number of queries whatever the page or the
number of names holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certdesk.certificates.models import Application, ApplicationName, Certificate, Product

if TYPE_CHECKING:
    from certdesk.accounts.models import User

PAGE_SIZE = 50


def product_list_active() -> list[Product]:
    """The products on sale, in the operator's order."""
    return list(Product.objects.filter(is_active=True).order_by("sort_order", "id"))


def product_id_for_code(*, code: str) -> int | None:
    """The id of the product on sale with ``code``, or None."""
    if "\x00" in code:
        return None  # no code holds one, and PostgreSQL refuses to compare with it
    found: int | None = (
        Product.objects.filter(code=code, is_active=True).values_list("pk", flat=True).first()
    )
    return found


def application_list(
    *, user: User, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Application], int | None]:
    """A page of the account's applications, newest first (keyset on id);
    returns ``(items, next_cursor)``."""
    qs = (
        Application.objects.filter(account_id=user.account_id)
        .select_related("product", "created_by", "certificate")
        .order_by("-id")
    )
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    items = list(qs[: limit + 1])
    if len(items) > limit:
        return items[:limit], items[limit - 1].pk
    return items, None


def application_get(*, user: User, application_id: int) -> Application | None:
    """One application of the user's account, or None."""
    found: Application | None = (
        Application.objects.filter(pk=application_id, account_id=user.account_id)
        .select_related("product", "created_by", "certificate")
        .first()
    )
    return found


def application_names(*, application: Application) -> list[ApplicationName]:
    """The application's names in the CSR's order, each with its validation."""
    return list(application.dcv.select_related("validation").order_by("id"))


def certificate_get(*, user: User, certificate_id: int) -> Certificate | None:
    """One certificate of the user's account (any status), or None."""
    found: Certificate | None = (
        Certificate.objects.filter(pk=certificate_id, account_id=user.account_id)
        .select_related("product", "organization")
        .first()
    )
    return found


def certificate_renewed_by(*, certificate: Certificate) -> list[int]:
    """Ids of the certificates issued as renewals of ``certificate``, oldest first."""
    return list(
        Certificate.objects.filter(renewal_of=certificate, account_id=certificate.account_id)
        .order_by("id")
        .values_list("pk", flat=True)
    )
