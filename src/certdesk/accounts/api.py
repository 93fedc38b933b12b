"""REST API: registration and email verification (``/api/v1/accounts``, no token) and the
caller's own user and account (``/api/v1/account``, Bearer token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Router, Schema, Status

from certdesk.accounts import selectors, services
from certdesk.accounts.models import Account, User
from certdesk.audit.services import client_ip
from certdesk.core import clock
from certdesk.tokens.auth import bearer, require_scope
from certdesk.tokens.schemas import Problem

registration_router = Router(tags=["accounts"])
account_router = Router(tags=["account"], auth=bearer)


class UserOut(Schema):
    username: str = Field(description="The account ID (login ID), lower case.")
    full_name: str
    email: str = Field(description="The login email address in use.")
    email_verified: bool
    pending_email: str | None = Field(
        description="A new address waiting for its confirmation link to be opened."
    )
    phone: str
    language: str = Field(description="`ja` or `en`: the language of pages and emails.")
    role: str = Field(description="`owner`, `admin`, `member` or `read_only`.")


class AccountOut(Schema):
    number: str = Field(description="The account number shown in the portal, e.g. `A000042`.")
    organization_name: str
    postal_code: str
    address: str
    phone: str
    email: str = Field(description="The account's contact email address.")
    status: str = Field(description="`active`, `disabled` or `closure_requested`.")
    data_confirmed_at: datetime | None = Field(
        description="When an owner or administrator last confirmed the data is current."
    )
    created_at: datetime


class MeOut(Schema):
    user: UserOut
    account: AccountOut


class RegistrationIn(Schema):
    username: str = Field(
        description="Account ID: 3-32 characters `[a-z0-9._-]`, starting with a letter or digit "
        "(case-insensitive).",
        examples=["tanaka-web"],
    )
    password: str = Field(description="12-128 characters; Django's strength rules apply.")
    full_name: str = Field(description="Your name (at most 100 characters).")
    organization_name: str = Field(description="At most 200 characters.")
    postal_code: str = Field(examples=["100-0001"])
    address: str = Field(description="Postal address (at most 300 characters).")
    email: str = Field(examples=["taro@example.co.jp"])
    phone: str = Field(
        description="10-15 digits; digits, `+`, `-`, spaces and parentheses.",
        examples=["03-1234-5678"],
    )
    language: str | None = Field(
        None, description="`ja` or `en`; defaults to the request's language."
    )
    terms_version: int = Field(
        description="The number of the current terms of use version (see `/terms/`)."
    )
    accept_terms: bool = Field(description="Must be true: you accept that version.")


class RegisteredOut(MeOut):
    verification_email_sent_to: str


class VerifyIn(Schema):
    token: str = Field(max_length=200, description="The token from the emailed link.")


class UserPatch(Schema):
    full_name: str | None = None
    phone: str | None = None
    language: str | None = Field(None, description="`ja` or `en`.")
    email: str | None = Field(
        None,
        description="A new login email: applied only after the link sent to it is opened.",
    )


class AccountPatch(Schema):
    organization_name: str | None = None
    postal_code: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = Field(None, description="The account's contact email address.")


class MePatch(Schema):
    user: UserPatch | None = None
    account: AccountPatch | None = Field(
        None, description="Owners and administrators only (else 403 `permission_denied`)."
    )


def user_out(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "email_verified": user.email_verified,
        "pending_email": user.pending_email or None,
        "phone": user.phone,
        "language": user.language,
        "role": user.role,
    }


def account_out(account: Account) -> dict[str, Any]:
    return {
        "number": account.number,
        "organization_name": account.organization_name,
        "postal_code": account.postal_code,
        "address": account.address,
        "phone": account.phone,
        "email": account.email,
        "status": account.status,
        "data_confirmed_at": account.data_confirmed_at,
        "created_at": account.created_at,
    }


def _me(user: User) -> dict[str, Any]:
    fresh, account = selectors.user_account_get(user=user)
    if account is None:
        from certdesk.core.errors import NotFound

        raise NotFound(code="account_not_found")
    return {"user": user_out(fresh), "account": account_out(account)}


@registration_router.post(
    "",
    response={201: RegisteredOut, 409: Problem, 422: Problem, 503: Problem},
    summary="Register a new account",
    description=(
        "Creates an account and its owner with the account ID and password you choose, records "
        "your acceptance of the current terms of use (`terms_version` must be the current "
        "number, else 422 `terms_outdated`) and emails a verification link. Field errors are "
        "422 with every problem in `errors`: `account_id_taken`, `account_id_reserved`, "
        "`invalid_account_id`, `email_taken`, `invalid_email`, `invalid_phone`, "
        "`invalid_postal_code`, `field_too_long`, `field_required`, `password_weak`, "
        "`terms_not_accepted`. 503 `terms_unavailable` when no terms are published."
    ),
)
def register(request: HttpRequest, payload: RegistrationIn) -> Status[dict[str, Any]]:
    language = payload.language
    if language is None:
        language = "en" if (translation.get_language() or "ja").startswith("en") else "ja"
    user = services.account_register(
        data=services.Registration(
            username=payload.username,
            password=payload.password,
            full_name=payload.full_name,
            organization_name=payload.organization_name,
            postal_code=payload.postal_code,
            address=payload.address,
            email=payload.email,
            phone=payload.phone,
            language=language,
            terms_version=payload.terms_version,
            accept_terms=payload.accept_terms,
        ),
        ip=client_ip(request),
        now=clock.now(),
    )
    return Status(201, {**_me(user), "verification_email_sent_to": user.email})


@registration_router.post(
    "/verify-email",
    response={200: UserOut, 404: Problem, 409: Problem, 410: Problem},
    summary="Confirm an email address",
    description=(
        "Uses the token of an emailed verification link (single use). Errors: 404 "
        "`link_invalid`, 410 `link_used`, `link_expired`, `link_superseded`, 409 `email_taken`."
    ),
)
def verify_email(request: HttpRequest, payload: VerifyIn) -> dict[str, Any]:
    user = services.email_verify(token=payload.token, now=clock.now(), ip=client_ip(request))
    return user_out(user)


@account_router.get(
    "",
    response={200: MeOut, 401: Problem, 403: Problem},
    summary="Your user and account",
    description="Scope `account:read`. Only the caller's own user and account.",
)
def me(request: HttpRequest) -> dict[str, Any]:
    require_scope(request, "account:read")
    return _me(request.auth)


@account_router.patch(
    "",
    response={200: MeOut, 401: Problem, 403: Problem, 422: Problem},
    summary="Change your user or account data",
    description=(
        "Scope `account:write`. `user` changes your own name, phone, language and login email "
        "(a new email waits in `pending_email` until confirmed by the emailed link); `account` "
        "changes the organisation data and needs the owner or administrator role. All or "
        "nothing: on any error nothing is saved. Account field errors are named `account.<field>`."
    ),
)
def me_patch(request: HttpRequest, payload: MePatch) -> dict[str, Any]:
    require_scope(request, "account:write")
    user: User = request.auth
    services.profile_update(
        user=user,
        user_changes=services.UserChanges(**payload.user.model_dump()) if payload.user else None,
        account_changes=services.AccountChanges(**payload.account.model_dump())
        if payload.account
        else None,
        now=clock.now(),
        ip=client_ip(request),
    )
    return _me(user)
