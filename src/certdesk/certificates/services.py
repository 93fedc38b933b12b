"""Writes of the certificate lifecycle: apply, validate, decide, issue, revoke, cancel.

Issuance happens in exactly one place, ``application_issue``: it locks the application row,
re-reads its state and signs only while the application is still pending, so a double click,
a concurrent "check now" and a worker retry together still make one certificate.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.accounts.models import Account, User
from certdesk.audit.services import audit_record
from certdesk.certificates.models import (
    Application,
    ApplicationName,
    Certificate,
    CertificateName,
    Product,
    serial_hex,
)
from certdesk.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
)
from certdesk.core.pkierrors import invalid_input_from
from certdesk.notifications.services import email_enqueue
from certdesk.organizations.models import Organization
from certdesk.suppliers.base import IssueRequest, SupplierError
from certdesk.suppliers.registry import supplier_get
from certdesk.validation import lookups
from certdesk.validation.models import DomainValidation
from certdesk.validation.services import (
    validation_check,
    validation_pending,
    validation_reusable,
)

# --- who may do what ------------------------------------------------------------------------


def require_writer(user: User) -> Account:
    """The user's account, if the user may change certificates; else ``PermissionDenied``."""
    if not user.is_active or user.account_id is None:
        raise PermissionDenied()
    if not user.can_write():
        raise PermissionDenied(
            _("Read-only members cannot apply for, renew or revoke certificates."),
            code="read_only_member",
        )
    account = user.account
    assert account is not None
    if not account.is_active:
        raise PermissionDenied(
            _("This account is disabled: certificates cannot be applied for or changed."),
            code="account_disabled",
        )
    return account


def product_profile(product: Product) -> pki.Profile:
    return dataclasses.replace(pki.profile_get(product.profile), max_names=product.max_names)


def organization_subject(organization: Organization) -> pki.Organization:
    return pki.Organization(
        name=organization.name_en,
        country=organization.country,
        state=organization.prefecture or None,
        locality=organization.locality or None,
    )


# --- applying -------------------------------------------------------------------------------


def _organization_for(
    *, account: Account, product: Product, organization_id: int | None
) -> Organization | None:
    if organization_id is None:
        if product.is_ov:
            raise InvalidInput(
                _("An OV certificate names an organisation: choose one of yours."),
                code="organization_required",
                field="organization",
            )
        return None
    organization = Organization.objects.filter(pk=organization_id, account=account).first()
    if organization is None:
        # Article 4.1(2): an account acts only for the organisations it is permitted for.
        raise InvalidInput(
            _("This account is not permitted to apply for that organisation."),
            code="organization_not_permitted",
            field="organization",
        )
    if not organization.is_verified:
        # Article 4: an account acts only for organisations the operator has verified.
        raise InvalidInput(
            _(
                "The organisation has not been verified yet. Certificates can be applied for "
                "it once the operator has verified it."
            ),
            code="organization_not_verified",
            field="organization",
        )
    return organization


