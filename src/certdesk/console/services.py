"""Writes of the operator console: disable and re-enable accounts and users, create
operators, keep the product catalogue, review OV applications. Every action is an audit event
with the operator as actor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.accounts.models import Account, User
from certdesk.accounts.validation import FieldErrors
from certdesk.audit.services import audit_record
from certdesk.certificates.models import Application, Product
from certdesk.certificates.services import application_decide
from certdesk.core.errors import Conflict, InvalidInput, NotFound
from certdesk.notifications.services import email_enqueue
from pki.names import DEFAULT_MAX_NAMES

REASON_MAX = 500
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _require_operator(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise NotFound()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Enter the reason."), code="reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long (at most 500 characters)."),
            code="reason_too_long",
            field="reason",
        )
    return reason


def _email_owners(*, account: Account, template: str, context: dict[str, object]) -> int:
    owners = list(
        User.objects.filter(account=account, role=User.Role.OWNER, is_active=True).order_by("pk")
    )
    for owner in owners:
        email_enqueue(
            to=owner.email,
            template=template,
            context={**context, "user": owner, "account": account},
            language=owner.language,
            account=account,
        )
    return len(owners)


def account_disable(
    *, actor: User, account: Account, reason: str, now: datetime, ip: str | None = None
) -> Account:
    """Disable a customer account: its users can no longer sign in; its owners are emailed.

    Raises ``InvalidInput`` without a reason, ``Conflict`` when already disabled.
    """
    _require_operator(actor)
    reason = _reason(reason)
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if locked.status == Account.Status.DISABLED:
            raise Conflict(_("This account is already disabled."), code="account_already_disabled")
        previous = locked.status
        locked.status = Account.Status.DISABLED
        locked.disabled_reason = reason
        locked.save(update_fields=["status", "disabled_reason"])
        audit_record(
            action="account.disabled",
            account=locked,
            actor=actor,
            target=locked,
            data={"reason": reason, "previous_status": previous},
            ip=ip,
            now=now,
        )
        _email_owners(
            account=locked, template="console/email/account_disabled", context={"reason": reason}
        )
    return locked


def account_enable(
    *, actor: User, account: Account, reason: str, now: datetime, ip: str | None = None
) -> Account:
    """Re-enable a disabled account (back to ``closure_requested`` if a closure was pending).

    Raises ``InvalidInput`` without a reason, ``Conflict`` when the account is not disabled.
    """
    _require_operator(actor)
    reason = _reason(reason)
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if locked.status != Account.Status.DISABLED:
            raise Conflict(_("This account is not disabled."), code="account_not_disabled")
        closing = locked.closure_requested_at is not None
        locked.status = Account.Status.CLOSURE_REQUESTED if closing else Account.Status.ACTIVE
        locked.disabled_reason = ""
        locked.save(update_fields=["status", "disabled_reason"])
        audit_record(
            action="account.enabled",
            account=locked,
            actor=actor,
            target=locked,
            data={"reason": reason, "status": locked.status},
            ip=ip,
            now=now,
        )
        _email_owners(
            account=locked, template="console/email/account_enabled", context={"reason": reason}
        )
    return locked


def _customer_user(user: User) -> User:
    locked = (
        User.objects.select_for_update()
        .filter(pk=user.pk, is_staff=False, account__isnull=False)
        .first()
    )
    if locked is None:
        raise NotFound(_("This user does not exist."))
    return locked


def user_disable(
    *, actor: User, user: User, reason: str, now: datetime, ip: str | None = None
) -> User:
    """Stop one customer user from signing in (their open sessions end too).

    Raises ``NotFound`` for an operator, ``InvalidInput`` without a reason, ``Conflict`` when
    the user is already disabled.
    """
    _require_operator(actor)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _customer_user(user)
        if not locked.is_active:
            raise Conflict(_("This user is already disabled."), code="user_already_disabled")
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(
            action="user.disabled",
            account=locked.account,
            actor=actor,
            target=locked,
            data={"username": locked.username, "reason": reason},
            ip=ip,
            now=now,
        )
    return locked


def user_enable(
    *, actor: User, user: User, reason: str, now: datetime, ip: str | None = None
) -> User:
    """Let a disabled customer user sign in again. Raises like ``user_disable``."""
    _require_operator(actor)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _customer_user(user)
        if locked.is_active:
            raise Conflict(_("This user is not disabled."), code="user_not_disabled")
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        audit_record(
            action="user.enabled",
            account=locked.account,
            actor=actor,
            target=locked,
            data={"username": locked.username, "reason": reason},
            ip=ip,
            now=now,
        )
    return locked


def operator_create(
    *, username: str, email: str, full_name: str, password: str, now: datetime
) -> User:
    """Create an operator (``is_staff``, no account).

    Raises ``InvalidInput`` for a malformed ID or email, a password the validators refuse,
    ``Conflict`` (``duplicate_user``) when the ID or email is taken.
    """
    username = (username or "").strip().lower()
    email = (email or "").strip()
    full_name = (full_name or "").strip()
    if not (3 <= len(username) <= 32) or not set(username) <= _USERNAME_CHARS:
        raise InvalidInput(
            _("3-32 characters: lower-case letters, digits, '.', '_' and '-'."),
            code="invalid_username",
            field="username",
        )
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid email address."), code="invalid_email", field="email"
        ) from None
    if not full_name or len(full_name) > 100:
        raise InvalidInput(
            _("Enter a name of at most 100 characters."), code="invalid_name", field="name"
        )
    candidate = User(username=username, email=email, full_name=full_name, is_staff=True)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="weak_password", field="password") from None
    duplicate = (
        User.objects.filter(username=username).exists()
        or User.objects.filter(email__iexact=email).exists()
    )
    if duplicate:
        raise Conflict(
            _("A user with this ID or email address already exists."), code="duplicate_user"
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username,
                password,
                email=email,
                full_name=full_name,
                is_staff=True,
                account=None,
                email_verified_at=now,
                date_joined=now,
            )
            audit_record(
                action="operator.created",
                actor=None,
                target=user,
                data={"username": username, "email": email},
                now=now,
            )
    except IntegrityError:
        raise Conflict(
            _("A user with this ID or email address already exists."), code="duplicate_user"
        ) from None
    return user


# ---- products ----------------------------------------------------------------------------

PRODUCT_NAME_MAX = 100
# A sanity bound that catches a slipped digit; no certificate costs ten million yen.
PRICE_MAX_JPY = 9_999_999
_PRODUCT_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")


@dataclass(frozen=True)
class ProductChanges:
    """What the operator may change on a product; None leaves a field as it is."""

    name_ja: str | None = None
    name_en: str | None = None
    price_jpy: int | None = None
    max_names: int | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class ProductDraft:
    """A new product. Profile and supplier are fixed once created: applications already
    filed rely on them."""

    code: str
    profile: str
    supplier: str
    name_ja: str
    name_en: str
    price_jpy: int | None
    max_names: int | None
    is_active: bool = True


def _product_name(value: str, *, field: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput(_("Enter the product name."), code="field_required", field=field)
    if len(name) > PRODUCT_NAME_MAX:
        raise InvalidInput(
            _("The product name is too long (at most 100 characters)."),
            code="field_too_long",
            field=field,
        )
    return name


def _price(value: int | None) -> int:
    if value is None:
        raise InvalidInput(_("Enter the price in yen."), code="field_required", field="price_jpy")
    if not 0 <= value <= PRICE_MAX_JPY:
        raise InvalidInput(
            _("The price is a whole number of yen from 0 to 9,999,999 (before tax)."),
            code="invalid_price",
            field="price_jpy",
        )
    return value


def _max_names(value: int | None, *, profile: pki.Profile) -> int:
    """How many names a product's certificates may carry, within what its profile allows."""
    if value is None:
        raise InvalidInput(
            _("Enter the maximum number of names."), code="field_required", field="max_names"
        )
    if profile.scope is pki.NameScope.SINGLE and value != 1:
        raise InvalidInput(
            _("A single-name profile carries exactly one name: the maximum must be 1."),
            code="invalid_max_names",
            field="max_names",
        )
    low = 2 if profile.scope is pki.NameScope.MULTI else 1
    if not low <= value <= DEFAULT_MAX_NAMES:
        raise InvalidInput(
            format_lazy(
                _("For this profile the maximum number of names is from {low} to {high}."),
                low=low,
                high=DEFAULT_MAX_NAMES,
            ),
            code="invalid_max_names",
            field="max_names",
        )
    return value


