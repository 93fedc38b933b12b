"""REST API: personal API tokens (``/api/v1/account/tokens``) and ``POST /api/v1/auth/token``."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import NotFound
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.models import ApiToken
from certdesk.tokens.schemas import (
    Problem,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    TokenPage,
    TokenRequestIn,
)
from certdesk.tokens.selectors import PAGE_SIZE, token_get, token_list
from certdesk.tokens.services import token_create, token_issue_for_credentials, token_revoke

router = Router(tags=["tokens"], auth=bearer)
auth_router = Router(tags=["auth"])

ERRORS = {401: Problem, 403: Problem, 404: Problem}


class PageQuery(Schema):
    cursor: int | None = NinjaField(None, description="`next_cursor` of the previous page.")
    limit: int = NinjaField(PAGE_SIZE, ge=1, le=PAGE_SIZE)


def token_out(token: ApiToken, *, now: datetime | None = None) -> dict[str, object]:
    at = clock.now() if now is None else now
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "user": token.user.username,
        "status": token.status_at(at),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.get(
    "",
    response={200: TokenPage, **ERRORS},
    summary="List API tokens",
    description=(
        "Your own tokens, newest first; owners and administrators see every token of the "
        "account. Scope `account:read`. Secrets are never shown again."
    ),
)
def tokens_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    require_scope(request, S.ACCOUNT_READ)
    items, next_cursor = token_list(user=request.auth, cursor=page.cursor, limit=page.limit)
    now = clock.now()
    return {"items": [token_out(t, now=now) for t in items], "next_cursor": next_cursor}


@router.post(
    "",
    response={201: TokenCreatedOut, 409: Problem, 422: Problem, **ERRORS},
    summary="Create an API token",
    description=(
        "Creates a personal token for the calling user. Scope `account:write`; the new token "
        "may only carry scopes the calling token has, and read-only members may only create "
        "read scopes. The `secret` is in this response only."
    ),
)
def tokens_create(request: HttpRequest, payload: TokenCreateIn) -> Status[dict[str, object]]:
    require_scope(request, S.ACCOUNT_WRITE)
    now = clock.now()
    created = token_create(
        user=request.auth,
        name=payload.name,
        scopes=payload.scopes,
        expires_in_days=payload.expires_in_days,
        granted_by=request.api_token.scopes,  # type: ignore[attr-defined]
        now=now,
        request=request,
    )
    return Status(201, {**token_out(created.token, now=now), "secret": created.secret})


@router.get(
    "/{token_id}",
    response={200: TokenOut, **ERRORS},
    summary="Show an API token",
    description="Scope `account:read`.",
)
def tokens_get(request: HttpRequest, token_id: int) -> dict[str, object]:
    require_scope(request, S.ACCOUNT_READ)
    token = token_get(user=request.auth, token_id=token_id)
    if token is None:
        raise NotFound(code="token_not_found")
    return token_out(token)


@router.delete(
    "/{token_id}",
    response={204: None, **ERRORS},
    summary="Revoke an API token",
    description=(
        "The token stops working at once. Your own tokens, or (owners and administrators) any "
        "token of the account. Scope `account:write`."
    ),
)
def tokens_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    require_scope(request, S.ACCOUNT_WRITE)
    token_revoke(actor=request.auth, token_id=token_id, now=clock.now(), request=request)
    return Status(204, None)


@auth_router.post(
    "/token",
    response={201: TokenCreatedOut, 401: Problem, 403: Problem, 422: Problem, 429: Problem},
    auth=None,
    summary="Create an API token with account ID and password",
    description=(
        "Signs in with `username` and `password` (and `otp`, the current TOTP code, when "
        "two-factor authentication is on) and returns a new personal token, by default with "
        "every scope your role allows and a 90-day expiry. Failed attempts count towards the "
        "sign-in lockout: a locked account ID answers 429 with `Retry-After`. Errors: "
        "`authentication_failed`, `otp_required`, `otp_invalid` (401), `rate_limited` (429)."
    ),
)
def auth_token(request: HttpRequest, payload: TokenRequestIn) -> Status[dict[str, object]]:
    now = clock.now()
    created = token_issue_for_credentials(
        username=payload.username,
        password=payload.password,
        otp=payload.otp,
        name=payload.name,
        scopes=payload.scopes,
        expires_in_days=payload.expires_in_days,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        now=now,
        request=request,
    )
    return Status(201, {**token_out(created.token, now=now), "secret": created.secret})
