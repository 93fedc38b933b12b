"""Writes of the operator console: disable and re-enable accounts and users, create
operators. Every action is an audit event with the operator as actor."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account, User
from certdesk.audit.services import audit_record
from certdesk.core.errors import Conflict, InvalidInput, NotFound
from certdesk.notifications.services import email_enqueue

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
