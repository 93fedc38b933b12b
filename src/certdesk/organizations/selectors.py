"""Reads for organisations. Customers see only their own account's (tenant-scoped here, in one
place); the operator's queue is keyset-paged, oldest first, on the ``(status, id)`` index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from certdesk.organizations.models import Organization

if TYPE_CHECKING:
    from certdesk.accounts.models import Account, User

PAGE_SIZE = 50


def organization_visible_queryset(*, user: User) -> QuerySet[Organization]:
    """The organisations of the user's account (none for operators and strangers)."""
    if user.account_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(account_id=user.account_id)


def organization_list(
    *, user: User, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Organization], int | None]:
    """A page of the account's organisations, newest first (keyset on id); returns
    ``(items, next_cursor)``."""
    qs = organization_visible_queryset(user=user).order_by("-id")
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    items = list(qs[: limit + 1])
    if len(items) > limit:
        return items[:limit], items[limit - 1].pk
    return items, None


def organization_get(*, user: User, organization_id: int) -> Organization | None:
    """One organisation of the user's account, or None (also for another account's id)."""
    return organization_visible_queryset(user=user).filter(pk=organization_id).first()


def organization_choices(
    *, account: Account, verified_only: bool = False
) -> QuerySet[Organization]:
    """The organisations an application of ``account`` may name, by Japanese name."""
    qs = Organization.objects.filter(account=account)
    if verified_only:
        qs = qs.filter(status=Organization.Status.VERIFIED)
    return qs.order_by("name_ja", "id")


def organization_review_queue(
    *, status: str = Organization.Status.PENDING, after: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[Organization], int | None]:
    """Organisations in ``status`` for the operator, oldest first (keyset on id, the
    ``(status, id)`` index); returns ``(items, next_cursor)``."""
    qs = Organization.objects.filter(status=status).select_related("account").order_by("id")
    if after is not None:
        qs = qs.filter(id__gt=after)
    items = list(qs[: size + 1])
    if len(items) > size:
        return items[:size], items[size - 1].pk
    return items, None


def organization_for_review(*, organization_id: int) -> Organization | None:
    """Any organisation, for the operator, with its account and the people named on it."""
    return (
        Organization.objects.select_related("account", "created_by", "verified_by")
        .filter(pk=organization_id)
        .first()
    )
