"""Portal pages for accounts: register, verify email, sign in (with the TOTP step), sign out,
password reset and change, profile and account data. Views validate the form, call one
service and render; refusals are shown next to the field they concern."""

from __future__ import annotations

import secrets
from typing import Any

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from certdesk.accounts import selectors, services
from certdesk.accounts.forms import (
    AccountDataForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegistrationForm,
    SecondFactorForm,
)
from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import (
    CertdeskError,
    InvalidInput,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)

DEVICE_COOKIE = "certdesk_device"
DEVICE_COOKIE_SALT = "certdesk.accounts.device"
# Browsers keep a cookie at most 400 days.
DEVICE_COOKIE_AGE = 400 * 24 * 3600
MFA_PENDING_KEY = "certdesk_mfa_pending"
# How long the second step may wait after the password was accepted.
MFA_PENDING_SECONDS = 300


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def _next_url(request: HttpRequest, default: str = "core:dashboard") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


def _with_retry_after(response: HttpResponse, exc: CertdeskError) -> HttpResponse:
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(int(retry_after))
    return response


# ---- device cookie and completing a sign-in -------------------------------------------------


def _device_id(request: HttpRequest) -> tuple[str, bool]:
    """The browser's device id from its signed cookie, or a new one (second item True)."""
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)
    if value and 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(24), True


def _set_device_cookie(response: HttpResponse, device_id: str) -> None:
    response.set_signed_cookie(
        DEVICE_COOKIE,
        device_id,
        salt=DEVICE_COOKIE_SALT,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def _complete_sign_in(
    request: HttpRequest, user: User, *, method: str, next_url: str
) -> HttpResponse:
    """Log the user in (and their OTP device), record the sign-in and go on."""
    device_id, _new = _device_id(request)
    services.user_signed_in(
        user=user,
        ip=_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        device_id=device_id,
        method=method,
        now=clock.now(),
    )
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    from certdesk.mfa.services import mfa_device

    device = mfa_device(user)
    if device is not None and method != "password":
        django_otp.login(request, device)
    translation.activate(user.language)
    response = HttpResponseRedirect(next_url)
    _set_device_cookie(response, device_id)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        user.language,
        max_age=365 * 24 * 3600,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


# ---- registration ----------------------------------------------------------------------------


def _terms_version() -> Any:
    from certdesk.terms.selectors import terms_current

    return terms_current(now=clock.now())


@never_cache
@sensitive_post_parameters("password", "password_confirm")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    version = _terms_version()
    status = 200
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.account_register(
                    data=services.Registration(
                        username=data["username"],
                        password=data["password"],
                        full_name=data["full_name"],
                        organization_name=data["organization_name"],
                        postal_code=data["postal_code"],
                        address=data["address"],
                        email=data["email"],
                        phone=data["phone"],
                        language=data["language"],
                        terms_version=data["terms_version"],
                        accept_terms=bool(data["accept_terms"]),
                    ),
                    ip=_ip(request),
                    now=clock.now(),
                )
            except ServiceUnavailable as exc:
                form.add_error(None, str(exc.message))
                response = render(
                    request,
                    "accounts/register.html",
                    {"form": form, "terms_version": version},
                    status=exc.status,
                )
                return _with_retry_after(response, exc)
            except InvalidInput as exc:
                status = exc.status
                if any(e.get("code") == "terms_outdated" for e in exc.errors):
                    # Show the new version and ask again for the tick.
                    form = _rebound_with_version(form, version)
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _(
                        "Welcome to certdesk. We have emailed a link to %(email)s: open it to "
                        "confirm your email address."
                    )
                    % {"email": user.email},
                )
                return _complete_sign_in(
                    request, user, method="registration", next_url=reverse("core:dashboard")
                )
        else:
            status = 422
    else:
        form = RegistrationForm(
            initial={
                "language": "en" if (translation.get_language() or "ja").startswith("en") else "ja",
                "terms_version": version.number if version is not None else None,
            }
        )
    return render(
        request, "accounts/register.html", {"form": form, "terms_version": version}, status=status
    )


