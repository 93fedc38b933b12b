"""REST API: ``GET /api/v1/certificates``, the searchable certificate history of the account.

The single-certificate routes (``/certificates/{id}``, download, renew, revoke) are in
``certdesk.certificates.api``; both routers share the ``/certificates`` prefix.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from certdesk.accounts.models import Account
from certdesk.certificates import export
from certdesk.certificates.models import Certificate
from certdesk.certificates.selectors import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    CertificateQuery,
    Match,
    Sort,
    Status,
    certificate_expiry_windows,
    certificate_search,
    query_interpret,
    validation_expiry_list,
)
from certdesk.core import clock
from certdesk.core.errors import InvalidInput
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.schemas import Problem

router = Router(tags=["certificates"], auth=bearer)

ERRORS = {401: Problem, 403: Problem, 422: Problem}
# Ids are 64-bit: anything larger names nothing (and would overflow the database driver).
MAX_ID = 2**63 - 1


class CertificateFilter(Schema):
    q: str = Field(
        "",
        max_length=300,
        description=(
            "One search box. A host name (`shop.example.co.jp`, a URL or a Unicode name) finds "
            "the certificates that cover it, wildcards included (`*.example.co.jp` covers "
            "`shop.example.co.jp`, not `a.b.example.co.jp` nor `example.co.jp`); a serial "
            "number in hex (with or without colons, or `0x…`) or decimal finds that "
            "certificate; anything else finds certificates with a name containing it. "
            "`match` forces one reading."
        ),
    )
    match: Literal["auto", "host", "serial", "text"] = Field(
        "auto",
        description=(
            "How to read `q`: `auto` (by its shape), `host` (coverage), `serial`, or `text` "
            "(names containing it)."
        ),
    )
    status: Literal["valid", "expired", "revoked"] | None = Field(
        None, description="Status now: `valid`, `expired` or `revoked`."
    )
    expires_after: datetime | None = Field(
        None,
        description=(
            "Only certificates expiring at or after this moment (ISO 8601; a date means "
            "its start, and a time without offset is Japan time)."
        ),
    )
    expires_before: datetime | None = Field(
        None, description="Only certificates expiring before this moment (as `expires_after`)."
    )
    organization: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only this organisation's (its `id`)."
    )
    product: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[a-z0-9_-]*$",
        description="Only this product's (its `code`, e.g. `dv-single`).",
    )
    sort: Literal["-issued", "issued", "expiry", "-expiry"] = Field(
        "-issued",
        description=(
            "`-issued` newest first (default), `issued` oldest first, `expiry` soonest "
            "expiry first, `-expiry` latest expiry first."
        ),
    )


class CertificateSearchQuery(CertificateFilter):
    cursor: str | None = Field(
        None, max_length=200, description="`next_cursor` of the previous page (same search)."
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class CertificateCsvQuery(CertificateFilter):
    encoding: Literal["utf-8", "cp932"] = Field(
        "utf-8",
        description="`utf-8` (with a byte order mark, for current Excel) or `cp932` "
        "(Shift_JIS as Windows writes it, for older Japanese Excel).",
    )


class ProductRef(Schema):
    code: str
    name_ja: str
    name_en: str


class OrganizationRef(Schema):
    id: int
    name_ja: str
    name_en: str


class CertificateSummary(Schema):
    id: int
    serial: str = Field(description="Lower-case hex, no leading zeros.")
    common_name: str
    names: list[str]
    status: str = Field(description="`valid`, `expired` or `revoked`, now.")
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: int | None = Field(description="RFC 5280 CRLReason code when revoked.")
    key_description: str
    product: ProductRef
    organization: OrganizationRef | None
    renewal_of: int | None = Field(description="The certificate this one renewed.")


class CertificatePage(Schema):
    items: list[CertificateSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same search) for the next page; null on the last."
    )
    interpreted_as: Literal["host", "serial", "text", ""] = Field(
        description="How `q` was read: `host`, `serial`, `text`, or empty without `q`."
    )


def _aware(moment: datetime | None, *, field: str) -> datetime | None:
    """``moment`` with a time zone (Japan time when it has none). Raises ``InvalidInput``
    (``date_out_of_range``) for a moment that has no UTC equivalent (around year 1 or 9999)."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            _("The date is out of range."), code="date_out_of_range", field=field
        ) from None


def certificate_summary(certificate: Certificate, *, now: datetime) -> dict[str, object]:
    product = certificate.product
    organization = certificate.organization
    return {
        "id": certificate.pk,
        "serial": certificate.serial,
        "common_name": certificate.common_name,
        "names": list(certificate.names),
        "status": certificate.status_at(now),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at,
        "revocation_reason": certificate.revocation_reason,
        "key_description": certificate.key_description,
        "product": {"code": product.code, "name_ja": product.name_ja, "name_en": product.name_en},
        "organization": None
        if organization is None
        else {
            "id": organization.pk,
            "name_ja": organization.name_ja,
            "name_en": organization.name_en,
        },
        "renewal_of": certificate.renewal_of_id,
    }


