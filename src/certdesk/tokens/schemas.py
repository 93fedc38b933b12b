"""API schemas for tokens, and the problem document shape shared by our routers' docs."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from certdesk.tokens.scopes import ALL_SCOPES
from certdesk.tokens.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS

SCOPES_DOC = ", ".join(f"`{s}`" for s in ALL_SCOPES) + " (`…:write` implies `…:read`)"


class Problem(Schema):
    """RFC 7807 problem document; ``code`` is stable, ``detail`` is in the request's language."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    messages: dict[str, str]
    instance: str | None = None
    field: str | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    scopes: list[str]
    user: str = Field(description="Account ID of the user the token belongs to.")
    status: str = Field(description="`active`, `expired` or `revoked`.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="When the token last authenticated a request (to the minute)."
    )
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str = Field(
        description="The token itself (`cdk_…`). Shown only in this response: store it now."
    )


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class TokenCreateIn(Schema):
    name: str = Field(max_length=100, examples=["deploy script"])
    scopes: list[str] = Field(description=f"One or more of: {SCOPES_DOC}.", min_length=1)
    expires_in_days: int | None = Field(
        DEFAULT_EXPIRY_DAYS,
        ge=1,
        le=MAX_EXPIRY_DAYS,
        description="Days until the token expires; null for a token that does not expire.",
    )


class TokenRequestIn(Schema):
    username: str = Field(max_length=64, description="Your account ID.")
    password: str = Field(max_length=1024)
    otp: str | None = Field(
        None, max_length=16, description="The current TOTP code when two-factor sign-in is on."
    )
    name: str | None = Field(None, max_length=100, description="Default: `API (auth/token)`.")
    scopes: list[str] | None = Field(
        None, description=f"Default: every scope your role allows. Any of: {SCOPES_DOC}."
    )
    expires_in_days: int | None = Field(
        DEFAULT_EXPIRY_DAYS,
        ge=1,
        le=MAX_EXPIRY_DAYS,
        description="Days until the token expires (default 90); null for no expiry.",
    )
