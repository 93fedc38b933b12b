"""Site-wide pages: home, dashboard, language switch and the error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from certdesk.certificates.search_views import expiry_panel
from certdesk.core import clock
from certdesk.core.problems import problem_response, wants_problem_json

StrOrPromise = str | Promise


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("console:index")
    account = request.user.account
    context: dict[str, object] = {"account": account}
    if account is not None:
        # The expiry panel: certificates expiring in 30/60/90 days, validations to redo.
        context.update(expiry_panel(account=account, now=clock.now()))
    return render(request, "core/dashboard.html", context)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; a signed-in user's choice is saved for their emails too."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in {"ja", "en"}:
        return response
    if request.user.is_authenticated:
        from certdesk.accounts.services import user_set_language

        user_set_language(user=request.user, language=language, request=request)
    translation.activate(language)
    from django.conf import settings

    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


def _error(request: HttpRequest, status: int, code: str, message: StrOrPromise) -> HttpResponse:
    if wants_problem_json(request):
        return problem_response(status=status, code=code, message=message, request=request)
    return render(
        request,
        "core/error.html",
        {"error": {"status": status, "code": code, "message": message}},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("The page you asked for does not exist."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        500,
        "internal_error",
        _("Something went wrong on our side. Nothing you sent was half-saved; please retry."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        "csrf_failed",
        _("The form expired or was sent from another site. Reload the page and try again."),
    )
