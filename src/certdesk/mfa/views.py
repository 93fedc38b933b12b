"""Portal pages of the second factor: status, set-up (QR code, typed secret, confirmation),
recovery codes (shown once), regenerate and disable. Every page acts on the signed-in user."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import CertdeskError, InvalidInput
from certdesk.mfa import services
from certdesk.mfa.forms import ConfirmForm, DisableForm, RegenerateForm
from certdesk.mfa.qr import provisioning
from certdesk.mfa.selectors import mfa_status


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _show_error(form: forms.Form, exc: CertdeskError) -> None:
    field = exc.field if isinstance(exc, InvalidInput) and exc.field in form.fields else None
    form.add_error(field, str(exc.message))


def _settings_page(
    request: HttpRequest,
    *,
    regenerate_form: RegenerateForm | None = None,
    disable_form: DisableForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "mfa/settings.html",
        {
            "status": mfa_status(user=user),
            "regenerate_form": regenerate_form or RegenerateForm(prefix="regenerate"),
            "disable_form": disable_form or DisableForm(prefix="disable"),
        },
        status=status,
    )


def _retry_after(response: HttpResponse, exc: CertdeskError) -> HttpResponse:
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(int(retry_after))
    return response


@never_cache
@login_required
@require_http_methods(["GET"])
def mfa_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """POST starts a set-up (a new secret); GET shows the secret waiting for confirmation."""
    user = _user(request)
    if request.method == "POST":
        try:
            services.mfa_setup_start(user=user, now=clock.now(), ip=client_ip(request))
        except CertdeskError as exc:
            messages.error(request, str(exc.message))
            return redirect("mfa:settings")
        return redirect("mfa:setup")
    return _setup_page(request, ConfirmForm())


def _setup_page(request: HttpRequest, form: ConfirmForm, status: int = 200) -> HttpResponse:
    user = _user(request)
    if services.mfa_enabled(user):
        return redirect("mfa:settings")
    device = services.mfa_pending_device(user)
    if device is None:
        return redirect("mfa:settings")
    return render(
        request,
        "mfa/setup.html",
        {"form": form, "provisioning": provisioning(device, username=user.username)},
        status=status,
    )


@never_cache
@login_required
@require_POST
def mfa_confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return _setup_page(request, form, status=422)
    try:
        codes = services.mfa_setup_confirm(
            user=user, code=form.cleaned_data["code"], now=clock.now(), ip=client_ip(request)
        )
    except CertdeskError as exc:
        if exc.code == "mfa_setup_missing" or exc.status == 409:
            messages.error(request, str(exc.message))
            return redirect("mfa:settings")
        _show_error(form, exc)
        return _setup_page(request, form, status=exc.status)
    # Shown in this response only (never stored in plain text, never redirected through).
    return render(request, "mfa/recovery_codes.html", {"codes": codes, "just_enabled": True})


@never_cache
@login_required
@sensitive_post_parameters("regenerate-password")
@require_POST
def mfa_regenerate(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = RegenerateForm(request.POST, prefix="regenerate")
    if not form.is_valid():
        return _settings_page(request, regenerate_form=form, status=422)
    try:
        codes = services.mfa_recovery_codes_regenerate(
            user=user,
            password=form.cleaned_data["password"],
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        _show_error(form, exc)
        return _retry_after(_settings_page(request, regenerate_form=form, status=exc.status), exc)
    return render(request, "mfa/recovery_codes.html", {"codes": codes, "just_enabled": False})


@never_cache
@login_required
@sensitive_post_parameters("disable-password")
@require_POST
def mfa_disable(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DisableForm(request.POST, prefix="disable")
    if not form.is_valid():
        return _settings_page(request, disable_form=form, status=422)
    try:
        services.mfa_disable(
            user=user,
            password=form.cleaned_data["password"],
            code=form.cleaned_data["code"],
            now=clock.now(),
            ip=client_ip(request),
        )
    except CertdeskError as exc:
        _show_error(form, exc)
        return _retry_after(_settings_page(request, disable_form=form, status=exc.status), exc)
    messages.success(request, _("Two-factor authentication is now off."))
    return redirect("mfa:settings")
