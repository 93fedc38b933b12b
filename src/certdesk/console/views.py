"""The operator console: accounts, users, terms versions, the audit log, organisation
verification, the product catalogue and the review of OV applications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import pki
from certdesk.accounts.models import Account, User
from certdesk.audit.services import audit_record, audit_verify, client_ip
from certdesk.certificates.models import Product
from certdesk.console.decorators import operator_required
from certdesk.console.forms import (
    AccountSearchForm,
    AuditFilterForm,
    OrganizationQueueForm,
    ProductCreateForm,
    ProductForm,
    ReasonForm,
    TermsTextForm,
    WhenForm,
)
from certdesk.console.selectors import (
    AuditFilter,
    account_get,
    account_search,
    account_users,
    application_for_review,
    application_review_queue,
    audit_event_list,
    audit_events_for_account,
    audit_filter_parse,
    console_counts,
    lifecycle_counts,
    product_get,
    product_list,
)
from certdesk.console.services import (
    ProductChanges,
    ProductDraft,
    account_disable,
    account_enable,
    application_review,
    product_update,
    user_disable,
    user_enable,
)
from certdesk.console.services import product_create as product_create_service
from certdesk.core import clock
from certdesk.core.errors import CertdeskError
from certdesk.organizations.models import Organization
from certdesk.organizations.rules import nta_lookup_url
from certdesk.organizations.selectors import organization_for_review, organization_review_queue
from certdesk.organizations.services import organization_reject, organization_verify
from certdesk.suppliers.registry import supplier_keys
from certdesk.terms.models import TermsVersion
from certdesk.terms.selectors import (
    terms_acceptances_for_account,
    terms_cancellations_for_account,
    terms_versions_all,
)
from certdesk.terms.services import (
    TermsText,
    terms_draft_create,
    terms_draft_delete,
    terms_draft_update,
    terms_notice_schedule,
    terms_publication_cancel,
    terms_publish,
)


def _cursor(value: str | None) -> int | None:
    try:
        cursor = int(value or "")
    except ValueError:
        return None
    return cursor if cursor > 0 else None


@operator_required
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/index.html",
        {"counts": console_counts(), "lifecycle": lifecycle_counts()},
    )


# ---- accounts ----------------------------------------------------------------------------


@operator_required
def accounts(request: HttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET or None)
    q = status = ""
    if form.is_bound and form.is_valid():
        q, status = form.cleaned_data["q"], form.cleaned_data["status"]
    page = account_search(q=q, status=status, after=_cursor(request.GET.get("after")))
    next_url = None
    if page.next_cursor is not None:
        params = {k: v for k, v in {"q": q, "status": status}.items() if v}
        next_url = "?" + urlencode({**params, "after": page.next_cursor})
    return render(
        request,
        "console/accounts.html",
        {
            "form": form,
            "page": page,
            "next_url": next_url,
            "searched": bool(q or status),
            "first_page": "after" not in request.GET,
        },
    )


def _account_or_404(number: int) -> Account:
    account = account_get(number=number)
    if account is None:
        raise Http404
    return account


def _account_page(
    request: HttpRequest,
    account: Account,
    *,
    error: CertdeskError | None = None,
    reason_form: ReasonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "console/account_detail.html",
        {
            "account": account,
            "users": list(account_users(account=account)),
            "acceptances": list(terms_acceptances_for_account(account=account)[:50]),
            "cancellations": list(terms_cancellations_for_account(account=account)),
            "events": audit_events_for_account(account=account),
            "reason_form": reason_form or ReasonForm(),
            "error": error,
        },
        status=status,
    )


@operator_required
def account_detail(request: HttpRequest, number: int) -> HttpResponse:
    return _account_page(request, _account_or_404(number))


def _account_action(request: HttpRequest, number: int, action: Any, done: str) -> HttpResponse:
    account = _account_or_404(number)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        action(
            actor=request.user,
            account=account,
            reason=form.cleaned_data.get("reason", ""),
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        if exc.field == "reason":
            form.add_error("reason", str(exc.message))
            return _account_page(request, account, reason_form=form, status=exc.status)
        return _account_page(request, account, error=exc, status=exc.status)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("console:account", args=[account.pk]))


@operator_required
@require_POST
def account_disable_view(request: HttpRequest, number: int) -> HttpResponse:
    return _account_action(
        request, number, account_disable, _("The account was disabled and its owner emailed.")
    )


@operator_required
@require_POST
def account_enable_view(request: HttpRequest, number: int) -> HttpResponse:
    return _account_action(
        request, number, account_enable, _("The account was enabled again and its owner emailed.")
    )


def _user_action(
    request: HttpRequest, number: int, user_id: int, action: Any, done: str
) -> HttpResponse:
    account = _account_or_404(number)
    user = User.objects.filter(pk=user_id, account=account).first()
    if user is None:
        raise Http404
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        action(
            actor=request.user,
            user=user,
            reason=form.cleaned_data.get("reason", ""),
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        return _account_page(request, account, error=exc, status=exc.status)
    messages.success(request, done % {"user": user.username})
    return HttpResponseRedirect(reverse("console:account", args=[account.pk]))


@operator_required
@require_POST
def user_disable_view(request: HttpRequest, number: int, user_id: int) -> HttpResponse:
    return _user_action(
        request, number, user_id, user_disable, _("User %(user)s can no longer sign in.")
    )


@operator_required
@require_POST
def user_enable_view(request: HttpRequest, number: int, user_id: int) -> HttpResponse:
    return _user_action(
        request, number, user_id, user_enable, _("User %(user)s can sign in again.")
    )


# ---- terms -------------------------------------------------------------------------------


@operator_required
def terms_list(request: HttpRequest) -> HttpResponse:
    versions = list(terms_versions_all())
    has_draft = any(v.is_draft for v in versions)
    return render(
        request,
        "console/terms_list.html",
        {"versions": versions, "has_draft": has_draft, "now": clock.now()},
    )


def _version_or_404(number: int) -> TermsVersion:
    version = terms_versions_all().filter(number=number).first()
    if version is None:
        raise Http404
    return version


def _text_from(form: TermsTextForm) -> TermsText:
    return TermsText(**{name: form.cleaned_data.get(name, "") for name in form.fields})


def _terms_edit_page(
    request: HttpRequest,
    form: TermsTextForm,
    version: TermsVersion | None,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "console/terms_edit.html",
        {"form": form, "version": version, "error": error},
        status=status,
    )


def _save_text(request: HttpRequest, version: TermsVersion | None) -> HttpResponse:
    form = TermsTextForm(request.POST)
    if not form.is_valid():
        return _terms_edit_page(request, form, version, status=422)
    try:
        if version is None:
            version = terms_draft_create(
                actor=request.user, text=_text_from(form), now=clock.now(), ip=client_ip(request)
            )
        else:
            version = terms_draft_update(
                actor=request.user,
                version=version,
                text=_text_from(form),
                now=clock.now(),
                ip=client_ip(request),
            )
    except CertdeskError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc.message))
            return _terms_edit_page(request, form, version, status=exc.status)
        return _terms_edit_page(request, form, version, error=exc, status=exc.status)
    messages.success(request, _("The draft was saved."))
    return HttpResponseRedirect(reverse("console:terms_detail", args=[version.number]))


@operator_required
def terms_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_text(request, None)
    latest = terms_versions_all().first()
    initial = {}
    if latest is not None:
        # A new version usually starts from the previous text.
        initial = {k: getattr(latest, k) for k in ("title_ja", "title_en", "body_ja", "body_en")}
    return _terms_edit_page(request, TermsTextForm(initial=initial), None)


@operator_required
def terms_edit(request: HttpRequest, number: int) -> HttpResponse:
    version = _version_or_404(number)
    if not version.is_draft:
        return HttpResponseRedirect(reverse("console:terms_detail", args=[number]))
    if request.method == "POST":
        return _save_text(request, version)
    initial = {name: getattr(version, name) for name in TermsTextForm.base_fields}
    return _terms_edit_page(request, TermsTextForm(initial=initial), version)


def _terms_detail_page(
    request: HttpRequest,
    version: TermsVersion,
    *,
    publish_form: WhenForm | None = None,
    notice_form: WhenForm | None = None,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    notice = getattr(version, "notice", None) if not version.is_draft else None
    return render(
        request,
        "console/terms_detail.html",
        {
            "version": version,
            "notice": notice,
            "publish_form": publish_form or WhenForm(prefix="publish"),
            "notice_form": notice_form or WhenForm(prefix="notice"),
            "error": error,
            "now": clock.now(),
        },
        status=status,
    )


@operator_required
def terms_detail(request: HttpRequest, number: int) -> HttpResponse:
    return _terms_detail_page(request, _version_or_404(number))


def _when_action(request: HttpRequest, number: int, *, kind: str) -> HttpResponse:
    version = _version_or_404(number)
    form = WhenForm(request.POST, prefix=kind)
    forms_kw = {f"{kind}_form": form}
    if not form.is_valid():
        return _terms_detail_page(request, version, status=422, **forms_kw)
    service = terms_publish if kind == "publish" else terms_notice_schedule
    try:
        service(
            actor=request.user,
            version=version,
            at=form.moment(),
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        if exc.field in {"published_at", "scheduled_for"}:
            form.add_error("at", str(exc.message))
            return _terms_detail_page(request, version, status=exc.status, **forms_kw)
        return _terms_detail_page(request, version, error=exc, status=exc.status, **forms_kw)
    if kind == "publish":
        messages.success(request, _("Version %(number)s was published.") % {"number": number})
    else:
        messages.success(
            request, _("The email notice of version %(number)s was scheduled.") % {"number": number}
        )
    return HttpResponseRedirect(reverse("console:terms_detail", args=[number]))


@operator_required
@require_POST
def terms_publish_view(request: HttpRequest, number: int) -> HttpResponse:
    return _when_action(request, number, kind="publish")


@operator_required
@require_POST
def terms_notice_view(request: HttpRequest, number: int) -> HttpResponse:
    return _when_action(request, number, kind="notice")


@operator_required
@require_POST
def terms_withdraw_view(request: HttpRequest, number: int) -> HttpResponse:
    version = _version_or_404(number)
    try:
        terms_publication_cancel(
            actor=request.user, version=version, now=clock.now(), ip=client_ip(request)
        )
    except CertdeskError as exc:
        return _terms_detail_page(request, version, error=exc, status=exc.status)
    messages.success(request, _("The scheduled publication was withdrawn; the version is a draft."))
    return HttpResponseRedirect(reverse("console:terms_detail", args=[number]))


@operator_required
@require_POST
def terms_delete_view(request: HttpRequest, number: int) -> HttpResponse:
    version = _version_or_404(number)
    try:
        terms_draft_delete(
            actor=request.user, version=version, now=clock.now(), ip=client_ip(request)
        )
    except CertdeskError as exc:
        return _terms_detail_page(request, version, error=exc, status=exc.status)
    messages.success(request, _("The draft was deleted."))
    return HttpResponseRedirect(reverse("console:terms"))


# ---- audit log ---------------------------------------------------------------------------


@operator_required
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilter()
    error = None
    if form.is_bound and form.is_valid():
        try:
            filters = audit_filter_parse(**form.cleaned_data)
        except CertdeskError as exc:
            error = exc
            if exc.field in form.fields:
                form.add_error(exc.field, str(exc.message))
    page = audit_event_list(filters=filters, before=_cursor(request.GET.get("before")))
    next_url = None
    if page.next_cursor is not None:
        next_url = "?" + urlencode({**filters.querystring(), "before": page.next_cursor})
    return render(
        request,
        "console/audit.html",
        {
            "form": form,
            "page": page,
            "next_url": next_url,
            "error": error,
            "first_page": "before" not in request.GET,
        },
        status=error.status if error else 200,
    )


@operator_required
@require_POST
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    problems = audit_verify()
    audit_record(
        action="audit.verified",
        actor=request.user,
        request=request,
        data={"intact": not problems, "problems": len(problems)},
    )
    return render(
        request, "console/audit_verify.html", {"problems": problems, "checked_at": clock.now()}
    )


# ---- organisations -----------------------------------------------------------------------


@operator_required
def organizations(request: HttpRequest) -> HttpResponse:
    form = OrganizationQueueForm(request.GET or None)
    status: str = Organization.Status.PENDING
    if form.is_bound and form.is_valid() and form.cleaned_data["status"]:
        status = form.cleaned_data["status"]
    items, next_cursor = organization_review_queue(
        status=status, after=_cursor(request.GET.get("after"))
    )
    next_url = None
    if next_cursor is not None:
        next_url = "?" + urlencode({"status": status, "after": next_cursor})
    return render(
        request,
        "console/organizations.html",
        {
            "form": form,
            "status": status,
            "organizations": items,
            "next_url": next_url,
            "first_page": "after" not in request.GET,
        },
    )


def _organization_or_404(organization_id: int) -> Organization:
    organization = organization_for_review(organization_id=organization_id)
    if organization is None:
        raise Http404
    return organization


def _organization_page(
    request: HttpRequest,
    organization: Organization,
    *,
    verify_form: ReasonForm | None = None,
    reject_form: ReasonForm | None = None,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "console/organization_detail.html",
        {
            "organization": organization,
            "nta_url": nta_lookup_url(organization.corporate_number),
            "verify_form": verify_form or ReasonForm(prefix="verify"),
            "reject_form": reject_form or ReasonForm(prefix="reject"),
            "error": error,
        },
        status=status,
    )


@operator_required
def organization_detail(request: HttpRequest, organization_id: int) -> HttpResponse:
    return _organization_page(request, _organization_or_404(organization_id))


def _organization_decision(
    request: HttpRequest, organization_id: int, *, verify: bool
) -> HttpResponse:
    organization = _organization_or_404(organization_id)
    prefix = "verify" if verify else "reject"
    form = ReasonForm(request.POST, prefix=prefix)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    try:
        if verify:
            organization_verify(
                operator=request.user,
                organization_id=organization.pk,
                note=reason,
                now=clock.now(),
                ip=client_ip(request),
            )
        else:
            organization_reject(
                operator=request.user,
                organization_id=organization.pk,
                reason=reason,
                now=clock.now(),
                ip=client_ip(request),
            )
    except CertdeskError as exc:
        forms_kw = {f"{prefix}_form": form}
        if exc.field == "reason":
            form.add_error("reason", str(exc.message))
            return _organization_page(request, organization, status=exc.status, **forms_kw)
        return _organization_page(request, organization, error=exc, status=exc.status, **forms_kw)
    if verify:
        done = _("%(name)s was verified and the customer emailed.")
    else:
        done = _("%(name)s was rejected and the customer emailed the reason.")
    messages.success(request, done % {"name": organization.name_ja})
    return HttpResponseRedirect(reverse("console:organizations"))


@operator_required
@require_POST
def organization_verify_view(request: HttpRequest, organization_id: int) -> HttpResponse:
    return _organization_decision(request, organization_id, verify=True)


@operator_required
@require_POST
def organization_reject_view(request: HttpRequest, organization_id: int) -> HttpResponse:
    return _organization_decision(request, organization_id, verify=False)


# ---- products ----------------------------------------------------------------------------


@operator_required
def products(request: HttpRequest) -> HttpResponse:
    return render(request, "console/products.html", {"products": product_list()})


def _product_create_form(data: Any = None) -> ProductCreateForm:
    return ProductCreateForm(
        data,
        initial={"is_active": True, "max_names": 1, "supplier": "builtin"},
        profiles=list(pki.PROFILES),
        suppliers=supplier_keys(),
    )


def _product_form_page(
    request: HttpRequest,
    form: ProductForm,
    product: Product | None,
    *,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "console/product_form.html",
        {"form": form, "product": product, "error": error},
        status=status,
    )


def _add_service_errors(form: ProductForm, exc: CertdeskError) -> bool:
    """Put the service's field errors next to their fields; False when none belongs to one."""
    items = getattr(exc, "errors", None) or [{"field": exc.field, "message": exc.message}]
    placed = False
    for item in items:
        if item.get("field") in form.fields:
            form.add_error(item["field"], str(item["message"]))
            placed = True
    return placed


