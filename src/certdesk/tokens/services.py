"""Writes for personal API tokens: create (secret returned once) and revoke."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import User
from certdesk.audit.services import audit_record
from certdesk.core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from certdesk.tokens.auth import TOKEN_PREFIX, token_hash
from certdesk.tokens.models import ApiToken
from certdesk.tokens.scopes import (
    ALL_SCOPES,
    READ_SCOPES,
    scope_granted,
    scopes_normalize,
    scopes_unknown,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

SECRET_BYTES = 32
PREFIX_LENGTH = 12  # "cdk_" + 8 characters: enough to tell tokens apart, useless to guess
MAX_EXPIRY_DAYS = 3650
DEFAULT_EXPIRY_DAYS = 90
MAX_ACTIVE_TOKENS_PER_USER = 50


@dataclass(frozen=True)
class CreatedToken:
    """A new token and its secret; the secret exists only here and is never stored."""

    token: ApiToken
    secret: str


def scopes_allowed_for(user: User) -> tuple[str, ...]:
    """The scopes ``user``'s role lets them put on a token (read-only members: read scopes)."""
    return READ_SCOPES if user.role == user.Role.READ_ONLY else ALL_SCOPES


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Give the token a name."), code="name_required", field="name")
    if len(name) > 100:
        raise InvalidInput(
            _("The name is too long: at most 100 characters."), code="name_too_long", field="name"
        )
    return name


def _clean_scopes(
    *, user: User, scopes: Iterable[str], granted_by: Iterable[str] | None
) -> list[str]:
    scopes = list(scopes)
    unknown = scopes_unknown(scopes)
    if unknown:
        raise InvalidInput(
            format_lazy(_("Unknown scope: {scope}"), scope=unknown[0]),
            code="scope_unknown",
            field="scopes",
        )
    cleaned = scopes_normalize(scopes)
    if not cleaned:
        raise InvalidInput(_("Choose at least one scope."), code="scopes_required", field="scopes")
    allowed = scopes_allowed_for(user)
    for scope in cleaned:
        if scope not in allowed:
            raise InvalidInput(
                format_lazy(
                    _("Your role allows read scopes only; “{scope}” is not allowed."), scope=scope
                ),
                code="scope_not_allowed",
                field="scopes",
            )
    if granted_by is not None:
        granted = list(granted_by)
        for scope in cleaned:
            if not scope_granted(granted, scope):
                raise InvalidInput(
                    format_lazy(
                        _(
                            "A token can only create tokens with scopes it has itself; "
                            "“{scope}” is missing."
                        ),
                        scope=scope,
                    ),
                    code="scope_not_allowed",
                    field="scopes",
                )
    return cleaned


def _expiry(expires_in_days: int | None, now: datetime) -> datetime | None:
    if expires_in_days is None:
        return None
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(
            format_lazy(_("The expiry must be between 1 and {max} days."), max=MAX_EXPIRY_DAYS),
            code="expiry_out_of_range",
            field="expires_in_days",
        )
    return now + timedelta(days=expires_in_days)


def token_create(
    *,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_in_days: int | None,
    now: datetime,
    granted_by: Iterable[str] | None = None,
    request: HttpRequest | None = None,
) -> CreatedToken:
    """Create a personal API token for ``user``; return it with its one-time secret.

    ``granted_by`` is the scope list of the token making the request, when a token creates a
    token: the new one may not exceed it. Raises ``InvalidInput`` (``name_required``,
    ``name_too_long``, ``scope_unknown``, ``scopes_required``, ``scope_not_allowed``,
    ``expiry_out_of_range``), ``PermissionDenied`` (user without account or inactive) and
    ``Conflict`` (``too_many_tokens``).
    """
    if user.account_id is None or not user.is_active:
        raise PermissionDenied(_("Only members of a customer account can create API tokens."))
    clean_name = _clean_name(name)
    clean_scopes = _clean_scopes(user=user, scopes=scopes, granted_by=granted_by)
    expires_at = _expiry(expires_in_days, now)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        # Lock the user row so that two concurrent creations cannot both pass the cap.
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = (
            ApiToken.objects.filter(user=user, revoked_at__isnull=True)
            .exclude(expires_at__lte=now)
            .count()
        )
        if active >= MAX_ACTIVE_TOKENS_PER_USER:
            raise Conflict(
                format_lazy(
                    _("You already have {max} active tokens. Revoke one you no longer use."),
                    max=MAX_ACTIVE_TOKENS_PER_USER,
                ),
                code="too_many_tokens",
            )
        token = ApiToken.objects.create(
            user=user,
            account_id=user.account_id,
            name=clean_name,
            token_hash=token_hash(secret),
            prefix=secret[:PREFIX_LENGTH],
            scopes=clean_scopes,
            created_at=now,
            expires_at=expires_at,
        )
        audit_record(
            action="token.created",
            account=user.account,
            actor=user,
            target=token,
            data={
                "name": clean_name,
                "prefix": token.prefix,
                "scopes": clean_scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
            request=request,
            now=now,
        )
    return CreatedToken(token=token, secret=secret)


def token_revoke(
    *, actor: User, token_id: int, now: datetime, request: HttpRequest | None = None
) -> ApiToken:
    """Revoke a token: the actor's own, or any of the account's when the actor manages it.

    Revoking an already revoked token changes nothing. Raises ``NotFound`` for a token the
    actor cannot see (another account's, or a colleague's when the actor is no manager).
    """
    from certdesk.tokens.selectors import token_visible_queryset

    with transaction.atomic():
        token = token_visible_queryset(user=actor).select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound(_("This API token does not exist."), code="token_not_found")
        if token.revoked_at is not None:
            return token
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="token.revoked",
            account=actor.account,
            actor=actor,
            target=token,
            data={"name": token.name, "prefix": token.prefix, "owner": token.user_id},
            request=request,
            now=now,
        )
    return token