def application_create(
    *,
    user: User,
    product_id: int,
    csr: str | bytes,
    now: datetime,
    organization_id: int | None = None,
    method: str = DomainValidation.Method.DNS,
    renewal_of_id: int | None = None,
    idempotency_key: str = "",
    ip: str | None = None,
) -> Application:
    """File an application and try to issue at once (every name may already be validated).

    Raises ``InvalidInput`` (the CSR's code from the PKI core, ``product_unavailable``,
    ``organization_*``, ``dcv_method_*``), ``PermissionDenied`` and ``NotFound`` (renewal of a
    certificate that is not the account's); ``Conflict`` when ``idempotency_key`` was used for
    a different request.
    """
    account = require_writer(user)
    if idempotency_key:
        previous = Application.objects.filter(
            account=account, idempotency_key=idempotency_key
        ).first()
        if previous is not None:
            return _replayed(previous, csr=csr, product_id=product_id)
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise InvalidInput(
            _("This product is not available. Choose one from the list."),
            code="product_unavailable",
            field="product",
        )
    try:
        validated = pki.validate_csr(csr)
        product_profile(product).check(validated)
    except pki.PkiError as error:
        raise invalid_input_from(error, field="csr") from None
    organization = _organization_for(
        account=account, product=product, organization_id=organization_id
    )
    renewal_of = None
    if renewal_of_id is not None:
        renewal_of = Certificate.objects.filter(pk=renewal_of_id, account=account).first()
        if renewal_of is None:
            raise NotFound(code="certificate_not_found")
    names = list(validated.dns_names)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                account=account,
                product=product,
                organization=organization,
                created_by=user,
                renewal_of=renewal_of,
                csr_pem=validated.csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                common_name=validated.common_name or "",
                names=names,
                key_description=str(validated.key),
                key_fingerprint=validated.key.spki_sha256,
                approval=(
                    Application.Approval.WAITING
                    if product.is_ov
                    else Application.Approval.NOT_REQUIRED
                ),
                created_at=now,
                updated_at=now,
                idempotency_key=idempotency_key,
            )
            # A wildcard's DNS record also proves its base name: ask for one record, not two.
            dns_only = {pki.base_domain(name) for name in names if pki.is_wildcard(name)}
            for name in names:
                validation = validation_reusable(account=account, name=name, now=now)
                if validation is None:
                    chosen = (
                        DomainValidation.Method.DNS
                        if name in dns_only or pki.is_wildcard(name)
                        else method
                    )
                    validation = validation_pending(
                        account=account, name=name, method=chosen, now=now
                    )
                ApplicationName.objects.create(
                    application=application, name=name, validation=validation
                )
            audit_record(
                action="application.created",
                account=account,
                actor=user,
                target=application,
                data={"product": product.code, "names": names},
                ip=ip,
                now=now,
            )
    except IntegrityError:
        # Two requests with the same Idempotency-Key raced; the other one won.
        previous = Application.objects.filter(
            account=account, idempotency_key=idempotency_key
        ).first()
        if idempotency_key and previous is not None:
            return _replayed(previous, csr=csr, product_id=product_id)
        raise
    application_issue(application_id=application.pk, now=now)
    application.refresh_from_db()
    return application


