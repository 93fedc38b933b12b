"""Portal pages for members: list, invite, change role, remove, revoke, accept an invitation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import CertdeskError, InvalidInput, NotFound, PermissionDenied
from certdesk.members import selectors, services
from certdesk.members.forms import AcceptForm, InviteForm, RoleForm
from certdesk.members.roles import ROLE_CHOICES, role_label


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    services.require_manager(user)
    return user


def _cursor(request: HttpRequest) -> int | None:
    value = request.GET.get("cursor", "")
    return int(value) if value.isdigit() else None


def _is_hard_refusal(exc: CertdeskError) -> bool:
    """Errors that are the page's answer (404, no permission at all), not a form message."""
    return isinstance(exc, NotFound) or (
        isinstance(exc, PermissionDenied) and exc.code == "permission_denied"
    )


def _render_list(
    request: HttpRequest,
    user: User,
    *,
    invite_form: InviteForm | None = None,
    row_errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = clock.now()
    members, next_cursor = selectors.member_list(account=user.account, cursor=_cursor(request))
    invitations, _next = selectors.invitation_list_open(account=user.account)
    context: dict[str, Any] = {
        "account": user.account,
        "members": members,
        "next_cursor": next_cursor,
        "invitations": [
            {"invitation": i, "status": i.status_at(now), "label": i.status_label_at(now)}
            for i in invitations
        ],
        "invite_form": invite_form or InviteForm(initial={"language": user.language}),
        "roles": ROLE_CHOICES,
        "row_errors": row_errors or {},
        "is_owner": user.role == User.Role.OWNER,
    }
    return render(request, "members/list.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def member_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, _manager(request))


@login_required
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.member_invite(
                actor=user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                language=form.cleaned_data["language"],
                now=clock.now(),
                request=request,
            )
        except CertdeskError as exc:
            if _is_hard_refusal(exc):
                raise
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request,
                _("We emailed an invitation to %(email)s. The link is valid for 7 days.")
                % {"email": invitation.email},
            )
            return redirect("members:list")
    return _render_list(request, user, invite_form=form, status=422)


@login_required
@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    user = _manager(request)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render_list(request, user, row_errors={member_id: _("Choose a role.")}, status=422)
    try:
        member = services.member_role_change(
            actor=user,
            member_id=member_id,
            role=form.cleaned_data["role"],
            now=clock.now(),
            request=request,
        )
    except CertdeskError as exc:
        if _is_hard_refusal(exc):
            raise
        return _render_list(
            request, user, row_errors={member_id: str(exc.message)}, status=exc.status
        )
    messages.success(
        request,
        _("%(username)s is now: %(role)s.")
        % {"username": member.username, "role": role_label(member.role)},
    )
    return redirect("members:list")


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    user = _manager(request)
    member = selectors.member_get(account=user.account, member_id=member_id)
    if member is None:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.member_remove(
                actor=user, member_id=member_id, now=clock.now(), request=request
            )
        except CertdeskError as exc:
            if _is_hard_refusal(exc):
                raise
            error = str(exc.message)
        else:
            messages.success(
                request,
                _("%(username)s was removed from the account.") % {"username": member.username},
            )
            return redirect("members:list")
    return render(
        request,
        "members/remove.html",
        {"member": member, "error": error},
        status=409 if error else 200,
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    user = _manager(request)
    try:
        invitation = services.invitation_revoke(
            actor=user, invitation_id=invitation_id, now=clock.now(), request=request
        )
    except CertdeskError as exc:
        if _is_hard_refusal(exc):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect("members:list")


def _terms_current() -> Any:
    try:
        from certdesk.terms.selectors import terms_current
    except ImportError:
        return None
    return terms_current(now=clock.now())


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, secret: str) -> HttpResponse:
    """The page behind the emailed link: choose an account ID and password, accept the terms."""
    now = clock.now()
    invitation = services.invitation_for_secret(secret=secret, now=now)
    signed_in = request.user.is_authenticated
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and not signed_in and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.invitation_accept(
                secret=secret,
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                accept_terms=data["accept_terms"],
                ip=client_ip(request),
                now=now,
                request=request,
            )
        except InvalidInput as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        except CertdeskError as exc:
            if exc.status in (403, 410):
                raise
            form.add_error(None, str(exc.message))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Welcome to certdesk. You are now a member of %(organization)s.")
                % {"organization": invitation.account.organization_name},
            )
            return redirect("core:dashboard")
    return render(
        request,
        "members/accept.html",
        {
            "invitation": invitation,
            "role_label": role_label(invitation.role),
            "form": form,
            "terms": _terms_current(),
            "signed_in": signed_in,
        },
        status=422 if request.method == "POST" else 200,
    )
