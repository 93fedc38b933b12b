"""The gate every signed-in customer passes: a disabled account is signed out, and a new
version of the terms in effect must be accepted (or the account cancelled) before anything
else (article 11)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from certdesk.core import clock
from certdesk.terms.selectors import terms_pending_for


def _exempt_prefixes() -> tuple[str, ...]:
    """Paths a customer may reach while a terms acceptance is pending."""
    prefixes = ["/api/", settings.STATIC_URL]
    for name in ("terms:current", "accounts:logout", "core:language"):
        try:
            prefixes.append(reverse(name))
        except NoReverseMatch:
            continue
    return tuple(prefixes)


class TermsAcceptanceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_staff or user.account_id is None:
            return self.get_response(request)
        account = user.account
        if account.status == account.Status.DISABLED:
            # The account was disabled while this session was open: end it, say why.
            logout(request)
            return render(request, "terms/account_disabled.html", status=403)
        if request.path.startswith(_exempt_prefixes()):
            return self.get_response(request)
        if terms_pending_for(user=user, now=clock.now()) is not None:
            target = reverse("terms:accept")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(target)
        return self.get_response(request)