def _replayed(previous: Application, *, csr: str | bytes, product_id: int) -> Application:
    try:
        same_csr = (
            pki.validate_csr(csr).csr.public_bytes(serialization.Encoding.PEM).decode()
            == previous.csr_pem
            and previous.product_id == product_id
        )
    except pki.PkiError:
        same_csr = False
    if not same_csr:
        raise Conflict(
            _("This Idempotency-Key was already used for a different application."),
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return previous


def _pending_for_update(*, user: User, application_id: int) -> Application:
    account = require_writer(user)
    application = (
        Application.objects.select_for_update().filter(pk=application_id, account=account).first()
    )
    if application is None:
        raise NotFound(code="application_not_found")
    if not application.is_pending:
        raise Conflict(
            _("This application is no longer in progress."),
            code="application_not_pending",
        )
    return application


def application_method_change(
    *, user: User, application_id: int, name: str, method: str, now: datetime
) -> ApplicationName:
    """Switch how one name of a pending application is validated (DNS TXT or HTTP file).

    Raises ``NotFound``, ``Conflict`` (not pending, or the name is already validated) and
    ``InvalidInput`` (``dcv_method_*``).
    """
    with transaction.atomic():
        application = _pending_for_update(user=user, application_id=application_id)
        entry = (
            None
            if "\x00" in name
            else ApplicationName.objects.filter(application=application, name=name).first()
        )
        if entry is None:
            raise NotFound(code="application_name_not_found")
        if entry.validation.is_valid_at(now):
            raise Conflict(
                _("This name is already validated."), code="dcv_already_valid", field="name"
            )
        entry.validation = validation_pending(
            account=application.account, name=name, method=method, now=now
        )
        entry.save(update_fields=["validation"])
        audit_record(
            action="application.dcv_method_changed",
            account=application.account,
            actor=user,
            target=application,
            data={"name": name, "method": method},
            now=now,
        )
    return entry


def application_validate(*, user: User, application_id: int, now: datetime) -> Application:
    """ "Check now": look up every name still waiting, then issue if nothing else is missing.

    Safe to call any number of times, at once or concurrently. Raises ``NotFound`` and
    ``PermissionDenied``.
    """
    account = require_writer(user)
    application = Application.objects.filter(pk=application_id, account=account).first()
    if application is None:
        raise NotFound(code="application_not_found")
    if application.is_pending:
        _refresh_validations(application=application, now=now)
        application_issue(application_id=application.pk, now=now)
        application.refresh_from_db()
    return application


def _refresh_validations(*, application: Application, now: datetime) -> None:
    for entry in application.dcv.select_related("validation"):
        validation = entry.validation
        if validation.status == DomainValidation.Status.PENDING:
            validation_check(validation_id=validation.pk, now=now)
        elif not validation.is_valid_at(now):
            # The proof it relied on aged past the reuse period before issuance: ask again.
            fresh = validation_reusable(account=application.account, name=entry.name, now=now)
            if fresh is None:
                fresh = validation_pending(
                    account=application.account,
                    name=entry.name,
                    method=validation.method,
                    now=now,
                )
            ApplicationName.objects.filter(pk=entry.pk).update(validation=fresh)


def _adopt_reusable_validations(*, application: Application, now: datetime) -> bool:
    """Point names still waiting at a proof the account has meanwhile obtained some other
    way (another application, the other method), so nobody validates a name twice. Returns
    whether every name is now proven."""
    proven = True
    for entry in application.dcv.select_related("validation"):
        if entry.validation.is_valid_at(now):
            continue
        reusable = validation_reusable(account=application.account, name=entry.name, now=now)
        if reusable is None:
            proven = False
        else:
            ApplicationName.objects.filter(pk=entry.pk).update(validation=reusable)
    return proven


def application_waiting_for(application: Application, *, now: datetime) -> list[str]:
    """What still stands between a pending application and its certificate, as codes:
    ``dcv`` (a name is not validated), ``approval`` (OV review)."""
    waiting = []
    # A list page prefetches the names with their validations; use those rows if so.
    prefetched = "dcv" in getattr(application, "_prefetched_objects_cache", {})
    entries = application.dcv.all() if prefetched else application.dcv.select_related("validation")
    if any(not entry.validation.is_valid_at(now) for entry in entries):
        waiting.append("dcv")
    if application.approval == Application.Approval.WAITING:
        waiting.append("approval")
    return waiting


def _caa_block(names: list[str]) -> tuple[str, str] | None:
    """The first CAA refusal among ``names`` as (code, detail), or None when all are allowed.

    BR 3.2.2.8 lets a CA rely on a CAA check for the record's TTL or eight hours, whichever
    is greater. A permission is kept for ``CAA_CACHE_SECONDS`` (an hour by default, per
    resolver), so a burst of applications for one domain does not climb its DNS tree each
    time; a refusal or a failed lookup is never kept, so a corrected record counts at once.
    """
    for name in names:
        adn, wildcard = pki.base_domain(name), pki.is_wildcard(name)
        key = f"caa-ok:{settings.DCV_DNS_SERVER}:{int(wildcard)}:{adn}"
        if settings.CAA_CACHE_SECONDS > 0 and cache.get(key):
            continue
        result = lookups.caa_check(name=adn, wildcard=wildcard)
        if not result.ok:
            return result.code, result.detail
        if settings.CAA_CACHE_SECONDS > 0:
            cache.set(key, True, timeout=settings.CAA_CACHE_SECONDS)
    return None


def application_issue(*, application_id: int, now: datetime) -> Certificate | None:
    """Issue the application's certificate if it is ready; return it (also when it was
    issued before). Returns None while something is missing; a CAA refusal or a supplier
    failure is recorded on the application (``blocked_code``) for the customer to see.

    Never raises for a state the customer can fix; raises ``SupplierError`` subclasses only
    for non-transient supplier faults after recording them.
    """
    application = Application.objects.select_related("account").get(pk=application_id)
    if application.status == Application.Status.ISSUED:
        return Certificate.objects.filter(application=application).first()
    if not application.is_pending:
        return None
    proven = _adopt_reusable_validations(application=application, now=now)
    if not proven or application.approval == Application.Approval.WAITING:
        return None
    # CAA is looked up before the lock: DNS may be slow, and the lock is per application only.
    blocked = _caa_block(list(application.names))
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("product", "organization", "account", "created_by")
            .get(pk=application_id)
        )
        if application.status == Application.Status.ISSUED:
            return Certificate.objects.filter(application=application).first()
        if not application.is_pending or application_waiting_for(application, now=now):
            return None
        if blocked is not None:
            _block(application, code=blocked[0], detail=blocked[1], now=now)
            return None
        return _sign_and_store(application=application, now=now)


