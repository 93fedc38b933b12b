"""Portal pages for personal API tokens: list, create (secret shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from certdesk.accounts.models import User
from certdesk.core import clock
from certdesk.core.errors import CertdeskError, PermissionDenied
from certdesk.tokens import selectors, services
from certdesk.tokens.forms import TokenCreateForm
from certdesk.tokens.scopes import SCOPES


def _member(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.account_id is None:
        raise PermissionDenied(_("Only members of a customer account have API tokens."))
    return user


def _form(user: User, data: Any = None) -> TokenCreateForm:
    form = TokenCreateForm(data)
    allowed = services.scopes_allowed_for(user)
    form.fields["scopes"].choices = [(s, SCOPES[s]) for s in allowed]  # type: ignore[attr-defined]
    return form


def _render_list(
    request: HttpRequest, user: User, *, form: TokenCreateForm | None = None, status: int = 200
) -> HttpResponse:
    now = clock.now()
    cursor_raw = request.GET.get("cursor", "")
    tokens, next_cursor = selectors.token_list(
        user=user, cursor=int(cursor_raw) if cursor_raw.isdigit() else None
    )
    rows = [
        {
            "token": t,
            "status": t.status_at(now),
            "scope_labels": [SCOPES.get(s, s) for s in t.scopes],
        }
        for t in tokens
    ]
    return render(
        request,
        "tokens/list.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "form": form or _form(user),
            "show_owner": user.can_manage_account(),
            "read_only": user.role == User.Role.READ_ONLY,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def token_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, _member(request))


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = _form(user, request.POST)
    if form.is_valid():
        try:
            created = services.token_create(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                now=clock.now(),
                request=request,
            )
        except CertdeskError as exc:
            if exc.status in (403, 404):
                raise
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            # Rendered in the POST response, never stored (not even in the session): the
            # secret exists only on this page.
            return render(
                request,
                "tokens/created.html",
                {
                    "token": created.token,
                    "secret": created.secret,
                    "scope_labels": [SCOPES[s] for s in created.token.scopes],
                },
            )
    return _render_list(request, user, form=form, status=422)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _member(request)
    token = services.token_revoke(actor=user, token_id=token_id, now=clock.now(), request=request)
    messages.success(
        request,
        _("The token “%(name)s” (%(prefix)s…) was revoked and no longer works.")
        % {"name": token.name, "prefix": token.prefix},
    )
    return redirect("tokens:list")
