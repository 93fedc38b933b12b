"""Writes for organisations: customers register and edit the organisations their account acts
for (terms article 4.1(2)); operators verify or reject them. Every change is audited in the
transaction that makes it, and every decision is emailed to the customer in their language.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account, User
from certdesk.accounts.validation import FieldErrors, clean_phone
from certdesk.audit.services import audit_record
from certdesk.certificates.models import Application
from certdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certdesk.notifications.services import email_enqueue
from certdesk.organizations import rules
from certdesk.organizations.models import Organization

REASON_MAX = 500
# What the operator checks against the register and what an OV subject carries: changing any
# of these sends a verified (or rejected) organisation back to "awaiting verification".
IDENTITY_FIELDS = (
    "name_ja",
    "name_en",
    "corporate_number",
    "prefecture",
    "locality",
    "postal_code",
    "address",
)


@dataclass(frozen=True)
class OrganizationData:
    """The fields a customer supplies; None leaves a field as it is (on update)."""

    name_ja: str | None = None
    name_en: str | None = None
    corporate_number: str | None = None
    prefecture: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    address: str | None = None
    phone: str | None = None


@dataclass
class OrganizationUpdate:
    """The result of ``organization_update``."""

    organization: Organization
    changed: list[str] = field(default_factory=list)
    # True when the change sent a verified or rejected organisation back to the operator.
    verification_reset: bool = False


_RULES: dict[str, Any] = {
    "name_ja": rules.clean_name_ja,
    "name_en": rules.clean_name_en,
    "corporate_number": rules.clean_corporate_number,
    "prefecture": rules.clean_prefecture,
    "locality": rules.clean_locality,
    "postal_code": rules.clean_postal_code,
    "address": rules.clean_address,
    "phone": clean_phone,
}


def _clean(data: OrganizationData, *, partial: bool) -> dict[str, str]:
    """Run every field rule and raise one ``InvalidInput`` listing every failure."""
    errors = FieldErrors()
    values: dict[str, str] = {}
    for item in fields(OrganizationData):
        raw = getattr(data, item.name)
        if raw is None and partial:
            continue
        cleaned = errors.run(_RULES[item.name], raw)
        if cleaned is not None:
            values[item.name] = cleaned
    errors.raise_if_any()
    return values


def require_editor(user: User) -> Account:
    """The account ``user`` may register organisations for; read-only members may only look."""
    if not user.is_active or user.account_id is None:
        raise PermissionDenied()
    if not user.can_write():
        raise PermissionDenied(
            _("Read-only members cannot register or change organisations."),
            code="read_only_member",
        )
    account = user.account
    assert account is not None
    return account


def _require_operator(user: User) -> None:
    if not (user.is_active and user.is_operator):
        raise PermissionDenied()


def _duplicate() -> Conflict:
    return Conflict(
        _(
            "An organisation with this corporate number is already registered for this "
            "account. Open it from the list of organisations instead of adding it again."
        ),
        code="organization_duplicate",
        field="corporate_number",
    )


def organization_create(
    *, user: User, data: OrganizationData, now: datetime, ip: str | None = None
) -> Organization:
    """Register an organisation the account acts for; it awaits the operator's verification.

    Raises ``PermissionDenied`` (``read_only_member``), ``InvalidInput`` listing every field
    error (``field_required``, ``not_ascii``, ``invalid_corporate_number``,
    ``corporate_number_check_digit`` ...) and ``Conflict`` (``organization_duplicate``) when
    the account already has an organisation with that corporate number.
    """
    account = require_editor(user)
    values = _clean(data, partial=False)
    if Organization.objects.filter(
        account=account, corporate_number=values["corporate_number"]
    ).exists():
        raise _duplicate()
    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                account=account,
                created_by=user,
                created_at=now,
                updated_at=now,
                **values,
            )
            audit_record(
                action="organization.created",
                account=account,
                actor=user,
                target=organization,
                data={
                    "corporate_number": organization.corporate_number,
                    "name_en": organization.name_en,
                },
                ip=ip,
                now=now,
            )
    except IntegrityError:
        # A concurrent request registered the same number first.
        raise _duplicate() from None
    return organization


def _open_ov_applications(organization: Organization) -> list[Application]:
    return list(
        Application.objects.filter(
            organization=organization,
            status=Application.Status.PENDING,
            product__profile__startswith="ov-",
        ).order_by("pk")[:5]
    )


def organization_update(
    *,
    user: User,
    organization_id: int,
    data: OrganizationData,
    now: datetime,
    ip: str | None = None,
) -> OrganizationUpdate:
    """Change an organisation of the user's account. A change to its legal names, corporate
    number or location (``IDENTITY_FIELDS``) sends it back to "awaiting verification"; the
    phone number alone does not.

    Raises ``PermissionDenied`` (``read_only_member``), ``NotFound``
    (``organization_not_found``, also for another account's organisation), ``InvalidInput``
    listing every field error, and ``Conflict``: ``organization_duplicate``, or
    ``organization_in_review`` when an identity field would change while an OV application
    naming the organisation is in progress (the certificate must carry what was verified).
    """
    account = require_editor(user)
    values = _clean(data, partial=True)
    try:
        with transaction.atomic():
            organization = (
                Organization.objects.select_for_update()
                .filter(pk=organization_id, account=account)
                .first()
            )
            if organization is None:
                raise NotFound(code="organization_not_found")
            changed = [
                name for name, value in values.items() if getattr(organization, name) != value
            ]
            result = OrganizationUpdate(organization=organization, changed=changed)
            if not changed:
                return result
            identity = [name for name in changed if name in IDENTITY_FIELDS]
            if identity:
                in_progress = _open_ov_applications(organization)
                if in_progress:
                    raise Conflict(
                        format_lazy(
                            _(
                                "OV applications naming this organisation are in progress "
                                "({numbers}). Its names, corporate number and location cannot "
                                "change until they are issued or cancelled."
                            ),
                            numbers=", ".join(a.number for a in in_progress),
                        ),
                        code="organization_in_review",
                        field=identity[0],
                    )
            if "corporate_number" in changed and (
                Organization.objects.filter(
                    account=account, corporate_number=values["corporate_number"]
                )
                .exclude(pk=organization.pk)
                .exists()
            ):
                raise _duplicate()
            previous_status = organization.status
            for name in changed:
                setattr(organization, name, values[name])
            update_fields = [*changed, "updated_at"]
            if identity and previous_status != Organization.Status.PENDING:
                organization.status = Organization.Status.PENDING
                organization.status_reason = ""
                organization.verified_at = None
                organization.verified_by = None
                update_fields += ["status", "status_reason", "verified_at", "verified_by"]
                result.verification_reset = True
            organization.updated_at = now
            organization.save(update_fields=update_fields)
            audit_record(
                action="organization.updated",
                account=account,
                actor=user,
                target=organization,
                data={
                    "changed": changed,
                    **(
                        {"status": organization.status, "previous_status": previous_status}
                        if result.verification_reset
                        else {}
                    ),
                },
                ip=ip,
                now=now,
            )
    except IntegrityError:
        raise _duplicate() from None
    return result


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput(
            _("Give the reason; the customer will read it."),
            code="reason_required",
            field="reason",
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long (at most 500 characters)."),
            code="reason_too_long",
            field="reason",
        )
    return reason


def _recipients(organization: Organization) -> list[User]:
    """Who hears about a decision: whoever registered the organisation and the account's
    owners, each once."""
    people = list(
        User.objects.filter(
            account_id=organization.account_id, role=User.Role.OWNER, is_active=True
        ).order_by("pk")
    )
    creator = organization.created_by
    if (
        creator is not None
        and creator.is_active
        and creator.account_id == organization.account_id
        and all(p.pk != creator.pk for p in people)
    ):
        people.insert(0, creator)
    return people


def _tell_customer(organization: Organization, template: str, reason: str) -> None:
    for person in _recipients(organization):
        email_enqueue(
            to=person.email,
            template=template,
            context={
                "user": person,
                "organization": organization,
                # English readers get the English legal name, as their certificates show it.
                "organization_name": (
                    organization.name_ja
                    if person.language == User.Language.JA
                    else organization.name_en
                ),
                "reason": reason,
            },
            language=person.language,
            account=organization.account,
        )


def _locked_for_decision(
    *, operator: User, organization_id: int, allowed_from: set[str]
) -> Organization:
    _require_operator(operator)
    # Only the organisation row is locked; the creator is joined outside the lock (nullable).
    organization = (
        Organization.objects.select_for_update(of=("self",))
        .select_related("account", "created_by")
        .filter(pk=organization_id)
        .first()
    )
    if organization is None:
        raise NotFound(code="organization_not_found")
    if organization.status not in allowed_from:
        raise Conflict(
            format_lazy(
                _("This organisation is “{status}”: the decision has already been made."),
                status=organization.get_status_display(),
            ),
            code="organization_already_decided",
        )
    return organization


def organization_verify(
    *,
    operator: User,
    organization_id: int,
    now: datetime,
    note: str = "",
    ip: str | None = None,
) -> Organization:
    """The operator confirms an organisation awaiting verification (after checking it against
    the corporate number register by hand); OV certificates may name it from now on. The
    customer is emailed; ``note`` goes with the email.

    Raises ``PermissionDenied`` (not an operator), ``NotFound``, ``Conflict``
    (``organization_already_decided``) and ``InvalidInput`` (``reason_too_long``).
    """
    note = _reason(note, required=False)
    with transaction.atomic():
        organization = _locked_for_decision(
            operator=operator,
            organization_id=organization_id,
            allowed_from={Organization.Status.PENDING},
        )
        organization.status = Organization.Status.VERIFIED
        organization.status_reason = ""
        organization.verified_at = now
        organization.verified_by = operator
        organization.updated_at = now
        organization.save(
            update_fields=["status", "status_reason", "verified_at", "verified_by", "updated_at"]
        )
        audit_record(
            action="organization.verified",
            account=organization.account,
            actor=operator,
            target=organization,
            data={
                "corporate_number": organization.corporate_number,
                **({"note": note} if note else {}),
            },
            ip=ip,
            now=now,
        )
        _tell_customer(organization, "organizations/email/verified", note)
    return organization


def organization_reject(
    *,
    operator: User,
    organization_id: int,
    reason: str,
    now: datetime,
    ip: str | None = None,
) -> Organization:
    """The operator refuses an organisation awaiting verification, or withdraws a verification
    given before; the reason is shown to the customer and emailed in their language. The
    customer may correct the data, which puts it back in the queue.

    Raises ``PermissionDenied`` (not an operator), ``NotFound``, ``InvalidInput``
    (``reason_required``, ``reason_too_long``) and ``Conflict`` (``organization_already_decided``
    when it is already rejected).
    """
    reason = _reason(reason, required=True)
    with transaction.atomic():
        organization = _locked_for_decision(
            operator=operator,
            organization_id=organization_id,
            allowed_from={Organization.Status.PENDING, Organization.Status.VERIFIED},
        )
        previous = organization.status
        organization.status = Organization.Status.REJECTED
        organization.status_reason = reason
        organization.verified_at = None
        organization.verified_by = None
        organization.updated_at = now
        organization.save(
            update_fields=["status", "status_reason", "verified_at", "verified_by", "updated_at"]
        )
        audit_record(
            action="organization.rejected",
            account=organization.account,
            actor=operator,
            target=organization,
            data={"reason": reason, "previous_status": previous},
            ip=ip,
            now=now,
        )
        _tell_customer(organization, "organizations/email/rejected", reason)
    return organization
