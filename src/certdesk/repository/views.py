"""The public repository of the built-in CA under ``/pki/``: certificates, CRLs and OCSP.

Relying parties fetch these without an account, a session or a CSRF token: the URLs are in
every certificate the built-in CA issues (AIA caIssuers and OCSP, CRL distribution point).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from certdesk.core import clock
from certdesk.repository.selectors import authority_get, chain_pem
from certdesk.repository.services import (
    CRL_REFRESH,
    OCSP_REQUEST_MAX,
    crl_current,
    ocsp_malformed,
    ocsp_response,
)

CA_MAX_AGE = 24 * 60 * 60
"""CA certificates change only when the hierarchy is replaced."""
OCSP_MAX_AGE = 60
"""Like the CRL: a revocation reaches HTTP caches' clients within a minute."""
CRL_EXPIRY_MARGIN = 60
"""Caches must drop a CRL this many seconds before its nextUpdate."""
_OCSP_ENCODED_MAX = (OCSP_REQUEST_MAX + 2) // 3 * 4
"""Longest GET path worth decoding: the base64 of the largest request accepted (the path
arrives percent-decoded)."""


def _public(response: HttpResponse, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


@require_safe
def ca_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    """The CA certificate in DER: the target of the AIA caIssuers URL (RFC 5280 4.2.2.1)."""
    authority = authority_get(slug=slug)
    return _public(HttpResponse(authority.der, content_type="application/pkix-cert"), CA_MAX_AGE)


@require_safe
def ca_chain(request: HttpRequest, slug: str) -> HttpResponse:
    """The CA certificate and those above it, in PEM."""
    return _public(
        HttpResponse(chain_pem(slug=slug), content_type="application/pem-certificate-chain"),
        CA_MAX_AGE,
    )


def _crl_max_age(next_update: datetime, now: datetime) -> int:
    left = int((next_update - now).total_seconds()) - CRL_EXPIRY_MARGIN
    return max(0, min(int(CRL_REFRESH.total_seconds()), left))


@require_safe
def crl(request: HttpRequest, slug: str) -> HttpResponse:
    """The CA's current full CRL in DER (RFC 5280 4.2.1.13 asks for DER over HTTP)."""
    now = clock.now()
    record = crl_current(slug=slug, now=now)
    response = HttpResponse(bytes(record.der), content_type="application/pkix-crl")
    response["Last-Modified"] = http_date(record.this_update.timestamp())
    return _public(response, _crl_max_age(record.next_update, now))


def _ocsp(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/ocsp-response")


@csrf_exempt
@require_POST
def ocsp_post(request: HttpRequest) -> HttpResponse:
    """RFC 6960 A.1: the DER request as the body of a POST."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > OCSP_REQUEST_MAX:
        return _ocsp(ocsp_malformed())
    # Read at most one byte past the limit: a chunked body declares no length.
    body = request.read(OCSP_REQUEST_MAX + 1)
    response = _ocsp(ocsp_response(request_der=body, now=clock.now()))
    response["Cache-Control"] = "no-store"
    return response


def _decode_request(encoded: str) -> bytes | None:
    """The DER request from the GET path: base64, standard or URL-safe, padding optional."""
    if len(encoded) > _OCSP_ENCODED_MAX:
        return None
    # A "+" some clients leave unescaped can reach us as a space.
    text = encoded.replace(" ", "+").replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@require_safe
def ocsp_get(request: HttpRequest, encoded: str) -> HttpResponse:
    """RFC 6960 A.1: the base64 of the DER request as the last path segment, cacheable."""
    der = _decode_request(encoded)
    body = ocsp_malformed() if der is None else ocsp_response(request_der=der, now=clock.now())
    return _public(_ocsp(body), OCSP_MAX_AGE)
