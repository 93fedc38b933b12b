"""The certdesk error tree.

Every refusal a user can meet is a ``CertdeskError`` subclass carrying a stable ``code``, the
HTTP ``status`` it maps to and a translatable message. ``certdesk.core.problems`` turns one
into RFC 7807 problem JSON (API) and ``ErrorMappingMiddleware`` into a page (portal); nothing
else maps errors to HTTP.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class CertdeskError(Exception):
    """Base class: a refusal with a stable code, an HTTP status and a bilingual message."""

    status: int = 400
    code: str = "bad_request"
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        self.field = field
        self.extra = extra or {}
        super().__init__(str(self.message))


class InvalidInput(CertdeskError):
    """The request's content breaks a rule; ``field`` names the offending field."""

    status = 422
    code = "invalid_input"
    default_message = _("Some fields are not valid.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field, extra=extra)
        self.errors = errors or []


class AuthenticationFailed(CertdeskError):
    status = 401
    code = "authentication_failed"
    default_message = _("Authentication failed.")


class PermissionDenied(CertdeskError):
    status = 403
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class NotFound(CertdeskError):
    status = 404
    code = "not_found"
    default_message = _("The requested resource does not exist.")


class Conflict(CertdeskError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class Gone(CertdeskError):
    status = 410
    code = "gone"
    default_message = _("This link is no longer valid.")


class RateLimited(CertdeskError):
    """Too many attempts; ``retry_after`` seconds until the next one is allowed."""

    status = 429
    code = "rate_limited"
    default_message = _("Too many attempts. Please try again later.")

    def __init__(
        self, message: str | Promise | None = None, *, retry_after: int, code: str | None = None
    ) -> None:
        super().__init__(message, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(CertdeskError):
    status = 503
    code = "service_unavailable"
    default_message = _("The service is temporarily unavailable.")

    def __init__(
        self, message: str | Promise | None = None, *, retry_after: int, code: str | None = None
    ) -> None:
        super().__init__(message, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after