def _product_values(changes: ProductChanges, *, profile: pki.Profile) -> dict[str, object]:
    errors = FieldErrors()
    values: dict[str, object] = {}
    for name in ("name_ja", "name_en"):
        raw = getattr(changes, name)
        if raw is not None:
            values[name] = errors.run(_product_name, raw, field=name)
    if changes.price_jpy is not None:
        values["price_jpy"] = errors.run(_price, changes.price_jpy)
    if changes.max_names is not None:
        values["max_names"] = errors.run(_max_names, changes.max_names, profile=profile)
    if changes.is_active is not None:
        values["is_active"] = bool(changes.is_active)
    errors.raise_if_any()
    return values


def product_create(
    *, actor: User, draft: ProductDraft, now: datetime, ip: str | None = None
) -> Product:
    """Add a product to the catalogue (after the existing ones).

    Raises ``NotFound`` (not an operator), ``InvalidInput`` listing every field error
    (``invalid_product_code``, ``unknown_profile``, ``unknown_supplier``, ``invalid_price``,
    ``invalid_max_names`` ...) and ``Conflict`` (``product_code_taken``).
    """
    _require_operator(actor)
    errors = FieldErrors()
    code = (draft.code or "").strip().lower()
    if not _PRODUCT_CODE.fullmatch(code):
        errors.add(
            InvalidInput(
                _("The code is 1-40 lower-case letters, digits and hyphens, e.g. ov-single-2y."),
                code="invalid_product_code",
                field="code",
            )
        )
    profile = pki.PROFILES.get(draft.profile)
    if profile is None:
        errors.add(InvalidInput(_("Choose a profile."), code="unknown_profile", field="profile"))
    if draft.supplier not in settings.CERTDESK_SUPPLIERS:
        errors.add(InvalidInput(_("Choose a supplier."), code="unknown_supplier", field="supplier"))
    for name in ("name_ja", "name_en"):
        errors.run(_product_name, getattr(draft, name), field=name)
    errors.run(_price, draft.price_jpy)
    if profile is not None:
        errors.run(_max_names, draft.max_names, profile=profile)
    errors.raise_if_any()
    assert profile is not None and draft.price_jpy is not None and draft.max_names is not None
    taken = Conflict(
        _("A product with this code already exists."), code="product_code_taken", field="code"
    )
    if Product.objects.filter(code=code).exists():
        raise taken
    try:
        with transaction.atomic():
            last = Product.objects.order_by("-sort_order").values_list("sort_order", flat=True)
            product = Product.objects.create(
                code=code,
                profile=profile.key,
                supplier=draft.supplier,
                name_ja=_product_name(draft.name_ja, field="name_ja"),
                name_en=_product_name(draft.name_en, field="name_en"),
                price_jpy=draft.price_jpy,
                max_names=draft.max_names,
                is_active=draft.is_active,
                sort_order=(last.first() or 0) + 1,
            )
            audit_record(
                action="product.created",
                actor=actor,
                target=product,
                data={
                    "code": code,
                    "profile": profile.key,
                    "supplier": draft.supplier,
                    "price_jpy": product.price_jpy,
                    "max_names": product.max_names,
                    "is_active": product.is_active,
                },
                ip=ip,
                now=now,
            )
    except IntegrityError:
        raise taken from None
    return product


