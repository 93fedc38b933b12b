"""Portal pages of the certificate lifecycle: apply, follow an application through domain
validation, then look at, download, renew or revoke the certificate.

Thin on purpose: each view reads what it shows or calls one service, then renders. Every id in
a URL is looked up inside the signed-in member's account, so another account's id is a 404
exactly like an id that does not exist. Refusals from the services appear next to the field
they name; a read-only member meets the service's own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import pki
from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.certificates import services
from certdesk.certificates.downloads import (
    LABELS,
    Format,
    base_name,
    certificate_file,
    download_filename,
)
from certdesk.certificates.forms import (
    REVOCATION_LABELS,
    REVOCATION_REASONS,
    ApplyForm,
    CancelForm,
    CsrHelperForm,
    MethodForm,
    RevokeForm,
    product_purpose,
)
from certdesk.certificates.models import Application, ApplicationName, Certificate, Product
from certdesk.core import clock
from certdesk.core.errors import CertdeskError, NotFound, PermissionDenied
from certdesk.organizations.selectors import organization_choices
from certdesk.validation import lookups
from certdesk.validation.models import DomainValidation

PAGE_SIZE = 25


# --- shared -----------------------------------------------------------------------------------


def _member(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.account_id is None:
        raise PermissionDenied(_("Only members of a customer account have certificates."))
    return user


def _application_or_404(user: User, application_id: int) -> Application:
    application = (
        Application.objects.select_related("product", "organization", "renewal_of")
        .filter(pk=application_id, account_id=user.account_id)
        .first()
    )
    if application is None:
        raise NotFound(code="application_not_found")
    return application


def _certificate_or_404(user: User, certificate_id: int) -> Certificate:
    certificate = (
        Certificate.objects.select_related("product", "organization", "application", "renewal_of")
        .filter(pk=certificate_id, account_id=user.account_id)
        .first()
    )
    if certificate is None:
        raise NotFound(code="certificate_not_found")
    return certificate


def _show_error(form: Any, exc: CertdeskError) -> None:
    """Put a service's refusal next to the field it names (the whole form otherwise)."""
    if exc.status in (403, 404):
        # Not something the form can fix: the error page says it (read-only member, not yours).
        raise exc
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


def _language() -> str:
    return "ja" if (translation.get_language() or "ja").startswith("ja") else "en"


def _colon_hex(hex_digits: str) -> str:
    return ":".join(hex_digits[i : i + 2] for i in range(0, len(hex_digits), 2)).upper()


# --- applying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductChoice:
    product: Product
    name: str
    purpose: str


def _products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("sort_order", "id")


def _apply_form(user: User, *args: Any, **kwargs: Any) -> ApplyForm:
    assert user.account is not None
    return ApplyForm(
        *args,
        products=_products(),
        organizations=organization_choices(account=user.account),
        **kwargs,
    )


def _helper_form(request: HttpRequest, names: list[str] | None, key: str) -> CsrHelperForm:
    """The openssl helper, bound when the customer typed names (or a renewal brings them)."""
    if "helper-names" in request.GET:
        return CsrHelperForm(request.GET)
    if names:
        return CsrHelperForm({"helper-names": " ".join(names), "helper-key": key})
    return CsrHelperForm()


def _openssl_command(names: tuple[str, ...], key: str) -> dict[str, str]:
    base = names[0].replace("*", "wildcard")
    newkey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256" if key == "ec" else "-newkey rsa:2048"
    san = ",".join(f"DNS:{name}" for name in names)
    command = (
        f"openssl req -new {newkey} -nodes -keyout {base}.key -out {base}.csr "
        f'-subj "/CN={names[0]}" -addext "subjectAltName={san}"'
    )
    return {"command": command, "key_file": f"{base}.key", "csr_file": f"{base}.csr"}


