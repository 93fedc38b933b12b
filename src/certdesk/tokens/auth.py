"""Bearer authentication for the REST API: every router uses ``bearer`` and ``require_scope``.

Pass ``auth=bearer`` to a router or operation; in the view, ``request.auth`` (and
``request.user``) is the token's ``User`` and ``request.api_token`` the ``ApiToken``; call
``require_scope(request, "certificates:read")`` before reading or changing anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.digests import secret_digest
from certdesk.core.errors import PermissionDenied
from certdesk.tokens.models import ApiToken
from certdesk.tokens.scopes import SCOPES, scope_granted

if TYPE_CHECKING:
    from certdesk.accounts.models import User

TOKEN_PREFIX = "cdk_"
# Secrets are ``cdk_`` + 43 url-safe characters; anything far longer is not ours.
MAX_TOKEN_LENGTH = 200
# ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


token_hash = secret_digest


def _terms_pending(user: User, now: datetime) -> Any:
    try:
        from certdesk.terms.selectors import terms_pending_for
    except ImportError:
        return None
    return terms_pending_for(user=user, now=now)


def token_authenticate(*, secret: str, now: datetime, ip: str | None = None) -> ApiToken | None:
    """The usable token for ``secret``, with its user and account loaded, or None.

    Raises ``PermissionDenied`` (``account_disabled``) when the token is valid but its account
    is disabled, and (``terms_acceptance_required``) when new terms await acceptance.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__account")
        .filter(token_hash=token_hash(secret))
        .first()
    )
    if token is None or not token.is_usable_at(now):
        return None
    user = token.user
    if not user.is_active or user.account_id is None or user.account_id != token.account_id:
        return None
    if user.account.status == user.account.Status.DISABLED:
        raise PermissionDenied(
            _("This account is disabled. Please contact us for details."), code="account_disabled"
        )
    if _terms_pending(user, now) is not None:
        raise PermissionDenied(
            _(
                "New terms of use have been published. Please sign in to the portal and accept "
                "the new terms to continue using the API."
            ),
            code="terms_acceptance_required",
        )
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests of the same minute write once between them.
        ApiToken.objects.filter(pk=token.pk).exclude(
            last_used_at__gt=now - LAST_USED_RESOLUTION
        ).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at = now
        token.last_used_ip = ip
    return token


class TokenBearer(HttpBearer):
    """``Authorization: Bearer cdk_…``: a personal API token (create one in the portal)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_authenticate(
            secret=token.strip(), now=clock.now(), ip=client_ip(request)
        )
        if found is None:
            return None
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


bearer = TokenBearer()


def request_scopes(request: HttpRequest) -> list[str]:
    token: ApiToken | None = getattr(request, "api_token", None)
    return list(token.scopes) if token is not None else []


def require_scope(request: HttpRequest, scope: str) -> None:
    """Raise ``PermissionDenied`` (``insufficient_scope``) unless the request's token has
    ``scope`` (a ``…:write`` scope also grants the matching ``…:read``)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if not scope_granted(request_scopes(request), scope):
        raise PermissionDenied(
            format_lazy(_("This API token lacks the scope “{scope}” needed here."), scope=scope),
            code="insufficient_scope",
            extra={"required_scope": scope},
        )
