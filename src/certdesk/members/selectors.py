"""Reads for members and invitations, always scoped to one account."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from certdesk.accounts.models import Account, User
from certdesk.members.models import Invitation

PAGE_SIZE = 100


def member_list(
    *, account: Account, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[User], int | None]:
    """A page of the account's active users, oldest first (keyset on id);
    returns ``(items, next_cursor)``."""
    qs = User.objects.filter(account=account, is_active=True).order_by("id")
    if cursor is not None:
        qs = qs.filter(id__gt=cursor)
    items = list(qs[: limit + 1])
    if len(items) > limit:
        return items[:limit], items[limit - 1].pk
    return items, None


def member_get(*, account: Account, member_id: int) -> User | None:
    return User.objects.filter(account=account, is_active=True, pk=member_id).first()


def invitation_open_queryset(*, account: Account) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        account=account, accepted_at__isnull=True, revoked_at__isnull=True
    )


def invitation_list_open(
    *, account: Account, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Invitation], int | None]:
    """A page of the account's open invitations (expired ones included, so they can be
    re-sent or revoked), newest first; returns ``(items, next_cursor)``."""
    qs = invitation_open_queryset(account=account).select_related("invited_by").order_by("-id")
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    items = list(qs[: limit + 1])
    if len(items) > limit:
        return items[:limit], items[limit - 1].pk
    return items, None


def invitation_get(*, account: Account, invitation_id: int) -> Invitation | None:
    return (
        Invitation.objects.select_related("invited_by")
        .filter(account=account, pk=invitation_id)
        .first()
    )


def invitation_is_expired(invitation: Invitation, now: datetime) -> bool:
    return invitation.expires_at <= now
