"""REST API: products (``/api/v1/products``), applications (``/api/v1/applications``) and one
certificate (``/api/v1/certificates/{id}``: show, download, renew, revoke).

The certificates list (``GET /api/v1/certificates``) lives in
``certdesk.certificates.search_api``; its router shares the prefix with ``certificates_router``.
Reads need the scope ``certificates:read``, writes ``certificates:write`` (which implies read).
Another account's id answers 404, exactly like an id that never existed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Query, Router, Schema, Status

import pki
from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.certificates.downloads import DEFAULT_FORMAT, Format, certificate_file
from certdesk.certificates.lifecycle_selectors import (
    PAGE_SIZE,
    application_get,
    application_list,
    application_names,
    certificate_get,
    certificate_renewed_by,
    product_id_for_code,
    product_list_active,
)
from certdesk.certificates.models import Application, ApplicationName, Certificate, Product
from certdesk.certificates.schemas import (
    ApplicationCreateIn,
    ApplicationDetail,
    ApplicationPage,
    CertificateDetail,
    DownloadFormat,
    MethodChangeIn,
    ProductList,
    RenewIn,
    RevokeIn,
)
from certdesk.certificates.search_api import certificate_summary
from certdesk.certificates.services import (
    application_cancel,
    application_create,
    application_method_change,
    application_validate,
    application_waiting_for,
    certificate_revoke,
)
from certdesk.core import clock
from certdesk.core.errors import InvalidInput, NotFound
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.schemas import Problem
from certdesk.validation.lookups import MESSAGES
from certdesk.validation.models import DomainValidation

products_router = Router(tags=["products"], auth=bearer)
router = Router(tags=["applications"], auth=bearer)
certificates_router = Router(tags=["certificates"], auth=bearer)

# Every operation: no or bad token (401); scope, role, disabled account or new terms (403);
# a parameter or body of the wrong shape (422, ``invalid_request``, or a service's own code).
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 422: Problem}
ID_ERRORS: dict[int, Any] = {**ERRORS, 404: Problem}

IDEMPOTENCY_DOC = (
    "Send an `Idempotency-Key` header (any string up to 100 characters, unique per request) "
    "to make a retry safe: the same key with the same product and CSR answers 200 with the "
    "application created the first time, instead of filing a second one; the same key with a "
    "different body answers 409 `idempotency_key_reused`."
)
IDEMPOTENCY_KEY_MAX = 100
IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        description=f"At most {IDEMPOTENCY_KEY_MAX} characters "
        "(`idempotency_key_invalid`, 422); see the operation's description.",
    ),
]


class PageQuery(Schema):
    cursor: int | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE)


class DownloadQuery(Schema):
    format: DownloadFormat = Field(
        DEFAULT_FORMAT.value,
        description="`fullchain` (default: certificate + intermediate, PEM), `pem` "
        "(certificate only), `chain` (intermediate only), `der` (certificate, binary) or "
        "`p7b` (PKCS#7, certificate + intermediate, for IIS and Tomcat).",
    )


def _user(request: HttpRequest, scope: str) -> User:
    require_scope(request, scope)
    user: User = request.auth
    return user


# ---- serialisation ------------------------------------------------------------------------


def product_out(product: Product) -> dict[str, object]:
    profile = pki.profile_get(product.profile)
    return {
        "id": product.pk,
        "code": product.code,
        "name_ja": product.name_ja,
        "name_en": product.name_en,
        "profile": product.profile,
        "validation_level": profile.level.value,
        "max_names": product.max_names,
        "wildcard": profile.scope is pki.NameScope.WILDCARD,
        "price_jpy": product.price_jpy,
    }


def _issued_certificate_id(application: Application) -> int | None:
    try:
        certificate: Certificate = application.certificate
    except Certificate.DoesNotExist:
        return None
    return int(certificate.pk)


def application_summary(application: Application) -> dict[str, object]:
    return {
        "id": application.pk,
        "number": application.number,
        "status": application.status,
        "approval": application.approval,
        "product": application.product.code,
        "organization": application.organization_id,
        "common_name": application.common_name,
        "names": list(application.names),
        "key": application.key_description,
        "renewal_of": application.renewal_of_id,
        "certificate": _issued_certificate_id(application),
        "blocked_code": application.blocked_code or None,
        "created_by": application.created_by.username,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "issued_at": application.issued_at,
    }


def _name_status(validation: DomainValidation, now: datetime) -> str:
    if validation.is_valid_at(now):
        return "valid"
    if validation.status == DomainValidation.Status.PENDING:
        return "pending"
    # A token past 30 days, or a proof past its reuse period: either way it must be redone.
    return "expired"


def _last_message(code: str) -> str | None:
    message = MESSAGES.get(code) if code else None
    return str(message) if message is not None else None


def name_out(entry: ApplicationName, now: datetime) -> dict[str, object]:
    validation = entry.validation
    is_dns = validation.method == DomainValidation.Method.DNS
    return {
        "name": entry.name,
        "validated_name": validation.name,
        "method": validation.method,
        "status": _name_status(validation, now),
        "dns_record": (
            {"name": validation.record_name, "type": "TXT", "value": validation.token}
            if is_dns
            else None
        ),
        "http_file": None if is_dns else {"url": validation.http_url, "content": validation.token},
        "token_expires_at": validation.token_expires_at(),
        "last_checked_at": validation.last_checked_at,
        "next_check_at": validation.next_check_at,
        "last_code": validation.last_code or None,
        "last_message": _last_message(validation.last_code),
        "last_found": validation.last_found or None,
        "validated_at": validation.validated_at,
        "reusable_until": validation.reusable_until(now),
    }


def application_detail(application: Application, now: datetime) -> dict[str, object]:
    entries = application_names(application=application)
    return {
        **application_summary(application),
        "waiting_for": (
            application_waiting_for(application, now=now) if application.is_pending else []
        ),
        "blocked_detail": application.blocked_detail or None,
        "decision_reason": application.decision_reason or None,
        "dcv": [name_out(entry, now) for entry in entries],
    }


def certificate_detail(certificate: Certificate, now: datetime) -> dict[str, object]:
    reason = certificate.revocation_reason
    return {
        **certificate_summary(certificate, now=now),
        "serial_decimal": str(certificate.serial_int),
        "revocation_reason_name": (
            pki.RevocationReason(reason).rfc_name if reason is not None else None
        ),
        "key_fingerprint": certificate.key_fingerprint,
        "fingerprint_sha256": certificate.fingerprint_sha256,
        "issuer": certificate.issuer,
        "application": certificate.application_id,
        "renewed_by": certificate_renewed_by(certificate=certificate),
    }


def _application_or_404(user: User, application_id: int) -> Application:
    application = application_get(user=user, application_id=application_id)
    if application is None:
        raise NotFound(code="application_not_found")
    return application


def _certificate_or_404(user: User, certificate_id: int) -> Certificate:
    certificate = certificate_get(user=user, certificate_id=certificate_id)
    if certificate is None:
        raise NotFound(code="certificate_not_found")
    return certificate


def _product_id(code: str) -> int:
    product_id: int | None = product_id_for_code(code=code)
    if product_id is None:
        raise InvalidInput(
            _("This product is not available. Choose one from the list."),
            code="product_unavailable",
            field="product",
        )
    return product_id


def _created(
    request: HttpRequest,
    user: User,
    *,
    product_id: int,
    csr: str,
    method: str,
    organization_id: int | None,
    renewal_of_id: int | None,
    idempotency_key: str | None,
) -> Status[dict[str, object]]:
    """File an application; 201, or 200 when ``idempotency_key`` replays an earlier one."""
    now = clock.now()
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not (key.isascii() and key.isprintable()):
        raise InvalidInput(
            _(
                "The Idempotency-Key header must be printable ASCII and at most 100 "
                "characters long."
            ),
            code="idempotency_key_invalid",
            field="Idempotency-Key",
        )
    replay = (
        bool(key)
        and Application.objects.filter(account_id=user.account_id, idempotency_key=key).exists()
    )
    application = application_create(
        user=user,
        product_id=product_id,
        csr=csr,
        now=now,
        organization_id=organization_id,
        method=method,
        renewal_of_id=renewal_of_id,
        idempotency_key=key,
        ip=client_ip(request),
    )
    # A request that raced ours with the same key created it: a replay too.
    replay = replay or application.created_at != now
    fresh = application_get(user=user, application_id=application.pk)
    assert fresh is not None
    return Status(200 if replay else 201, application_detail(fresh, now))


# ---- products -----------------------------------------------------------------------------


@products_router.get(
    "",
    response={200: ProductList, 401: Problem, 403: Problem},
    summary="List products",
    description="The products on sale, in the order the portal shows them. Scope "
    "`certificates:read`.",
)
def products_list(request: HttpRequest) -> dict[str, object]:
    _user(request, S.CERTIFICATES_READ)
    return {"items": [product_out(p) for p in product_list_active()]}


# ---- applications -------------------------------------------------------------------------


@router.get(
    "",
    response={200: ApplicationPage, **ERRORS},
    summary="List applications",
    description="The account's applications, newest first, in pages (`cursor`, `limit`). "
    "Scope `certificates:read`.",
)
def applications_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_READ)
    items, next_cursor = application_list(user=user, cursor=page.cursor, limit=page.limit)
    return {"items": [application_summary(a) for a in items], "next_cursor": next_cursor}


@router.post(
    "",
    response={(200, 201): ApplicationDetail, **ID_ERRORS, 409: Problem},
    summary="Apply for a certificate",
    description=(
        "Files an application with a CSR. Each name needs domain control validation unless "
        "the account validated it (or, by DNS, a parent domain) within the reuse period; the "
        "answer lists, per name, the DNS record or HTTP file to publish. When nothing is "
        "missing the certificate is issued at once (`status` `issued`, `certificate` its id). "
        "Refusals: the CSR's own code from the issuance policy with `field` `csr` (e.g. "
        "`csr_private_key`, `key_rsa_size`, `name_wildcard_public_suffix`, "
        "`profile_too_many_names`), `product_unavailable`, `organization_required`, "
        "`organization_not_permitted`, `organization_not_verified` (422); "
        "`certificate_not_found` for `renewal_of` (404); `read_only_member` (403). "
        + IDEMPOTENCY_DOC
        + " Scope `certificates:write`."
    ),
)
def applications_create(
    request: HttpRequest,
    payload: ApplicationCreateIn,
    idempotency_key: IdempotencyKey = None,
) -> Status[dict[str, object]]:
    user = _user(request, S.CERTIFICATES_WRITE)
    return _created(
        request,
        user,
        product_id=_product_id(payload.product),
        csr=payload.csr,
        method=payload.method,
        organization_id=payload.organization,
        renewal_of_id=payload.renewal_of,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/{application_id}",
    response={200: ApplicationDetail, **ID_ERRORS},
    summary="Show an application",
    description="Status, what it is waiting for, and per name the validation instructions "
    "and the outcome of the last check. Scope `certificates:read`.",
)
def applications_get(request: HttpRequest, application_id: int) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_READ)
    return application_detail(_application_or_404(user, application_id), clock.now())


@router.post(
    "/{application_id}/validate",
    response={200: ApplicationDetail, **ID_ERRORS},
    summary="Check the validations now",
    description="Looks up every name still waiting at once (instead of waiting for the "
    "background retry) and issues the certificate if nothing else is missing. Safe to repeat: "
    "an application is issued once. Scope `certificates:write`.",
)
def applications_validate(request: HttpRequest, application_id: int) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_WRITE)
    now = clock.now()
    application_validate(user=user, application_id=application_id, now=now)
    return application_detail(_application_or_404(user, application_id), now)


@router.post(
    "/{application_id}/method",
    response={200: ApplicationDetail, **ID_ERRORS, 409: Problem},
    summary="Change how a name is validated",
    description="Switches one name of a pending application between a DNS TXT record and an "
    "HTTP file; the answer carries the new instructions. Refusals: `application_name_not_found`"
    " (404), `application_not_pending`, `dcv_already_valid` (409), `dcv_method_wildcard` "
    "(422). Scope `certificates:write`.",
)
def applications_method(
    request: HttpRequest, application_id: int, payload: MethodChangeIn
) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_WRITE)
    now = clock.now()
    application_method_change(
        user=user,
        application_id=application_id,
        name=payload.name.strip().lower(),
        method=payload.method,
        now=now,
    )
    return application_detail(_application_or_404(user, application_id), now)


@router.post(
    "/{application_id}/cancel",
    response={200: ApplicationDetail, **ID_ERRORS, 409: Problem},
    summary="Cancel an application",
    description="Withdraws a pending application (`application_not_pending`, 409, once it "
    "is issued, rejected or cancelled). Scope `certificates:write`.",
)
def applications_cancel(request: HttpRequest, application_id: int) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_WRITE)
    now = clock.now()
    application_cancel(user=user, application_id=application_id, now=now)
    return application_detail(_application_or_404(user, application_id), now)


# ---- one certificate ----------------------------------------------------------------------

_DOWNLOAD_TYPES = {
    "application/pem-certificate-chain": "`fullchain` and `chain`: PEM certificates.",
    "application/x-pem-file": "`pem`: the certificate alone, PEM.",
    "application/pkix-cert": "`der`: the certificate alone, DER (binary).",
    "application/x-pkcs7-certificates": "`p7b`: PKCS#7 (DER) with the certificate and chain.",
}


@certificates_router.get(
    "/{certificate_id}",
    response={200: CertificateDetail, **ID_ERRORS},
    summary="Show a certificate",
    description="Names, serial, validity, key, status, fingerprints, the application it came "
    "from and its renewal lineage. Revoked and expired certificates stay readable. Scope "
    "`certificates:read`.",
)
def certificates_get(request: HttpRequest, certificate_id: int) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_READ)
    return certificate_detail(_certificate_or_404(user, certificate_id), clock.now())


@certificates_router.get(
    "/{certificate_id}/download",
    response=ID_ERRORS,
    summary="Download a certificate",
    description="The certificate as a file (`Content-Disposition: attachment`), by `format`. "
    "The default, `fullchain`, is what web servers want (nginx `ssl_certificate`, Apache "
    "`SSLCertificateFile`); a server that sends the certificate without its intermediate is "
    "the classic deployment failure. Scope `certificates:read`.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file. "
                + " ".join(f"{kind}: {what}" for kind, what in _DOWNLOAD_TYPES.items()),
                "headers": {
                    "Content-Disposition": {
                        "description": "`attachment` with the file name.",
                        "schema": {"type": "string"},
                    }
                },
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in _DOWNLOAD_TYPES
                },
            }
        }
    },
)
def certificates_download(
    request: HttpRequest, certificate_id: int, query: Query[DownloadQuery]
) -> HttpResponse:
    user = _user(request, S.CERTIFICATES_READ)
    certificate = _certificate_or_404(user, certificate_id)
    download = certificate_file(certificate, Format(query.format))
    response = HttpResponse(download.body, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@certificates_router.post(
    "/{certificate_id}/renew",
    response={(200, 201): ApplicationDetail, **ID_ERRORS, 409: Problem},
    summary="Renew a certificate",
    description=(
        "Files an application for the certificate's names with a new CSR, linked to the "
        "certificate (`renewal_of`); the product and organisation are the certificate's "
        "unless `product` names another. Only names whose proof is past its reuse period "
        "need validating again. Refusals as for `POST /api/v1/applications`. "
        + IDEMPOTENCY_DOC
        + " Scope `certificates:write`."
    ),
)
def certificates_renew(
    request: HttpRequest,
    certificate_id: int,
    payload: RenewIn,
    idempotency_key: IdempotencyKey = None,
) -> Status[dict[str, object]]:
    user = _user(request, S.CERTIFICATES_WRITE)
    certificate = _certificate_or_404(user, certificate_id)
    product_id = (
        _product_id(payload.product) if payload.product is not None else certificate.product_id
    )
    return _created(
        request,
        user,
        product_id=product_id,
        csr=payload.csr,
        method=payload.method,
        organization_id=certificate.organization_id,
        renewal_of_id=certificate.pk,
        idempotency_key=idempotency_key,
    )


@certificates_router.post(
    "/{certificate_id}/revoke",
    response={200: CertificateDetail, **ID_ERRORS, 409: Problem},
    summary="Revoke a certificate",
    description="Revokes at once with an RFC 5280 reason; the CRL and OCSP answer "
    "accordingly. Refusals: `revocation_reason_unknown`, `revocation_reason_not_allowed` "
    "(422), `already_revoked` (409). Scope `certificates:write`.",
)
def certificates_revoke(
    request: HttpRequest, certificate_id: int, payload: RevokeIn
) -> dict[str, object]:
    user = _user(request, S.CERTIFICATES_WRITE)
    now = clock.now()
    certificate_revoke(
        user=user,
        certificate_id=certificate_id,
        reason=payload.reason,
        now=now,
        ip=client_ip(request),
    )
    return certificate_detail(_certificate_or_404(user, certificate_id), now)