@operator_required
def product_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _product_form_page(request, _product_create_form(), None)
    form = _product_create_form(request.POST)
    if not form.is_valid():
        return _product_form_page(request, form, None, status=422)
    data = form.cleaned_data
    try:
        product = product_create_service(
            actor=request.user,
            draft=ProductDraft(
                code=data["code"],
                profile=data["profile"],
                supplier=data["supplier"],
                name_ja=data["name_ja"],
                name_en=data["name_en"],
                price_jpy=data["price_jpy"],
                max_names=data["max_names"],
                is_active=data["is_active"],
            ),
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        placed = _add_service_errors(form, exc)
        return _product_form_page(
            request, form, None, error=None if placed else exc, status=exc.status
        )
    messages.success(request, _("The product %(code)s was added.") % {"code": product.code})
    return HttpResponseRedirect(reverse("console:products"))


@operator_required
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = product_get(product_id=product_id)
    if product is None:
        raise Http404
    if request.method != "POST":
        initial = {name: getattr(product, name) for name in ProductForm.base_fields}
        return _product_form_page(request, ProductForm(initial=initial), product)
    form = ProductForm(request.POST)
    if not form.is_valid():
        return _product_form_page(request, form, product, status=422)
    data = form.cleaned_data
    try:
        product_update(
            actor=request.user,
            product_id=product.pk,
            changes=ProductChanges(
                name_ja=data["name_ja"],
                name_en=data["name_en"],
                price_jpy=data["price_jpy"],
                max_names=data["max_names"],
                is_active=data["is_active"],
            ),
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        placed = _add_service_errors(form, exc)
        return _product_form_page(
            request, form, product, error=None if placed else exc, status=exc.status
        )
    messages.success(request, _("The product %(code)s was saved.") % {"code": product.code})
    return HttpResponseRedirect(reverse("console:products"))


# ---- OV application review ---------------------------------------------------------------


@operator_required
def applications(request: HttpRequest) -> HttpResponse:
    page = application_review_queue(after=_cursor(request.GET.get("after")))
    next_url = None
    if page.next_cursor is not None:
        next_url = "?" + urlencode({"after": page.next_cursor})
    return render(
        request,
        "console/applications.html",
        {"page": page, "next_url": next_url, "first_page": "after" not in request.GET},
    )


def _application_page(
    request: HttpRequest,
    application_id: int,
    *,
    reason_form: ReasonForm | None = None,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    review = application_for_review(application_id=application_id, now=clock.now())
    if review is None:
        raise Http404
    organization = review.application.organization
    return render(
        request,
        "console/application_detail.html",
        {
            "review": review,
            "application": review.application,
            "organization": organization,
            "nta_url": nta_lookup_url(organization.corporate_number) if organization else "",
            "reason_form": reason_form or ReasonForm(),
            "error": error,
        },
        status=status,
    )


@operator_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    return _application_page(request, application_id)


@operator_required
@require_POST
def application_decide_view(request: HttpRequest, application_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    if decision not in {"approve", "reject"}:
        raise Http404
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        application = application_review(
            operator=request.user,
            application_id=application_id,
            approve=decision == "approve",
            reason=form.cleaned_data.get("reason", ""),
            now=clock.now(),
        )
    except CertdeskError as exc:
        if exc.status == 404:
            raise Http404 from None
        if exc.field == "reason":
            form.add_error("reason", str(exc.message))
            return _application_page(request, application_id, reason_form=form, status=exc.status)
        return _application_page(
            request, application_id, reason_form=form, error=exc, status=exc.status
        )
    if decision == "reject":
        done = _("Application %(number)s was rejected and the customer emailed the reason.")
    elif application.status == application.Status.ISSUED:
        done = _("Application %(number)s was approved and its certificate issued.")
    else:
        done = _(
            "Application %(number)s was approved; the certificate is issued as soon as every "
            "name is validated."
        )
    messages.success(request, done % {"number": application.number})
    return HttpResponseRedirect(reverse("console:applications"))