def _rebound_with_version(form: RegistrationForm, version: Any) -> RegistrationForm:
    """The same entries with the current terms version and the acceptance box cleared."""
    data = form.data.copy()
    data["terms_version"] = str(version.number) if version is not None else ""
    data.pop("accept_terms", None)
    rebound = RegistrationForm(data)
    rebound.is_valid()
    return rebound


# ---- email verification -------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token, now=clock.now(), ip=_ip(request))
    except CertdeskError as exc:
        return render(request, "accounts/verify_failed.html", {"error": exc}, status=exc.status)
    return render(request, "accounts/verify_done.html", {"verified_email": user.email})


@login_required
@require_http_methods(["GET", "POST"])
def verify_resend(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        try:
            sent_to = services.email_verification_resend(
                user=user, now=clock.now(), ip=_ip(request)
            )
        except CertdeskError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            response = render(
                request, "accounts/verify_resend.html", {"error": exc}, status=exc.status
            )
            return _with_retry_after(response, exc)
        messages.success(
            request,
            _("We have sent a new link to %(email)s. It is valid for %(hours)d hours.")
            % {"email": sent_to, "hours": settings.CERTDESK_EMAIL_TOKEN_HOURS},
        )
        return redirect("accounts:verify_resend")
    return render(request, "accounts/verify_resend.html", {})


# ---- sign-in --------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            now = clock.now()
            try:
                user = services.credentials_check(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    ip=_ip(request),
                    now=now,
                )
            except CertdeskError as exc:
                form.add_error(None, str(exc.message))
                response = render(
                    request,
                    "accounts/login.html",
                    {"form": form, "next": next_url, "error": exc},
                    status=exc.status,
                )
                return _with_retry_after(response, exc)
            from certdesk.mfa.services import mfa_enabled

            if mfa_enabled(user):
                request.session.cycle_key()
                request.session[MFA_PENDING_KEY] = {
                    "user": user.pk,
                    "at": now.timestamp(),
                    "next": next_url,
                    "hash": user.get_session_auth_hash(),
                }
                return redirect("accounts:login_mfa")
            return _complete_sign_in(request, user, method="password", next_url=next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    pending = request.session.get(MFA_PENDING_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if clock.now().timestamp() - float(pending.get("at", 0)) > MFA_PENDING_SECONDS:
        return None, pending
    user = User.objects.select_related("account").filter(pk=pending.get("user")).first()
    if (
        user is None
        or not user.is_active
        or not constant_time_compare(user.get_session_auth_hash(), str(pending.get("hash", "")))
    ):
        return None, pending
    return user, pending


@never_cache
@require_http_methods(["GET", "POST"])
def login_mfa(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(MFA_PENDING_KEY, None)
        if pending:
            messages.error(
                request, _("The sign-in took too long. Please enter your password again.")
            )
        return redirect("accounts:login")
    form = SecondFactorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                method = services.login_second_factor(
                    user=user, code=form.cleaned_data["code"], ip=_ip(request), now=clock.now()
                )
            except CertdeskError as exc:
                if isinstance(exc, RateLimited):
                    request.session.pop(MFA_PENDING_KEY, None)
                form.add_error("code" if exc.field == "code" else None, str(exc.message))
                response = render(
                    request, "accounts/login_mfa.html", {"form": form}, status=exc.status
                )
                return _with_retry_after(response, exc)
            request.session.pop(MFA_PENDING_KEY, None)
            if method == "recovery_code":
                from certdesk.mfa.services import recovery_codes_remaining

                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; it cannot be used again. "
                        "%(count)d recovery codes are left."
                    )
                    % {"count": recovery_codes_remaining(user)},
                )
            return _complete_sign_in(
                request,
                user,
                method=method,
                next_url=str(pending.get("next") or reverse("core:dashboard")),
            )
    return render(request, "accounts/login_mfa.html", {"form": form}, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.user_signed_out(user=_user(request), ip=_ip(request), now=clock.now())
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# ---- passwords --------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.password_reset_request(
                    email=form.cleaned_data["email"], ip=_ip(request), now=clock.now()
                )
            except InvalidInput as exc:
                form.add_error("email", str(exc.message))
            else:
                return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"hours": settings.CERTDESK_EMAIL_TOKEN_HOURS},
    )