def _block(application: Application, *, code: str, detail: str, now: datetime) -> None:
    """Record why issuance cannot go ahead yet, for the customer to read and fix."""
    application.blocked_code = code[:40]
    application.blocked_detail = detail[:500]
    application.updated_at = now
    application.save(update_fields=["blocked_code", "blocked_detail", "updated_at"])


def _sign_and_store(*, application: Application, now: datetime) -> Certificate | None:
    product = application.product
    organization = application.organization
    if product.is_ov and (organization is None or not organization.is_verified):
        # The operator withdrew the organisation's verification after approving: an OV
        # certificate must never carry details that are not verified at the moment of issue.
        _block(
            application,
            code="organization_not_verified",
            detail="the organisation is no longer verified",
            now=now,
        )
        return None
    supplier = supplier_get(product.supplier)
    request = IssueRequest(
        csr=pki.validate_csr(application.csr_pem),
        profile=product_profile(product),
        organization=organization_subject(organization)
        if product.is_ov and organization is not None
        else None,
        reference=f"application-{application.pk}",
        now=now,
    )
    try:
        supplied = supplier.issue(request)
    except (SupplierError, pki.PkiError) as error:
        _block(
            application, code=error.code, detail=str(getattr(error, "detail", "") or error), now=now
        )
        return None
    leaf = supplied.certificate
    names = list(application.names)
    certificate = Certificate.objects.create(
        account=application.account,
        application=application,
        product=product,
        organization=organization,
        renewal_of=application.renewal_of,
        supplier=supplier.key,
        issuer=supplied.issuer,
        serial=serial_hex(leaf.serial_number),
        common_name=application.common_name,
        names=names,
        key_description=application.key_description,
        # The leaf carries the CSR's key, whose fingerprint the application already holds.
        key_fingerprint=application.key_fingerprint,
        fingerprint_sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        pem=supplied.pem,
        chain_pem=supplied.chain_pem,
        issued_at=now,
    )
    CertificateName.objects.bulk_create(
        [
            CertificateName(certificate=certificate, account=application.account, name=n)
            for n in names
        ]
    )
    application.status = Application.Status.ISSUED
    application.issued_at = now
    application.updated_at = now
    application.blocked_code = ""
    application.blocked_detail = ""
    application.save(
        update_fields=["status", "issued_at", "updated_at", "blocked_code", "blocked_detail"]
    )
    audit_record(
        action="certificate.issued",
        account=application.account,
        target=certificate,
        data={"serial": certificate.serial, "application": application.pk, "names": names},
        now=now,
    )
    _notify(
        application.created_by,
        "certificates/email/issued",
        account=application.account,
        certificate=certificate,
    )
    return certificate


def _notify(
    user: User, template: str, *, account: Account | None = None, **context: object
) -> None:
    email_enqueue(
        to=user.email,
        template=template,
        context={"user": user, **context},
        language=user.language,
        account=account if account is not None else user.account,
    )


def application_cancel(*, user: User, application_id: int, now: datetime) -> Application:
    """Withdraw a pending application. Raises ``NotFound``, ``Conflict``."""
    with transaction.atomic():
        application = _pending_for_update(user=user, application_id=application_id)
        application.status = Application.Status.CANCELLED
        application.updated_at = now
        application.save(update_fields=["status", "updated_at"])
        audit_record(
            action="application.cancelled",
            account=application.account,
            actor=user,
            target=application,
            now=now,
        )
    return application