def _reader_account(request: HttpRequest) -> Account:
    """The caller's account, once the token is known to carry ``certificates:read``. Token
    authentication only ever admits members of an account."""
    require_scope(request, S.CERTIFICATES_READ)
    account: Account = request.auth.account  # type: ignore[attr-defined]
    return account


def _query_from(params: CertificateFilter) -> CertificateQuery:
    """The search the filter parameters ask for. Raises ``InvalidInput``."""
    expires_after = _aware(params.expires_after, field="expires_after")
    expires_before = _aware(params.expires_before, field="expires_before")
    if expires_after is not None and expires_before is not None and expires_after > expires_before:
        raise InvalidInput(
            _("The end of the expiry range is before its start."),
            code="expires_range_invalid",
            field="expires_before",
        )
    query = CertificateQuery(
        q=params.q,
        match=Match(params.match),
        status=Status(params.status) if params.status else None,
        expires_after=expires_after,
        expires_before=expires_before,
        organization_id=params.organization,
        product_code=params.product or "",
        sort=Sort(params.sort),
    )
    return query


@router.get(
    "",
    response={200: CertificatePage, **ERRORS},
    summary="Search the certificate history",
    description=(
        "Every certificate of the account, expired and revoked ones included, filtered and "
        "sorted, one page at a time (keyset pagination: follow `next_cursor`; there is no "
        "total count). Scope `certificates:read`. Errors: `cursor_invalid`, `q_not_serial`, "
        "`q_not_host`, `date_out_of_range`, `invalid_request` (422)."
    ),
)
def certificates_search(
    request: HttpRequest, params: Query[CertificateSearchQuery]
) -> dict[str, object]:
    account = _reader_account(request)
    query = _query_from(params)
    now = clock.now()
    items, next_cursor = certificate_search(
        account=account, query=query, now=now, cursor=params.cursor, limit=params.limit
    )
    return {
        "items": [certificate_summary(c, now=now) for c in items],
        "next_cursor": next_cursor,
        "interpreted_as": query_interpret(query.q, query.match).kind,
    }


@router.get(
    "/export.csv",
    response=ERRORS,
    summary="Export a certificate search as CSV",
    description=(
        "The whole result of the same search as `GET /certificates` (no paging), one row per "
        "certificate, streamed; headers in the caller's language. Scope `certificates:read`. "
        "Errors as for the search (422)."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV, UTF-8 with a byte order mark or CP932.",
                "content": {
                    "text/csv": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def certificates_export(
    request: HttpRequest, params: Query[CertificateCsvQuery]
) -> StreamingHttpResponse:
    account = _reader_account(request)
    query = _query_from(params)
    return export.csv_response(
        account=account,
        query=query,
        now=clock.now(),
        codec=export.export_encoding(params.encoding),
        language=get_language() or "ja",
    )


class ExpiringWindow(Schema):
    days: int = Field(description="The window's last day, counted from today (Japan time).")
    first_day: date | None
    last_day: date
    count: int
    soonest: list[CertificateSummary]


class ValidationDue(Schema):
    name: str
    method: str
    validated_at: datetime
    reusable_until: datetime = Field(
        description="After this moment the name must be validated again before issuance."
    )


class ExpiringOut(Schema):
    certificates: list[ExpiringWindow]
    validations_due: int
    validations: list[ValidationDue]


@router.get(
    "/expiring",
    response={200: ExpiringOut, **ERRORS},
    summary="What expires soon",
    description=(
        "The dashboard's numbers: valid certificates expiring within 30 days, in days 31-60 "
        "and in days 61-90 (each with the soonest few), and the domain validations whose "
        "reuse period ends within 30 days. Scope `certificates:read`."
    ),
)
def certificates_expiring(request: HttpRequest) -> dict[str, object]:
    account = _reader_account(request)
    now = clock.now()
    windows = certificate_expiry_windows(account=account, now=now)
    due = validation_expiry_list(account=account, now=now)
    return {
        "certificates": [
            {
                "days": w.days,
                "first_day": w.first_day,
                "last_day": w.last_day,
                "count": w.count,
                "soonest": [certificate_summary(c, now=now) for c in w.soonest],
            }
            for w in windows
        ],
        "validations_due": due.count,
        "validations": [
            {
                "name": v.name,
                "method": v.method,
                "validated_at": v.validated_at,
                "reusable_until": v.reusable_until(now),
            }
            for v in due.soonest
        ],
    }
