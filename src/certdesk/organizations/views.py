"""Portal pages for the organisations an account acts for: list, add, show, edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from certdesk.accounts.models import User
from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certdesk.organizations import selectors, services
from certdesk.organizations.forms import OrganizationForm
from certdesk.organizations.models import Organization
from certdesk.organizations.services import IDENTITY_FIELDS


def _member(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.account_id is None:
        raise PermissionDenied(_("Only members of a customer account register organisations."))
    return user


def _organization_or_404(user: User, organization_id: int) -> Organization:
    organization = selectors.organization_get(user=user, organization_id=organization_id)
    if organization is None:
        raise NotFound(code="organization_not_found")
    return organization


@login_required
@require_http_methods(["GET"])
def organization_list(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    cursor_raw = request.GET.get("cursor", "")
    items, next_cursor = selectors.organization_list(
        user=user, cursor=int(cursor_raw) if cursor_raw.isdigit() else None
    )
    return render(
        request,
        "organizations/list.html",
        {"organizations": items, "next_cursor": next_cursor, "can_edit": user.can_write()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    services.require_editor(user)
    form = OrganizationForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 422
        if form.is_valid():
            try:
                organization = services.organization_create(
                    user=user, data=form.data_for_service(), now=clock.now(), ip=client_ip(request)
                )
            except (InvalidInput, Conflict) as exc:
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _(
                        "The organisation was registered. OV certificates can name it once the "
                        "operator has verified it; we will email you."
                    ),
                )
                return redirect("organizations:detail", organization.pk)
    return render(
        request, "organizations/form.html", {"form": form, "organization": None}, status=status
    )


@login_required
@require_http_methods(["GET"])
def organization_detail(request: HttpRequest, organization_id: int) -> HttpResponse:
    user = _member(request)
    organization = _organization_or_404(user, organization_id)
    return render(
        request,
        "organizations/detail.html",
        {"organization": organization, "can_edit": user.can_write()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, organization_id: int) -> HttpResponse:
    user = _member(request)
    organization = _organization_or_404(user, organization_id)
    services.require_editor(user)
    if request.method == "POST":
        form = OrganizationForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                result = services.organization_update(
                    user=user,
                    organization_id=organization.pk,
                    data=form.data_for_service(),
                    now=clock.now(),
                    ip=client_ip(request),
                )
            except (InvalidInput, Conflict) as exc:
                form.add_service_errors(exc)
                status = exc.status
            else:
                if result.verification_reset:
                    messages.warning(
                        request,
                        _(
                            "The changes were saved. The organisation is awaiting verification "
                            "again: OV certificates can name it once the operator has verified "
                            "the new details."
                        ),
                    )
                elif result.changed:
                    messages.success(request, _("The changes were saved."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("organizations:detail", organization.pk)
    else:
        form = OrganizationForm(
            initial={name: getattr(organization, name) for name in OrganizationForm.base_fields}
        )
        status = 200
    return render(
        request,
        "organizations/form.html",
        {
            "form": form,
            "organization": organization,
            "identity_labels": [form.fields[name].label for name in IDENTITY_FIELDS],
        },
        status=status,
    )