@never_cache
@sensitive_post_parameters("password", "password_confirm")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        selectors.reset_link_check(token=token, now=clock.now())
    except CertdeskError as exc:
        return render(
            request, "accounts/password_reset_invalid.html", {"error": exc}, status=exc.status
        )
    form = PasswordResetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.password_reset_complete(
                    token=token,
                    password=form.cleaned_data["password"],
                    ip=_ip(request),
                    now=clock.now(),
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
                status = exc.status
            except CertdeskError as exc:
                return render(
                    request,
                    "accounts/password_reset_invalid.html",
                    {"error": exc},
                    status=exc.status,
                )
            else:
                messages.success(
                    request, _("Your password has been changed. Please sign in with it.")
                )
                return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=status)


@login_required
@sensitive_post_parameters("current_password", "new_password", "new_password_confirm")
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.password_change(
                    user=user,
                    current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["new_password"],
                    ip=_ip(request),
                    now=clock.now(),
                )
            except CertdeskError as exc:
                if isinstance(exc, InvalidInput):
                    form.add_service_errors(exc)
                else:
                    form.add_error(None, str(exc.message))
                response = render(
                    request, "accounts/password_change.html", {"form": form}, status=exc.status
                )
                return _with_retry_after(response, exc)
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


# ---- profile ----------------------------------------------------------------------------------


def _profile_page(
    request: HttpRequest,
    *,
    profile_form: ProfileForm | None = None,
    account_form: AccountDataForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    account = user.account
    profile_form = profile_form or ProfileForm(
        initial={
            "full_name": user.full_name,
            "email": user.pending_email or user.email,
            "phone": user.phone,
            "language": user.language,
        }
    )
    can_manage = user.can_manage_account()
    if account is not None and can_manage and account_form is None:
        account_form = AccountDataForm(
            initial={
                "organization_name": account.organization_name,
                "postal_code": account.postal_code,
                "address": account.address,
                "phone": account.phone,
                "email": account.email,
            },
            prefix="account",
        )
    context = {
        "account": account,
        "profile_form": profile_form,
        "account_form": account_form if can_manage else None,
        "can_manage": can_manage,
        "devices": selectors.known_devices(user=user, limit=10),
        "confirmation": selectors.account_confirmation(account=account, now=clock.now())
        if account is not None
        else None,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.account_id is None:
        # Operators have no customer account: their page is the console.
        return redirect("core:dashboard")
    if request.method == "GET":
        return _profile_page(request)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, profile_form=form, status=422)
    data = form.cleaned_data
    try:
        result = services.profile_update(
            user=user,
            user_changes=services.UserChanges(
                full_name=data["full_name"],
                phone=data["phone"],
                language=data["language"],
                email=data["email"],
            ),
            now=clock.now(),
            ip=_ip(request),
        )
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _profile_page(request, profile_form=form, status=exc.status)
    translation.activate(result.user.language)
    if result.email_change_requested:
        messages.info(
            request,
            _(
                "We have sent a link to %(email)s. Your email address changes when you open it; "
                "until then we keep using %(current)s."
            )
            % {"email": result.email_change_requested, "current": result.user.email},
        )
    messages.success(request, _("Your details have been saved."))
    response = redirect("accounts:profile")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        result.user.language,
        max_age=365 * 24 * 3600,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


@login_required
@require_POST
def profile_account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.account_id is None:
        return redirect("core:dashboard")
    form = AccountDataForm(request.POST, prefix="account")
    if not form.is_valid():
        return _profile_page(request, account_form=form, status=422)
    data = form.cleaned_data
    try:
        services.profile_update(
            user=user,
            account_changes=services.AccountChanges(
                organization_name=data["organization_name"],
                postal_code=data["postal_code"],
                address=data["address"],
                phone=data["phone"],
                email=data["email"],
            ),
            now=clock.now(),
            ip=_ip(request),
        )
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return _profile_page(request, account_form=form, status=exc.status)
    messages.success(request, _("The account data has been saved."))
    return redirect("accounts:profile")


@login_required
@require_POST
def profile_confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.account_id is None:
        return redirect("core:dashboard")
    services.account_data_confirm(user=user, now=clock.now(), ip=_ip(request))
    messages.success(request, _("Thank you. We have noted that the account data is current."))
    return redirect("accounts:profile")