def tokens_revoke_for_user(
    *, user: User, actor: User | None, now: datetime, request: HttpRequest | None = None
) -> int:
    """Revoke every unrevoked token of ``user`` (a member being removed); return how many.

    Call inside the caller's transaction; each revocation is audited.
    """
    count = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="token.revoked",
            account=user.account,
            actor=actor,
            target=token,
            data={
                "name": token.name,
                "prefix": token.prefix,
                "owner": user.pk,
                "reason": "member_removed",
            },
            request=request,
            now=now,
        )
        count += 1
    return count


# Sign-ins through ``POST /api/v1/auth/token`` share one device identity: a client has no
# device cookie, so a new IP address is what makes such a sign-in unusual (article 2.4).
API_DEVICE_ID = "api:auth/token"


def _second_factor(*, user: User, otp: str | None, ip: str | None, now: datetime) -> str:
    """How the sign-in was completed: ``password``, ``totp`` or ``recovery_code``."""
    from certdesk.accounts.services import login_second_factor
    from certdesk.mfa.services import mfa_enabled

    if not mfa_enabled(user):
        return "password"
    if not otp:
        raise AuthenticationFailed(
            _("This user signs in with a second factor: send the current code as “otp”."),
            code="otp_required",
            field="otp",
        )
    try:
        # Checks the lockout, and counts a wrong code as a failed sign-in.
        return login_second_factor(user=user, code=otp, ip=ip, now=now)
    except AuthenticationFailed as exc:
        raise AuthenticationFailed(exc.message, code=exc.code, field="otp") from None


def token_issue_for_credentials(
    *,
    username: str,
    password: str,
    otp: str | None,
    name: str | None,
    scopes: Iterable[str] | None,
    expires_in_days: int | None,
    ip: str | None,
    user_agent: str,
    now: datetime,
    request: HttpRequest | None = None,
) -> CreatedToken:
    """Sign in with account ID, password (and TOTP or recovery code when two-factor sign-in is
    on) and create a token with, by default, every scope the user's role allows.

    Raises what ``certdesk.accounts.services.credentials_check`` raises (``RateLimited``
    ``login_locked`` with ``retry_after``, ``AuthenticationFailed`` ``invalid_credentials``,
    ``PermissionDenied`` ``account_disabled``), ``AuthenticationFailed`` (``otp_required``,
    ``otp_invalid``), ``PermissionDenied`` (operators) and what ``token_create`` raises.
    """
    from certdesk.accounts.services import credentials_check, user_signed_in

    user = credentials_check(username=username, password=password, ip=ip, now=now)
    method = _second_factor(user=user, otp=otp, ip=ip, now=now)
    if user.account_id is None:
        raise PermissionDenied(_("Only members of a customer account can create API tokens."))
    with transaction.atomic():
        created = token_create(
            user=user,
            name=name or "API (auth/token)",
            scopes=scopes if scopes is not None else scopes_allowed_for(user),
            expires_in_days=expires_in_days,
            now=now,
            request=request,
        )
        user_signed_in(
            user=user,
            ip=ip,
            user_agent=user_agent,
            device_id=API_DEVICE_ID,
            method=method,
            now=now,
        )
    return created
