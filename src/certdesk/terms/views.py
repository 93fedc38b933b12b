"""Public terms pages and the accept-or-cancel page a customer meets after a change."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import CertdeskError
from certdesk.terms.forms import AcceptForm, CancelForm
from certdesk.terms.models import TermsVersion
from certdesk.terms.selectors import (
    terms_current,
    terms_pending_for,
    terms_published,
    terms_published_get,
)
from certdesk.terms.services import terms_accept, terms_reject_and_cancel


def _text_language(request: HttpRequest) -> str:
    """The language the text is shown in: ``?lang=`` if given, else the UI language."""
    lang = request.GET.get("lang", "")
    if lang in {"ja", "en"}:
        return lang
    return "en" if (get_language() or "ja").startswith("en") else "ja"


def _document_context(request: HttpRequest, version: TermsVersion) -> dict[str, object]:
    lang = _text_language(request)
    return {
        "version": version,
        "text_lang": lang,
        "other_lang": "ja" if lang == "en" else "en",
        "title": version.title(lang),
        "body": version.body(lang),
        "summary": version.summary(lang),
    }


def current(request: HttpRequest) -> HttpResponse:
    version = terms_current(now=clock.now())
    if version is None:
        raise Http404
    return render(
        request, "terms/document.html", {**_document_context(request, version), "is_current": True}
    )


def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    now = clock.now()
    version = terms_published_get(number=number, now=now)
    if version is None:
        raise Http404
    newest = terms_current(now=now)
    context = _document_context(request, version)
    context["is_current"] = newest is not None and newest.pk == version.pk
    return render(request, "terms/document.html", context)


def version_list(request: HttpRequest) -> HttpResponse:
    versions = list(terms_published(now=clock.now()))
    return render(request, "terms/list.html", {"versions": versions})


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("core:dashboard")


def _accept_page(
    request: HttpRequest,
    version: TermsVersion,
    *,
    cancel_form: CancelForm | None = None,
    error: CertdeskError | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _document_context(request, version)
    context.update(
        {
            "accept_form": AcceptForm(initial={"version": version.number}),
            "cancel_form": cancel_form or CancelForm(initial={"version": version.number}),
            "next": _next_url(request),
            "is_owner": request.user.role == request.user.Role.OWNER,
            "error": error,
        }
    )
    return render(request, "terms/accept.html", context, status=status)


@login_required
def accept(request: HttpRequest) -> HttpResponse:
    """Show the version waiting for acceptance; POST accepts it."""
    now = clock.now()
    pending = terms_pending_for(user=request.user, now=now)
    if pending is None:
        return HttpResponseRedirect(_next_url(request))
    if request.method != "POST":
        return _accept_page(request, pending)
    form = AcceptForm(request.POST)
    if not form.is_valid() or form.cleaned_data["version"] != pending.number:
        # The page was for another version (a newer one took effect meanwhile): show it.
        messages.warning(request, _("The terms changed while you were reading. Please review."))
        return _accept_page(request, pending, status=409)
    try:
        terms_accept(user=request.user, version=pending, ip=client_ip(request), now=now)
    except CertdeskError as exc:
        return _accept_page(request, pending, error=exc, status=exc.status)
    messages.success(
        request,
        _("Thank you. You accepted version %(number)s of the terms of use.")
        % {"number": pending.number},
    )
    return HttpResponseRedirect(_next_url(request))


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """The owner rejects the pending version and asks for the account's closure."""
    now = clock.now()
    pending = terms_pending_for(user=request.user, now=now)
    if pending is None:
        return HttpResponseRedirect(reverse("core:dashboard"))
    form = CancelForm(request.POST)
    if not form.is_valid() or form.cleaned_data["version"] != pending.number:
        messages.warning(request, _("The terms changed while you were reading. Please review."))
        return _accept_page(request, pending, status=409)
    data = form.cleaned_data
    try:
        terms_reject_and_cancel(
            user=request.user,
            version=pending,
            password=data["password"],
            confirmed=bool(data["confirm"]),
            reason=data["reason"],
            ip=client_ip(request),
            now=now,
        )
    except CertdeskError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc.message))
            return _accept_page(request, pending, cancel_form=form, status=exc.status)
        return _accept_page(request, pending, cancel_form=form, error=exc, status=exc.status)
    messages.success(
        request,
        _(
            "Your request to close the account has been received. You can still sign in to "
            "download your data until the account is deleted."
        ),
    )
    return HttpResponseRedirect(reverse("core:dashboard"))