def application_decide(
    *, operator: User, application_id: int, approve: bool, reason: str, now: datetime
) -> Application:
    """The operator's review of an OV application: approve (issuance follows as soon as every
    name is validated) or reject with a reason. The customer is emailed either way.

    Raises ``PermissionDenied`` (not an operator), ``NotFound``, ``Conflict`` (already decided
    or not pending; ``organization_not_verified`` when approving) and ``InvalidInput``
    (``reason_required`` when rejecting).
    """
    if not operator.is_operator:
        raise PermissionDenied()
    reason = reason.strip()
    if not approve and not reason:
        raise InvalidInput(
            _("Give the reason for the rejection; the customer will read it."),
            code="reason_required",
            field="reason",
        )
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("account", "created_by", "organization")
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            raise NotFound(code="application_not_found")
        if approve and (
            application.organization is None or not application.organization.is_verified
        ):
            # Judged under the lock: a certificate must never name an unverified organisation.
            raise Conflict(
                _(
                    "The organisation named in this application is not verified. Verify the "
                    "organisation first, or reject the application."
                ),
                code="organization_not_verified",
            )
        if not application.is_pending or application.approval != Application.Approval.WAITING:
            raise Conflict(
                _("This application is not waiting for review."), code="application_not_waiting"
            )
        application.approval = (
            Application.Approval.APPROVED if approve else Application.Approval.REJECTED
        )
        if not approve:
            application.status = Application.Status.REJECTED
        application.decided_by = operator
        application.decided_at = now
        application.decision_reason = reason[:500]
        application.updated_at = now
        application.save()
        audit_record(
            action="application.approved" if approve else "application.rejected",
            account=application.account,
            actor=operator,
            target=application,
            data={"reason": reason} if reason else {},
            now=now,
        )
        _notify(
            application.created_by,
            "certificates/email/approved" if approve else "certificates/email/rejected",
            application=application,
            reason=reason,
        )
    if approve:
        application_issue(application_id=application.pk, now=now)
        application.refresh_from_db()
    return application


# --- after issuance -------------------------------------------------------------------------

# BR 7.2.2 lets a subscriber certificate carry privilegeWithdrawn, but that reason says the
# CA withdrew the subscriber's right to it: the operator's to give, never the customer's.
CUSTOMER_REVOCATION_REASONS = frozenset(
    {
        pki.RevocationReason.UNSPECIFIED,
        pki.RevocationReason.KEY_COMPROMISE,
        pki.RevocationReason.AFFILIATION_CHANGED,
        pki.RevocationReason.SUPERSEDED,
        pki.RevocationReason.CESSATION_OF_OPERATION,
    }
)


def certificate_revoke(
    *, user: User, certificate_id: int, reason: str | int, now: datetime, ip: str | None = None
) -> Certificate:
    """Revoke a certificate of the user's account with an RFC 5280 reason that BR 7.2.2
    allows for subscriber certificates. The CRL and OCSP answers follow at once.

    Raises ``NotFound``, ``PermissionDenied``, ``Conflict`` (``already_revoked``) and
    ``InvalidInput`` (``revocation_reason_*``).
    """
    account = require_writer(user)
    unknown = InvalidInput(
        _("Choose a revocation reason from the list."),
        code="revocation_reason_unknown",
        field="reason",
    )
    if isinstance(reason, bool):
        # True == 1 in Python: a stray boolean must never become keyCompromise.
        raise unknown
    try:
        parsed = pki.check_subscriber_reason(reason)
    except pki.PkiError as error:
        raise invalid_input_from(error, field="reason") from None
    except ValueError:
        raise unknown from None
    if parsed not in CUSTOMER_REVOCATION_REASONS:
        raise InvalidInput(
            _(
                "This reason is given by the certificate authority, not by the customer. "
                "Choose another reason."
            ),
            code="revocation_reason_not_customer",
            field="reason",
        )
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update()
            .filter(pk=certificate_id, account=account)
            .first()
        )
        if certificate is None:
            raise NotFound(code="certificate_not_found")
        if certificate.revoked_at is not None:
            raise Conflict(_("This certificate is already revoked."), code="already_revoked")
        supplier = supplier_get(certificate.supplier)
        try:
            supplier.revoke(
                certificate=x509.load_pem_x509_certificate(certificate.pem.encode("ascii")),
                issuer=certificate.issuer,
                reason=parsed,
                now=now,
            )
        except pki.PkiError as error:
            raise invalid_input_from(error, field="reason") from None
        except SupplierError as error:
            raise ServiceUnavailable(
                _(
                    "The certificate authority could not be reached. Nothing was changed; try "
                    "again in a few minutes."
                ),
                code="supplier_unavailable",
                retry_after=300,
            ) from error
        certificate.revoked_at = now
        certificate.revocation_reason = int(parsed)
        certificate.revoked_by = user
        certificate.save(update_fields=["revoked_at", "revocation_reason", "revoked_by"])
        audit_record(
            action="certificate.revoked",
            account=account,
            actor=user,
            target=certificate,
            data={"serial": certificate.serial, "reason": parsed.rfc_name},
            ip=ip,
            now=now,
        )
        _notify(user, "certificates/email/revoked", certificate=certificate)
    return certificate
