"""REST API: the organisations an account acts for (``/api/v1/organizations``).

Scopes: organisations are account data, so changing them takes ``account:write``; reading
takes ``account:read`` or ``certificates:read``, because a script that applies for OV
certificates (``certificates:write``) must be able to find the id of its organisation without
also being allowed to change members and tokens.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.core.errors import NotFound, PermissionDenied
from certdesk.organizations.models import Organization
from certdesk.organizations.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
)
from certdesk.organizations.selectors import PAGE_SIZE, organization_get, organization_list
from certdesk.organizations.services import (
    OrganizationData,
    organization_create,
    organization_update,
)
from certdesk.tokens import scopes as S
from certdesk.tokens.auth import bearer, request_scopes, require_scope
from certdesk.tokens.schemas import Problem
from certdesk.tokens.scopes import scope_granted

router = Router(tags=["organizations"], auth=bearer)

ERRORS = {401: Problem, 403: Problem, 404: Problem}
READ_SCOPES = (S.ACCOUNT_READ, S.CERTIFICATES_READ)


class PageQuery(Schema):
    cursor: int | None = NinjaField(None, description="`next_cursor` of the previous page.")
    limit: int = NinjaField(PAGE_SIZE, ge=1, le=PAGE_SIZE)


def _require_read(request: HttpRequest) -> None:
    granted = request_scopes(request)
    if not any(scope_granted(granted, scope) for scope in READ_SCOPES):
        raise PermissionDenied(
            format_lazy(
                _("This API token lacks the scope “{scope}” needed here."),
                scope=" / ".join(READ_SCOPES),
            ),
            code="insufficient_scope",
            extra={"required_scope": S.ACCOUNT_READ, "accepted_scopes": list(READ_SCOPES)},
        )


def organization_out(organization: Organization) -> dict[str, object]:
    return {
        name: getattr(organization, name)
        for name in (
            "id",
            "name_ja",
            "name_en",
            "corporate_number",
            "country",
            "prefecture",
            "locality",
            "postal_code",
            "address",
            "phone",
            "status",
            "status_reason",
            "verified_at",
            "created_at",
            "updated_at",
        )
    }


@router.get(
    "",
    response={200: OrganizationPage, 422: Problem, **ERRORS},
    summary="List organisations",
    description=(
        "The organisations your account acts for, newest first. Scope `account:read` or "
        "`certificates:read`."
    ),
)
def organizations_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, object]:
    _require_read(request)
    items, next_cursor = organization_list(user=request.auth, cursor=page.cursor, limit=page.limit)
    return {"items": [organization_out(o) for o in items], "next_cursor": next_cursor}


@router.post(
    "",
    response={201: OrganizationOut, 409: Problem, 422: Problem, **ERRORS},
    summary="Register an organisation",
    description=(
        "Registers an organisation the account acts for; it is `pending` until the operator "
        "verifies it, and only then may OV certificates name it. Scope `account:write`; "
        "read-only members cannot. Errors: `field_required`, `not_ascii`, `field_too_long`, "
        "`invalid_corporate_number`, `corporate_number_check_digit`, `invalid_prefecture`, "
        "`invalid_postal_code`, `invalid_phone` (422, every failing field listed in "
        "`errors`), `organization_duplicate` (409: the account already has this corporate "
        "number)."
    ),
)
def organizations_create(
    request: HttpRequest, payload: OrganizationIn
) -> Status[dict[str, object]]:
    require_scope(request, S.ACCOUNT_WRITE)
    organization = organization_create(
        user=request.auth,
        data=OrganizationData(**payload.model_dump()),
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(201, organization_out(organization))


@router.get(
    "/{organization_id}",
    response={200: OrganizationOut, 422: Problem, **ERRORS},
    summary="Show an organisation",
    description="Scope `account:read` or `certificates:read`.",
)
def organizations_get(request: HttpRequest, organization_id: int) -> dict[str, object]:
    _require_read(request)
    organization = organization_get(user=request.auth, organization_id=organization_id)
    if organization is None:
        raise NotFound(code="organization_not_found")
    return organization_out(organization)


@router.patch(
    "/{organization_id}",
    response={200: OrganizationOut, 409: Problem, 422: Problem, **ERRORS},
    summary="Change an organisation",
    description=(
        "Changes only the fields sent. Changing the legal names, corporate number, "
        "prefecture, city, postal code or address of a `verified` or `rejected` organisation "
        "puts it back to `pending` until the operator verifies it again; the phone number "
        "alone does not. Scope `account:write`. Errors as for registering, and "
        "`organization_in_review` (409) while an OV application naming it is in progress."
    ),
)
def organizations_update(
    request: HttpRequest, organization_id: int, payload: OrganizationPatch
) -> dict[str, object]:
    require_scope(request, S.ACCOUNT_WRITE)
    result = organization_update(
        user=request.auth,
        organization_id=organization_id,
        data=OrganizationData(**payload.model_dump(exclude_unset=True)),
        now=clock.now(),
        ip=client_ip(request),
    )
    return organization_out(result.organization)
