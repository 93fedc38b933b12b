"""Reads for personal API tokens, always scoped to the reader's account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from certdesk.tokens.models import ApiToken

if TYPE_CHECKING:
    from certdesk.accounts.models import User

PAGE_SIZE = 50


def token_visible_queryset(*, user: User) -> QuerySet[ApiToken]:
    """The tokens ``user`` may see: their own, or all of the account's for owners and admins."""
    if user.account_id is None:
        return ApiToken.objects.none()
    qs = ApiToken.objects.filter(account_id=user.account_id)
    if not user.can_manage_account():
        qs = qs.filter(user_id=user.pk)
    return qs


def token_list(
    *, user: User, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[ApiToken], int | None]:
    """A page of visible tokens, newest first (keyset on id); returns ``(items, next_cursor)``."""
    qs = token_visible_queryset(user=user).select_related("user").order_by("-id")
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    items = list(qs[: limit + 1])
    if len(items) > limit:
        return items[:limit], items[limit - 1].pk
    return items, None


def token_get(*, user: User, token_id: int) -> ApiToken | None:
    return token_visible_queryset(user=user).select_related("user").filter(pk=token_id).first()