def product_update(
    *,
    actor: User,
    product_id: int,
    changes: ProductChanges,
    now: datetime,
    ip: str | None = None,
) -> Product:
    """Change a product's names, price, maximum names or whether it is on sale. Applications
    already filed keep what they were filed with; a product taken off sale stays in the
    history of the certificates issued under it.

    Raises ``NotFound`` (not an operator, or no such product) and ``InvalidInput`` listing
    every field error.
    """
    _require_operator(actor)
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise NotFound(code="product_not_found")
        values = _product_values(changes, profile=pki.profile_get(product.profile))
        changed = {
            name: [getattr(product, name), value]
            for name, value in values.items()
            if getattr(product, name) != value
        }
        if changed:
            for name, (_old, new) in changed.items():
                setattr(product, name, new)
            product.save(update_fields=list(changed))
            audit_record(
                action="product.updated",
                actor=actor,
                target=product,
                data={"code": product.code, "changed": changed},
                ip=ip,
                now=now,
            )
    return product


# ---- OV application review ----------------------------------------------------------------


def application_review(
    *, operator: User, application_id: int, approve: bool, reason: str, now: datetime
) -> Application:
    """The operator's decision on an OV application waiting for review, through
    ``application_decide`` (which emails the customer and issues as soon as every name is
    validated), which approves only while the organisation is verified.

    Raises ``NotFound`` (not an operator, or no such application), ``Conflict``
    (``organization_not_verified``, ``application_not_waiting``) and ``InvalidInput``
    (``reason_required``, ``reason_too_long``).
    """
    _require_operator(operator)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long (at most 500 characters)."),
            code="reason_too_long",
            field="reason",
        )
    return application_decide(
        operator=operator,
        application_id=application_id,
        approve=approve,
        reason=reason,
        now=now,
    )