def _apply_page(
    request: HttpRequest, user: User, *, renewal_of: Certificate | None = None
) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = _apply_form(user, request.POST, request.FILES)
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            try:
                application = services.application_create(
                    user=user,
                    product_id=form.cleaned_data["product"].pk,
                    csr=form.cleaned_data["csr_data"],
                    now=clock.now(),
                    organization_id=organization.pk if organization else None,
                    method=form.cleaned_data["method"],
                    renewal_of_id=renewal_of.pk if renewal_of else None,
                    ip=client_ip(request),
                )
            except CertdeskError as exc:
                _show_error(form, exc)
                form.private_key_pasted = form.private_key_pasted or exc.code == "csr_private_key"
            else:
                return _after_apply(request, application)
        if form.private_key_pasted:
            form.forget_csr()
        status = 422
    else:
        initial: dict[str, Any] = {}
        if renewal_of is not None:
            initial = {
                "product": renewal_of.product_id,
                "organization": renewal_of.organization_id,
            }
        elif request.GET.get("product", "").isdigit():
            initial["product"] = int(request.GET["product"])
        form = _apply_form(user, initial=initial)

    language = _language()
    products = [
        ProductChoice(product=p, name=p.display_name(language), purpose=str(product_purpose(p)))
        for p in form.fields["product"].queryset  # type: ignore[attr-defined]
    ]
    chosen = str(form["product"].value() or "")
    helper = _helper_form(
        request,
        list(renewal_of.names) if renewal_of else None,
        "rsa" if renewal_of and renewal_of.key_description.startswith("RSA") else "ec",
    )
    command = (
        _openssl_command(helper.cleaned_data["names"], helper.cleaned_data["key"])
        if (helper.is_bound and helper.is_valid())
        else None
    )
    return render(
        request,
        "certificates/apply.html",
        {
            "form": form,
            "products": products,
            "chosen_product": chosen,
            "helper": helper,
            "command": command,
            "renewal_of": renewal_of,
            "has_organizations": form.fields["organization"].queryset.exists(),  # type: ignore[attr-defined]
        },
        status=status,
    )


