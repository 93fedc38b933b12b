"""Portal pages of the certificate history: the searchable list, its CSV export, and the
expiry panel of the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from certdesk.accounts.models import Account, User
from certdesk.certificates import export
from certdesk.certificates.models import Certificate
from certdesk.certificates.search_forms import CertificateSearchForm
from certdesk.certificates.selectors import (
    CertificateQuery,
    Interpretation,
    Match,
    Sort,
    Status,
    certificate_expiry_windows,
    certificate_search,
    query_interpret,
    validation_expiry_list,
)
from certdesk.core import clock
from certdesk.core.errors import InvalidInput, PermissionDenied

# Rows shown as "expires in N days" next to the date.
SOON_DAYS = 90


def _account(request: HttpRequest) -> Account:
    user: User = request.user  # type: ignore[assignment]
    account: Account | None = user.account
    if account is None:
        raise PermissionDenied(code="no_account")
    return account


def _search_url(params: QueryDict, **changes: str | None) -> str:
    """The list URL with ``params`` changed (None removes one); never carries a cursor
    unless asked, since a cursor belongs to the page it came from."""
    query = params.copy()
    query.pop("cursor", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    encoded = query.urlencode()
    base: str = reverse("certificate_search:list")
    return base + (f"?{encoded}" if encoded else "")


def _export_url(params: QueryDict, encoding: str) -> str:
    query = params.copy()
    query.pop("cursor", None)
    query["encoding"] = encoding
    return f"{reverse('certificate_search:export')}?{query.urlencode()}"


def _interpret(form: CertificateSearchForm) -> Interpretation | None:
    """Read ``q`` as the form asks, putting a refusal onto the field."""
    try:
        return query_interpret(form.cleaned_data.get("q") or "", form.to_query().match)
    except InvalidInput as error:
        form.add_error("q", str(error.message))
        return None


def _row(certificate: Certificate, *, now: datetime, language: str) -> dict[str, Any]:
    status = certificate.status_at(now)
    days_left = (certificate.not_after - now).days
    organization = certificate.organization
    return {
        "certificate": certificate,
        "status": status,
        "status_label": Certificate.Status(status).label,
        "days_left": days_left if status == Status.VALID and days_left <= SOON_DAYS else None,
        "product": certificate.product.display_name(language),
        "organization": ""
        if organization is None
        else (organization.name_ja if language == "ja" else organization.name_en),
        "other_names": [n for n in certificate.names if n != certificate.common_name],
    }


def _alternatives(reading: Interpretation, params: QueryDict) -> list[dict[str, str]]:
    """Links that read the same ``q`` another way (a host may be meant as part of names)."""
    q = params.get("q", "")
    links = []
    if reading.kind in (Match.HOST, Match.SERIAL):
        links.append({"kind": Match.TEXT.value, "url": _search_url(params, match=Match.TEXT)})
    if reading.kind == Match.TEXT:
        try:
            query_interpret(q, Match.HOST)
        except InvalidInput:
            pass
        else:
            links.append({"kind": Match.HOST.value, "url": _search_url(params, match=Match.HOST)})
    return links


def _sort_links(params: QueryDict, current: Sort) -> dict[str, dict[str, Any]]:
    """Column header links: a second click on the sorted column reverses it."""
    issued_next = Sort.ISSUED if current == Sort.ISSUED_DESC else Sort.ISSUED_DESC
    expiry_next = Sort.EXPIRY_DESC if current == Sort.EXPIRY else Sort.EXPIRY
    return {
        "issued": {
            "url": _search_url(params, sort=issued_next.value),
            "active": current in (Sort.ISSUED, Sort.ISSUED_DESC),
            "descending": current == Sort.ISSUED_DESC,
        },
        "expiry": {
            "url": _search_url(params, sort=expiry_next.value),
            "active": current in (Sort.EXPIRY, Sort.EXPIRY_DESC),
            "descending": current == Sort.EXPIRY_DESC,
        },
    }


@login_required
@require_GET
def certificate_list(request: HttpRequest) -> HttpResponse:
    """The account's whole certificate history, searchable, one keyset page at a time."""
    account = _account(request)
    form = CertificateSearchForm(request.GET, account=account)
    now = clock.now()
    language = get_language() or "ja"
    context: dict[str, Any] = {"form": form, "rows": [], "next_url": None, "first_url": None}
    reading = _interpret(form) if form.is_valid() else None
    if reading is None:
        return render(request, "certificates/list.html", context, status=422)
    query = form.to_query()
    cursor = request.GET.get("cursor") or None
    certificates, next_cursor = certificate_search(
        account=account, query=query, now=now, cursor=cursor
    )
    params = request.GET
    context.update(
        {
            "rows": [_row(c, now=now, language=language) for c in certificates],
            "reading": reading,
            "alternatives": _alternatives(reading, params) if reading.kind else [],
            "sort_links": _sort_links(params, query.sort),
            "filtered": query != CertificateQuery(sort=query.sort),
            "next_url": _search_url(params, cursor=next_cursor) if next_cursor else None,
            "first_url": _search_url(params) if cursor else None,
            "csv_utf8_url": _export_url(params, export.UTF8),
            "csv_cp932_url": _export_url(params, export.CP932),
        }
    )
    return render(request, "certificates/list.html", context)


@login_required
@require_GET
def certificate_export(request: HttpRequest) -> HttpResponse:
    """The current search as CSV (``encoding=utf-8`` with BOM, or ``cp932``), streamed.

    Raises ``InvalidInput`` (``encoding_invalid``, ``search_invalid``, ``q_not_*``) before
    anything is sent.
    """
    account = _account(request)
    codec = export.export_encoding(request.GET.get("encoding", export.UTF8))
    form = CertificateSearchForm(request.GET, account=account)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(errors[0], code="search_invalid", field=field)
    query = form.to_query()
    return export.csv_response(
        account=account,
        query=query,
        now=clock.now(),
        codec=codec,
        language=get_language() or "ja",
    )


def expiry_panel(*, account: Account, now: datetime) -> dict[str, Any]:
    """The dashboard's context for ``certificates/_search_expiry_panel.html``: what expires
    in the next 30/60/90 days and which domain validations must be redone soon, each with a
    link to the matching search."""
    list_url = reverse("certificate_search:list")
    windows = []
    previous: int | None = None
    for window in certificate_expiry_windows(account=account, now=now):
        params = QueryDict(mutable=True)
        params["status"] = Status.VALID.value
        if window.first_day is not None:
            params["expires_after"] = window.first_day.isoformat()
        params["expires_before"] = window.last_day.isoformat()
        params["sort"] = Sort.EXPIRY.value
        windows.append(
            {
                "window": window,
                "from_days": None if previous is None else previous + 1,
                "url": f"{list_url}?{params.urlencode()}",
                "rows": [
                    {"certificate": c, "days_left": (c.not_after - now).days}
                    for c in window.soonest
                ],
            }
        )
        previous = window.days
    due = validation_expiry_list(account=account, now=now)
    validations = []
    for validation in due.soonest:
        params = QueryDict(mutable=True)
        params["q"] = validation.name
        params["match"] = Match.TEXT.value
        validations.append(
            {
                "validation": validation,
                "until": validation.reusable_until(now),
                "url": f"{list_url}?{params.urlencode()}",
            }
        )
    return {"expiry_windows": windows, "validations_due": due, "validation_rows": validations}
