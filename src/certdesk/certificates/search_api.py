"""REST API: ``GET /api/v1/certificates``, the searchable certificate history of the account.

The single-certificate routes (``/certificates/{id}``, download, renew, revoke) are in
``certdesk.certificates.api``; both routers share the ``/certificates`` prefix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from certdesk.accounts.models import Account
from certdesk.certificates.models import Certificate
from certdesk.certificates.selectors import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    CertificateQuery,
    Match,
    Sort,
    Status,
    certificate_search,
    query_interpret,
)
from certdesk.core import clock
from certdesk.core.errors import InvalidInput, PermissionDenied
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.schemas import Problem

router = Router(tags=["certificates"], auth=bearer)

ERRORS = {401: Problem, 403: Problem, 422: Problem}
# Ids are 64-bit: anything larger names nothing (and would overflow the database driver).
MAX_ID = 2**63 - 1


class CertificateSearchQuery(Schema):
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
    cursor: str | None = Field(
        None, max_length=200, description="`next_cursor` of the previous page (same search)."
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


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
    require_scope(request, S.CERTIFICATES_READ)
    account: Account | None = request.auth.account  # type: ignore[attr-defined]
    if account is None:
        raise PermissionDenied()
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
    now = clock.now()
    items, next_cursor = certificate_search(
        account=account, query=query, now=now, cursor=params.cursor, limit=params.limit
    )
    return {
        "items": [certificate_summary(c, now=now) for c in items],
        "next_cursor": next_cursor,
        "interpreted_as": query_interpret(query.q, query.match).kind,
    }