def _after_apply(request: HttpRequest, application: Application) -> HttpResponse:
    renewal_of = application.renewal_of
    if renewal_of is not None and renewal_of.key_fingerprint == application.key_fingerprint:
        messages.warning(
            request,
            _(
                "This CSR reuses the key of the certificate being renewed. Reusing the key is "
                "allowed but discouraged: next time, create a new key with the CSR."
            ),
        )
    if application.status == Application.Status.ISSUED:
        messages.success(
            request,
            _(
                "Application %(number)s was issued at once: every name was already validated. "
                "Download the certificate below."
            )
            % {"number": application.number},
        )
        certificate = Certificate.objects.get(application=application)
        return redirect("certificates:detail", certificate.pk)
    messages.success(
        request,
        _(
            "Application %(number)s was received. Next, prove that you control the names as "
            "described below."
        )
        % {"number": application.number},
    )
    return redirect("certificates:application_detail", application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    services.require_writer(user)
    return _apply_page(request, user)


@login_required
@require_http_methods(["GET", "POST"])
def certificate_renew(request: HttpRequest, certificate_id: int) -> HttpResponse:
    user = _member(request)
    certificate = _certificate_or_404(user, certificate_id)
    services.require_writer(user)
    return _apply_page(request, user, renewal_of=certificate)


# --- applications -----------------------------------------------------------------------------


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    now = clock.now()
    cursor_raw = request.GET.get("cursor", "")
    # Newest first on the (account, -id) index; the cursor is the last id shown: no OFFSET, and
    # no COUNT either, one row more than the page tells whether there is a next page.
    qs = (
        Application.objects.filter(account_id=user.account_id)
        .select_related("product", "certificate")
        .prefetch_related(
            Prefetch("dcv", queryset=ApplicationName.objects.select_related("validation"))
        )
        .order_by("-id")
    )
    if cursor_raw.isdigit():
        qs = qs.filter(id__lt=int(cursor_raw))
    items = list(qs[: PAGE_SIZE + 1])
    next_cursor = items[PAGE_SIZE - 1].pk if len(items) > PAGE_SIZE else None
    language = _language()
    rows = [
        {
            "application": a,
            "product_name": a.product.display_name(language),
            "waiting": services.application_waiting_for(a, now=now) if a.is_pending else [],
            "certificate": getattr(a, "certificate", None),
        }
        for a in items[:PAGE_SIZE]
    ]
    return render(
        request,
        "certificates/application_list.html",
        {"rows": rows, "next_cursor": next_cursor, "can_write": user.can_write()},
    )


@dataclass
class ValidationGroup:
    """One validation and the application's names it proves (a wildcard and its base domain
    share one DNS record)."""

    validation: DomainValidation
    names: list[str]
    valid: bool
    reusable_until: datetime | None
    message: str
    can_switch: bool
    zone: str = ""
    dns_host: str = ""


def _dns_host(record_name: str, adn: str) -> tuple[str, str]:
    """The record's host relative to the registered domain, as most DNS control panels
    want it (``_pki-validation.www`` in the zone ``example.co.jp``), and that zone."""
    zone = pki.registrable_domain(adn) or adn
    return record_name.removesuffix("." + zone), zone


def _validation_groups(application: Application, now: datetime) -> list[ValidationGroup]:
    groups: dict[int, ValidationGroup] = {}
    for entry in application.dcv.select_related("validation").order_by("id"):
        validation = entry.validation
        group = groups.get(validation.pk)
        if group is None:
            code = validation.last_code
            group = ValidationGroup(
                validation=validation,
                names=[],
                valid=validation.is_valid_at(now),
                reusable_until=validation.reusable_until(now),
                message=str(lookups.MESSAGES.get(code, "")) if code and code != "ok" else "",
                can_switch=False,
            )
            group.dns_host, group.zone = _dns_host(validation.record_name, validation.name)
            groups[validation.pk] = group
        group.names.append(entry.name)
    for group in groups.values():
        # HTTP proves exactly one FQDN and never a wildcard; a shared record is DNS for good.
        group.can_switch = (
            application.is_pending
            and not group.valid
            and len(group.names) == 1
            and not group.names[0].startswith("*.")
        )
    return list(groups.values())


def _application_page(
    request: HttpRequest,
    user: User,
    application: Application,
    *,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = clock.now()
    waiting = (
        services.application_waiting_for(application, now=now) if application.is_pending else []
    )
    certificate = Certificate.objects.filter(application=application).only("id").first()
    renewal_of = application.renewal_of
    blocked = ""
    if application.blocked_code:
        blocked = str(lookups.MESSAGES.get(application.blocked_code, "")) or _(
            "The certificate authority could not issue the certificate yet (%(code)s)."
        ) % {"code": application.blocked_code}
    return render(
        request,
        "certificates/application_detail.html",
        {
            "application": application,
            "product_name": application.product.display_name(_language()),
            "groups": _validation_groups(application, now),
            "waiting": waiting,
            "certificate": certificate,
            "key_reused": renewal_of is not None
            and renewal_of.key_fingerprint == application.key_fingerprint,
            "blocked_message": blocked,
            "cancel_form": cancel_form or CancelForm(),
            "can_write": user.can_write(),
            "now": now,
        },
        status=status,
    )


@login_required
@require_GET
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    user = _member(request)
    return _application_page(request, user, _application_or_404(user, application_id))


@login_required
@require_POST
def application_validate(request: HttpRequest, application_id: int) -> HttpResponse:
    user = _member(request)
    _application_or_404(user, application_id)
    application = services.application_validate(
        user=user, application_id=application_id, now=clock.now()
    )
    if application.status == Application.Status.ISSUED:
        messages.success(request, _("All names are validated: the certificate was issued."))
    elif application.is_pending:
        waiting = services.application_waiting_for(application, now=clock.now())
        if "dcv" in waiting:
            messages.warning(
                request,
                _("Not every name could be validated yet. The result of each check is below."),
            )
        elif "approval" in waiting:
            messages.info(
                request,
                _(
                    "Every name is validated. The certificate is issued after the operator's "
                    "review."
                ),
            )
        elif application.blocked_code:
            messages.warning(request, _("The names are validated, but issuance is blocked."))
    return redirect("certificates:application_detail", application_id)


@login_required
@require_POST
def application_method(request: HttpRequest, application_id: int) -> HttpResponse:
    user = _member(request)
    _application_or_404(user, application_id)
    form = MethodForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose DNS or HTTP as the method for this name."))
        return redirect("certificates:application_detail", application_id)
    try:
        entry = services.application_method_change(
            user=user,
            application_id=application_id,
            name=form.cleaned_data["name"],
            method=form.cleaned_data["method"],
            now=clock.now(),
        )
    except CertdeskError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(name)s is now validated by: %(method)s. The new instructions are below.")
            % {"name": entry.name, "method": entry.validation.get_method_display()},
        )
    return redirect("certificates:application_detail", application_id)


@login_required
@require_POST
def application_cancel(request: HttpRequest, application_id: int) -> HttpResponse:
    user = _member(request)
    application = _application_or_404(user, application_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.application_cancel(user=user, application_id=application_id, now=clock.now())
        except CertdeskError as exc:
            _show_error(form, exc)
        else:
            messages.success(
                request,
                _("Application %(number)s was cancelled.") % {"number": application.number},
            )
            return redirect("certificates:application_detail", application_id)
    return _application_page(request, user, application, cancel_form=form, status=422)


# --- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainEntry:
    subject: str
    issuer: str
    not_after: datetime


def _chain(certificate: Certificate) -> list[ChainEntry]:
    if not certificate.chain_pem.strip():
        return []
    return [
        ChainEntry(
            subject=item.subject.rfc4514_string(),
            issuer=item.issuer.rfc4514_string(),
            not_after=item.not_valid_after_utc,
        )
        for item in x509.load_pem_x509_certificates(certificate.chain_pem.encode("ascii"))
    ]


@login_required
@require_GET
def certificate_detail(request: HttpRequest, certificate_id: int) -> HttpResponse:
    user = _member(request)
    certificate = _certificate_or_404(user, certificate_id)
    now = clock.now()
    leaf = x509.load_pem_x509_certificate(certificate.pem.encode("ascii"))
    downloads = [
        {
            "format": fmt.value,
            "label": LABELS[fmt],
            "filename": download_filename(certificate, fmt),
            "url": reverse("certificates:download", args=[certificate.pk]) + f"?format={fmt}",
            "recommended": fmt is Format.FULLCHAIN,
        }
        for fmt in (Format.FULLCHAIN, Format.PKCS7, Format.PEM, Format.CHAIN, Format.DER)
    ]
    files = {d["format"]: d["filename"] for d in downloads}
    base = base_name(certificate)
    reason = certificate.revocation_reason
    return render(
        request,
        "certificates/detail.html",
        {
            "certificate": certificate,
            "status": certificate.status_at(now),
            "revocation_label": REVOCATION_LABELS.get(reason, str(reason))
            if reason is not None
            else "",
            "product_name": certificate.product.display_name(_language()),
            "issuer_dn": leaf.issuer.rfc4514_string(),
            "serial_decimal": str(certificate.serial_int),
            "fingerprint": _colon_hex(certificate.fingerprint_sha256),
            "days_left": (certificate.not_after - now).days,
            "chain": _chain(certificate),
            "renewed_by": list(certificate.renewed_by.order_by("id").only("id", "serial")),
            "downloads": downloads,
            "files": files,
            "key_file": f"{base}.key",
            "can_write": user.can_write(),
        },
    )


@login_required
@require_GET
def certificate_download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    user = _member(request)
    certificate = _certificate_or_404(user, certificate_id)
    download = certificate_file(certificate, request.GET.get("format"))
    response = HttpResponse(download.body, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def certificate_revoke(request: HttpRequest, certificate_id: int) -> HttpResponse:
    user = _member(request)
    certificate = _certificate_or_404(user, certificate_id)
    services.require_writer(user)
    status = 200
    if request.method == "POST" and certificate.revoked_at is None:
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                services.certificate_revoke(
                    user=user,
                    certificate_id=certificate.pk,
                    reason=form.cleaned_data["reason"],
                    now=clock.now(),
                    ip=client_ip(request),
                )
            except CertdeskError as exc:
                _show_error(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "The certificate %(serial)s was revoked. Revocation lists and OCSP "
                        "answers say so from now on."
                    )
                    % {"serial": certificate.serial_colon_hex},
                )
                return redirect("certificates:detail", certificate.pk)
        status = 422
    else:
        form = RevokeForm()
    reasons = [
        {"code": code, "label": label, "help": help_text}
        for code, label, help_text in REVOCATION_REASONS
    ]
    return render(
        request,
        "certificates/revoke.html",
        {
            "certificate": certificate,
            "form": form,
            "reasons": reasons,
            "chosen": form["reason"].value() or "",
        },
        status=status,
    )
