"""Cross-cutting middleware: security headers and the portal/API error mapping."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from certdesk.core.errors import CertdeskError
from certdesk.core.problems import (
    PROBLEM_CONTENT_TYPE,
    error_response,
    problem_response,
    wants_problem_json,
)

# No inline scripts or styles anywhere: templates load static files only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages of a signed-in user are personal: never cached by shared caches.
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


class ErrorMappingMiddleware:
    """Turn an uncaught ``CertdeskError`` into problem JSON (API) or an error page (portal),
    and the bare 405 that django-ninja answers for an unsupported method into problem JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and wants_problem_json(request)
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            allow = response.get("Allow", "")
            return problem_response(
                status=405,
                code="method_not_allowed",
                message=format_lazy(
                    _("The method {method} is not allowed for this URL."), method=request.method
                ),
                request=request,
                headers={"Allow": allow},
                allowed_methods=[m.strip() for m in allow.split(",") if m.strip()],
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CertdeskError):
            return None
        if wants_problem_json(request):
            return error_response(exception, request)
        response = render(request, "core/error.html", {"error": exception}, status=exception.status)
        retry_after = getattr(exception, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(int(retry_after))
        return response
