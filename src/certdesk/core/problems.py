"""RFC 7807 problem documents: the single mapping from errors to HTTP for API and ACME."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.utils.functional import Promise

from certdesk.core.errors import CertdeskError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://certdesk.invalid/problems/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def _both_languages(message: str | Promise) -> dict[str, str]:
    out = {}
    for lang in ("ja", "en"):
        with translation.override(lang):
            out[lang] = str(message)
    return out


def problem_body(
    *,
    status: int,
    code: str,
    message: str | Promise,
    instance: str | None = None,
    **members: Any,
) -> dict[str, Any]:
    """Build a problem document; ``detail`` is in the active language, ``messages`` in both."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": str(message),
        "messages": _both_languages(message),
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in members.items() if v is not None})
    return body


def problem_response(
    *,
    status: int,
    code: str,
    message: str | Promise,
    request: HttpRequest | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> JsonResponse:
    body = problem_body(
        status=status,
        code=code,
        message=message,
        instance=request.path if request is not None else None,
        **members,
    )
    response = JsonResponse(
        body,
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: CertdeskError, request: HttpRequest | None = None) -> JsonResponse:
    """Problem JSON for a ``CertdeskError``, with ``Retry-After`` where it applies."""
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    members: dict[str, Any] = {"field": error.field, **error.extra}
    errors = getattr(error, "errors", None)
    if errors:
        members["errors"] = errors
    return problem_response(
        status=error.status,
        code=error.code,
        message=error.message,
        request=request,
        headers=headers,
        **members,
    )


def wants_problem_json(request: HttpRequest) -> bool:
    """True for API and ACME paths, or clients that ask for JSON."""
    path = request.path
    if path.startswith(("/api/", "/acme/")):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "html" not in accept
