"""REST API: members and invitations of the caller's account (``/api/v1/account/members``).

Accepting an invitation is portal-only: the invitee has no token yet, and chooses their
account ID and password and accepts the terms in the browser, from the emailed link.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from certdesk.accounts.models import User
from certdesk.core import clock
from certdesk.core.errors import NotFound
from certdesk.members.models import Invitation
from certdesk.members.selectors import (
    PAGE_SIZE,
    invitation_get,
    invitation_list_open,
    member_get,
    member_list,
)
from certdesk.members.services import (
    invitation_revoke,
    member_invite,
    member_remove,
    member_role_change,
    require_manager,
)
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.schemas import Problem

router = Router(tags=["members"], auth=bearer)

ERRORS = {401: Problem, 403: Problem, 404: Problem}
ROLES_DOC = "`owner`, `admin`, `member` or `read_only`"


class MemberOut(Schema):
    id: int
    username: str = Field(description="The member's account ID.")
    full_name: str
    email: str
    role: str = Field(description=ROLES_DOC)
    date_joined: datetime
    last_login: datetime | None


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: int | None


class InvitationOut(Schema):
    id: int
    email: str
    role: str = Field(description=ROLES_DOC)
    language: str = Field(description="Language of the invitation email: `ja` or `en`.")
    status: str = Field(description="`pending`, `expired`, `accepted` or `revoked`.")
    invited_by: str | None = Field(description="Account ID of the inviter.")
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: int | None


class InviteIn(Schema):
    email: str = Field(max_length=254, examples=["hanako@example.co.jp"])
    role: str = Field(description=ROLES_DOC + "; only an owner may invite owners and admins.")
    language: str | None = Field(
        None, description="Language of the email (`ja`, `en`); default: yours."
    )


class RoleIn(Schema):
    role: str = Field(description=ROLES_DOC + "; only an owner may appoint owners and admins.")


class PageQuery(Schema):
    cursor: int | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE)


def member_out(user: User) -> dict[str, object]:
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def invitation_out(invitation: Invitation, now: datetime) -> dict[str, object]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "language": invitation.language,
        "status": invitation.status_at(now),
        "invited_by": invitation.invited_by.username if invitation.invited_by else None,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "accepted_at": invitation.accepted_at,
        "revoked_at": invitation.revoked_at,
    }


def _reader(request: HttpRequest) -> User:
    require_scope(request, S.ACCOUNT_READ)
    user: User = request.auth  # type: ignore[attr-defined]
    require_manager(user)
    return user


def _writer(request: HttpRequest) -> User:
    require_scope(request, S.ACCOUNT_WRITE)
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get(
    "/invitations",
    response={200: InvitationPage, **ERRORS},
    summary="List open invitations",
    description="Pending and expired, not yet accepted or revoked. Owners and admins; "
    "scope `account:read`.",
)
def invitations_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    user = _reader(request)
    items, next_cursor = invitation_list_open(
        account=user.account, cursor=page.cursor, limit=page.limit
    )
    now = clock.now()
    return {"items": [invitation_out(i, now) for i in items], "next_cursor": next_cursor}


@router.get(
    "/invitations/{invitation_id}",
    response={200: InvitationOut, **ERRORS},
    summary="Show an invitation",
    description="Owners and admins; scope `account:read`.",
)
def invitations_get(request: HttpRequest, invitation_id: int) -> dict[str, object]:
    user = _reader(request)
    invitation = invitation_get(account=user.account, invitation_id=invitation_id)
    if invitation is None:
        raise NotFound(code="invitation_not_found")
    return invitation_out(invitation, clock.now())


@router.delete(
    "/invitations/{invitation_id}",
    response={204: None, 409: Problem, **ERRORS},
    summary="Revoke an invitation",
    description="Its link stops working at once. Owners and admins; scope `account:write`.",
)
def invitations_revoke(request: HttpRequest, invitation_id: int) -> Status[None]:
    user = _writer(request)
    invitation_revoke(actor=user, invitation_id=invitation_id, now=clock.now(), request=request)
    return Status(204, None)


@router.get(
    "",
    response={200: MemberPage, **ERRORS},
    summary="List members",
    description="Active users of the account, oldest first. Owners and admins; "
    "scope `account:read`.",
)
def members_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    user = _reader(request)
    items, next_cursor = member_list(account=user.account, cursor=page.cursor, limit=page.limit)
    return {"items": [member_out(m) for m in items], "next_cursor": next_cursor}


@router.post(
    "",
    response={201: InvitationOut, 422: Problem, 429: Problem, **ERRORS},
    summary="Invite a member",
    description=(
        "Emails the address a single-use link, valid for 7 days, to join the account with "
        "the role; the invitee chooses their own account ID and password in the portal. "
        "Inviting an address again replaces its previous link. Owners and admins; only an "
        "owner may invite owners and admins. Scope `account:write`."
    ),
)
def members_invite(request: HttpRequest, payload: InviteIn) -> Status[dict[str, object]]:
    user = _writer(request)
    now = clock.now()
    invitation = member_invite(
        actor=user,
        email=payload.email,
        role=payload.role,
        language=payload.language,
        now=now,
        request=request,
    )
    return Status(201, invitation_out(invitation, now))


@router.get(
    "/{member_id}",
    response={200: MemberOut, **ERRORS},
    summary="Show a member",
    description="Owners and admins; scope `account:read`.",
)
def members_get(request: HttpRequest, member_id: int) -> dict[str, object]:
    user = _reader(request)
    member = member_get(account=user.account, member_id=member_id)
    if member is None:
        raise NotFound(code="member_not_found")
    return member_out(member)


@router.patch(
    "/{member_id}",
    response={200: MemberOut, 409: Problem, 422: Problem, **ERRORS},
    summary="Change a member's role",
    description=(
        "Nobody changes their own role; the account always keeps an active owner "
        "(`last_owner`). Owners and admins; only an owner changes owners and admins or "
        "appoints them. Scope `account:write`."
    ),
)
def members_update(request: HttpRequest, member_id: int, payload: RoleIn) -> dict[str, object]:
    user = _writer(request)
    member = member_role_change(
        actor=user, member_id=member_id, role=payload.role, now=clock.now(), request=request
    )
    return member_out(member)


@router.delete(
    "/{member_id}",
    response={204: None, 409: Problem, **ERRORS},
    summary="Remove a member",
    description=(
        "The user can no longer sign in and their API tokens are revoked; the record stays "
        "for the audit trail. The last active owner cannot be removed (`last_owner`), nor "
        "yourself (`remove_self`). Owners and admins; scope `account:write`."
    ),
)
def members_remove(request: HttpRequest, member_id: int) -> Status[None]:
    user = _writer(request)
    member_remove(actor=user, member_id=member_id, now=clock.now(), request=request)
    return Status(204, None)
