"""The REST API v1: one NinjaAPI, routers per app, every error as RFC 7807 problem JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from certdesk.core.errors import CertdeskError
from certdesk.core.problems import PROBLEM_CONTENT_TYPE, error_response, problem_response


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params: dict[str, Any] = {"ensure_ascii": False}


class CertdeskAPI(NinjaAPI):
    """Documents every error response (4xx/5xx) as ``application/problem+json``, the media
    type it is actually sent with, instead of django-ninja's default ``application/json``."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if int(status) >= 400 and content and self.renderer.media_type in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop(self.renderer.media_type)
        return schema


api = CertdeskAPI(
    title="certdesk API",
    version="1",
    description=(
        "Server certificate management. Authenticate with `Authorization: Bearer <token>` "
        "(create a token in the portal or with `POST /api/v1/auth/token`). Every error is an "
        "RFC 7807 problem document (`application/problem+json`) with a stable `code`, a "
        "`detail` in the request's language and `messages` in Japanese and English."
    ),
    urls_namespace="api",
    renderer=Utf8JSONRenderer(),
    docs_url="/docs",
)


def _loc(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts)


@api.exception_handler(CertdeskError)
def _certdesk_error(request: HttpRequest, exc: CertdeskError) -> HttpResponse:
    return error_response(exc, request)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _loc(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    first = errors[0]["field"] if errors else None
    return problem_response(
        status=422,
        code="invalid_request",
        message=_("The request body or parameters are not valid."),
        request=request,
        field=first,
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        status=401,
        code="authentication_required",
        message=_("A valid API token is required (Authorization: Bearer <token>)."),
        request=request,
        headers={"WWW-Authenticate": 'Bearer realm="certdesk"'},
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(
        status=404,
        code="not_found",
        message=_("The requested resource does not exist."),
        request=request,
    )


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return problem_response(
        status=403,
        code="permission_denied",
        message=_("You do not have permission to do this."),
        request=request,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # django-ninja's only 400: a request body that is not JSON (or not UTF-8).
        return problem_response(
            status=400,
            code="malformed_body",
            message=_("The request body could not be read: send UTF-8 encoded JSON."),
            request=request,
        )
    return problem_response(
        status=exc.status_code, code="http_error", message=str(exc), request=request
    )


api.add_router("/accounts", "certdesk.accounts.api.registration_router")
api.add_router("/account", "certdesk.accounts.api.account_router")
api.add_router("/account/members", "certdesk.members.api.router")
api.add_router("/account/tokens", "certdesk.tokens.api.router")
api.add_router("/auth", "certdesk.tokens.api.auth_router")
api.add_router("/organizations", "certdesk.organizations.api.router")
api.add_router("/products", "certdesk.certificates.api.products_router")
api.add_router("/applications", "certdesk.certificates.api.router")
# The search router first: its fixed paths (export.csv, expiring) must be tried before
# "/{certificate_id}" claims them.
api.add_router("/certificates", "certdesk.certificates.search_api.router")
api.add_router("/certificates", "certdesk.certificates.api.certificates_router")
