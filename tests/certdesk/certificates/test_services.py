"""The lifecycle's services: applying, domain validation against a real DNS server on
loopback, CAA, OV review, issuing exactly once, revocation and the periodic jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from django.core import mail

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.certificates.jobs import issue_ready_applications
from certdesk.certificates.models import Application, Certificate, CertificateName, Product
from certdesk.certificates.services import (
    application_cancel,
    application_create,
    application_decide,
    application_method_change,
    application_validate,
    certificate_revoke,
)
from certdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certdesk.notifications.models import OutboundEmail
from certdesk.organizations.models import Organization
from certdesk.validation.jobs import recheck_pending_validations
from certdesk.validation.models import DomainValidation
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    UserFactory,
    issue_certificate,
    make_csr,
    member_of,
    product,
    validate_names,
)
from tests.certdesk.terms.factories import OperatorFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def owner() -> User:
    return UserFactory(language="en")


def apply(user: User, names: list[str], code: str = "dv-single", **kw: object) -> Application:
    return application_create(
        user=user, product_id=product(code).pk, csr=make_csr(names), now=NOW, **kw
    )


def publish(zone, application: Application) -> None:
    for entry in application.dcv.select_related("validation"):
        zone.add_txt(entry.validation.record_name, entry.validation.token)


def test_a_new_name_waits_for_its_dns_record_and_issues_after_check_now(owner, dns_zone):
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert application.status == Application.Status.PENDING
    entry = application.dcv.get()
    assert entry.validation.record_name == "_pki-validation.www.shop-certdesk.jp"
    assert len(entry.validation.token) == 64

    application = application_validate(user=owner, application_id=application.pk, now=NOW)
    assert application.status == Application.Status.PENDING
    validation = DomainValidation.objects.get(pk=entry.validation_id)
    assert validation.last_code == "dcv_dns_no_record"
    assert validation.next_check_at > NOW

    publish(dns_zone, application)
    later = NOW + timedelta(minutes=3)
    application = application_validate(user=owner, application_id=application.pk, now=later)
    assert application.status == Application.Status.ISSUED
    certificate = application.certificate
    leaf = x509.load_pem_x509_certificate(certificate.pem.encode())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["www.shop-certdesk.jp"]
    assert certificate.serial == format(leaf.serial_number, "x")
    assert certificate.status_at(later) == Certificate.Status.VALID
    assert list(
        CertificateName.objects.filter(certificate=certificate).values_list("name", flat=True)
    ) == ["www.shop-certdesk.jp"]
    issued_mail = OutboundEmail.objects.get(template="certificates/email/issued")
    assert issued_mail.to == owner.email and issued_mail.language == "en"
    assert "www.shop-certdesk.jp" in issued_mail.subject
    assert AuditEvent.objects.filter(action="certificate.issued", account=owner.account).exists()


def test_check_now_twice_issues_one_certificate(owner, dns_zone):
    application = apply(owner, ["www.shop-certdesk.jp"])
    publish(dns_zone, application)
    first = application_validate(user=owner, application_id=application.pk, now=NOW)
    second = application_validate(user=owner, application_id=application.pk, now=NOW)
    assert first.status == second.status == Application.Status.ISSUED
    assert Certificate.objects.filter(account=owner.account).count() == 1
    assert issue_ready_applications(now=NOW, dry_run=False).endswith("issued 0")
    assert Certificate.objects.filter(account=owner.account).count() == 1


def test_a_name_validated_within_the_reuse_period_issues_at_once(owner):
    validate_names(owner.account, ["shop-certdesk.jp"], at=NOW - timedelta(days=199))
    # DNS validation of the domain covers names under it, and the wildcard.
    application = apply(owner, ["*.shop-certdesk.jp", "shop-certdesk.jp"], "dv-wildcard")
    assert application.status == Application.Status.ISSUED


def test_a_validation_past_the_reuse_period_is_not_reused(owner):
    # From 2026-03-15 the reuse period is 200 days (BR 4.2.1).
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW - timedelta(days=201))
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert application.status == Application.Status.PENDING
    assert application.dcv.get().validation.status == DomainValidation.Status.PENDING


def test_another_accounts_validation_is_never_reused(owner):
    stranger = UserFactory()
    validate_names(stranger.account, ["www.shop-certdesk.jp"], at=NOW)
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert application.status == Application.Status.PENDING


def test_http_validation_proves_only_its_own_name(owner):
    DomainValidation.objects.create(
        account=owner.account,
        name="shop-certdesk.jp",
        method="http",
        token="1" * 64,
        status="valid",
        validated_at=NOW,
    )
    assert apply(owner, ["shop-certdesk.jp"]).status == Application.Status.ISSUED
    assert apply(owner, ["www.shop-certdesk.jp"]).status == Application.Status.PENDING


def test_a_wildcard_cannot_be_validated_by_http(owner):
    # Asked for HTTP, the wildcard still gets DNS, and so does its base name: one TXT record
    # proves both. A plain name elsewhere gets what was asked.
    Product.objects.filter(code="dv-wildcard").update(max_names=3)
    application = apply(
        owner,
        ["*.shop-certdesk.jp", "shop-certdesk.jp", "www.example-shop.co.jp"],
        "dv-wildcard",
        method="http",
    )
    methods = dict(application.dcv.values_list("name", "validation__method"))
    assert methods == {
        "*.shop-certdesk.jp": "dns",
        "shop-certdesk.jp": "dns",
        "www.example-shop.co.jp": "http",
    }
    assert len(set(application.dcv.values_list("validation", flat=True))) == 2
    with pytest.raises(InvalidInput) as refused:
        application_method_change(
            user=owner,
            application_id=application.pk,
            name="*.shop-certdesk.jp",
            method="http",
            now=NOW,
        )
    assert refused.value.code == "dcv_method_wildcard"


def test_the_same_record_is_asked_for_when_applying_twice(owner):
    first = apply(owner, ["www.shop-certdesk.jp"]).dcv.get().validation
    second = apply(owner, ["www.shop-certdesk.jp"]).dcv.get().validation
    assert first.pk == second.pk


def test_a_caa_record_for_another_ca_blocks_issuance_until_it_changes(owner, dns_zone):
    dns_zone.add_caa("shop-certdesk.jp", "issue", "other-ca.example")
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW)
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert application.status == Application.Status.PENDING
    assert application.blocked_code == "caa_forbidden"
    assert not Certificate.objects.exists()

    dns_zone.remove("shop-certdesk.jp", "CAA")
    dns_zone.add_caa("shop-certdesk.jp", "issue", "certdesk.jp")
    assert issue_ready_applications(now=NOW, dry_run=False).endswith("issued 1")
    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED
    assert application.blocked_code == ""


def test_a_failed_caa_lookup_is_not_permission(owner, dns_zone, settings):
    settings.DCV_TIMEOUT_SECONDS = 0.3
    dns_zone.servfail("www.shop-certdesk.jp")
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW)
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert application.status == Application.Status.PENDING
    assert application.blocked_code == "caa_lookup_failed"


def test_the_background_retry_validates_and_issues(owner, dns_zone):
    application = apply(owner, ["www.shop-certdesk.jp"])
    assert recheck_pending_validations(now=NOW, dry_run=False).startswith("checked 0")
    publish(dns_zone, application)
    summary = recheck_pending_validations(now=NOW + timedelta(minutes=2), dry_run=False)
    assert summary == "checked 1 domain validations, 1 now valid, issued 1"
    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED


def test_a_token_older_than_thirty_days_expires_and_a_new_one_is_handed_out(owner):
    application = apply(owner, ["www.shop-certdesk.jp"])
    old = application.dcv.get().validation
    later = NOW + timedelta(days=30, minutes=1)
    recheck_pending_validations(now=later, dry_run=False)
    old.refresh_from_db()
    assert old.status == DomainValidation.Status.EXPIRED
    entry = application_method_change(
        user=owner,
        application_id=application.pk,
        name="www.shop-certdesk.jp",
        method="dns",
        now=later,
    )
    assert entry.validation.pk != old.pk and entry.validation.token != old.token


def test_ov_needs_a_verified_organisation_of_the_account(owner):
    foreign = OrganizationFactory()
    with pytest.raises(InvalidInput) as refused:
        apply(owner, ["www.shop-certdesk.jp"], "ov-single", organization_id=foreign.pk)
    assert refused.value.code == "organization_not_permitted"
    pending = OrganizationFactory(account=owner.account, status=Organization.Status.PENDING)
    with pytest.raises(InvalidInput) as refused:
        apply(owner, ["www.shop-certdesk.jp"], "ov-single", organization_id=pending.pk)
    assert refused.value.code == "organization_not_verified"
    with pytest.raises(InvalidInput) as refused:
        apply(owner, ["www.shop-certdesk.jp"], "ov-single")
    assert refused.value.code == "organization_required"
    assert not Application.objects.exists()


def test_ov_waits_for_review_and_issues_with_the_organisation_in_the_subject(owner):
    organization = OrganizationFactory(account=owner.account, name_en="Shop Certdesk K.K.")
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW)
    application = apply(
        owner, ["www.shop-certdesk.jp"], "ov-single", organization_id=organization.pk
    )
    assert application.status == Application.Status.PENDING
    assert application.approval == Application.Approval.WAITING
    application = application_decide(
        operator=OperatorFactory(),
        application_id=application.pk,
        approve=True,
        reason="",
        now=NOW,
    )
    assert application.status == Application.Status.ISSUED
    leaf = x509.load_pem_x509_certificate(application.certificate.pem.encode())
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == (
        "Shop Certdesk K.K."
    )


def test_a_rejected_ov_application_is_closed_and_the_customer_told_why(owner):
    organization = OrganizationFactory(account=owner.account)
    application = apply(
        owner, ["www.shop-certdesk.jp"], "ov-single", organization_id=organization.pk
    )
    with pytest.raises(InvalidInput):
        application_decide(
            operator=OperatorFactory(),
            application_id=application.pk,
            approve=False,
            reason=" ",
            now=NOW,
        )
    application = application_decide(
        operator=OperatorFactory(),
        application_id=application.pk,
        approve=False,
        reason="The organisation could not be reached by phone.",
        now=NOW,
    )
    assert application.status == Application.Status.REJECTED
    email = OutboundEmail.objects.get(template="certificates/email/rejected")
    assert "could not be reached by phone" in email.body
    with pytest.raises(Conflict):
        application_cancel(user=owner, application_id=application.pk, now=NOW)


def test_read_only_members_and_disabled_accounts_cannot_apply(owner):
    reader = member_of(owner.account, User.Role.READ_ONLY)
    with pytest.raises(PermissionDenied) as refused:
        apply(reader, ["www.shop-certdesk.jp"])
    assert refused.value.code == "read_only_member"
    Account.objects.filter(pk=owner.account_id).update(status=Account.Status.DISABLED)
    owner.refresh_from_db()
    with pytest.raises(PermissionDenied) as refused:
        apply(owner, ["www.shop-certdesk.jp"])
    assert refused.value.code == "account_disabled"


def test_csr_refusals_keep_the_cores_code_and_save_nothing(owner):
    with pytest.raises(InvalidInput) as refused:
        apply(owner, ["www.shop-certdesk.jp", "shop-certdesk.jp"])  # two names, single product
    assert refused.value.code == "profile_single_name"
    assert refused.value.field == "csr"
    with pytest.raises(InvalidInput) as refused:
        application_create(user=owner, product_id=product("dv-single").pk, csr="not a csr", now=NOW)
    assert refused.value.field == "csr"
    assert not Application.objects.exists() and not DomainValidation.objects.exists()


def test_the_idempotency_key_replays_the_first_application(owner):
    csr = make_csr(["www.shop-certdesk.jp"])
    first = application_create(
        user=owner, product_id=product("dv-single").pk, csr=csr, now=NOW, idempotency_key="k1"
    )
    again = application_create(
        user=owner, product_id=product("dv-single").pk, csr=csr, now=NOW, idempotency_key="k1"
    )
    assert first.pk == again.pk
    with pytest.raises(Conflict) as refused:
        apply(owner, ["shop-certdesk.jp"], idempotency_key="k1")
    assert refused.value.code == "idempotency_key_reused"
    assert Application.objects.count() == 1


def test_revocation_is_recorded_once_with_an_allowed_reason(owner):
    certificate = issue_certificate(owner, ["www.shop-certdesk.jp"], now=NOW)
    with pytest.raises(InvalidInput):
        certificate_revoke(
            user=owner, certificate_id=certificate.pk, reason="cACompromise", now=NOW
        )
    with pytest.raises(InvalidInput) as refused:
        certificate_revoke(user=owner, certificate_id=certificate.pk, reason="bogus", now=NOW)
    assert refused.value.code == "revocation_reason_unknown"
    revoked = certificate_revoke(
        user=owner, certificate_id=certificate.pk, reason="keyCompromise", now=NOW
    )
    assert revoked.status_at(NOW) == Certificate.Status.REVOKED
    assert revoked.revocation_reason == 1
    with pytest.raises(Conflict):
        certificate_revoke(user=owner, certificate_id=certificate.pk, reason="superseded", now=NOW)
    stranger = UserFactory()
    with pytest.raises(NotFound):
        certificate_revoke(
            user=stranger, certificate_id=certificate.pk, reason="superseded", now=NOW
        )
    assert OutboundEmail.objects.filter(template="certificates/email/revoked").count() == 1


def test_a_renewal_links_to_the_certificate_it_renews(owner):
    old = issue_certificate(owner, ["www.shop-certdesk.jp"], now=NOW)
    application = apply(owner, ["www.shop-certdesk.jp"], renewal_of_id=old.pk)
    assert application.status == Application.Status.ISSUED
    assert application.certificate.renewal_of_id == old.pk
    with pytest.raises(NotFound):
        apply(UserFactory(), ["www.shop-certdesk.jp"], renewal_of_id=old.pk)


def test_a_failure_half_way_through_applying_leaves_nothing_behind(owner, monkeypatch):
    from certdesk.certificates import services

    def broken_audit(**kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        apply(owner, ["www.shop-certdesk.jp", "shop-certdesk.jp"], "dv-multi")
    assert not Application.objects.exists()
    assert not DomainValidation.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not mail.outbox


def test_a_dv_application_may_only_name_a_verified_organisation(owner):
    pending = OrganizationFactory(account=owner.account, status=Organization.Status.PENDING)
    with pytest.raises(InvalidInput) as refused:
        apply(owner, ["www.shop-certdesk.jp"], organization_id=pending.pk)
    assert refused.value.code == "organization_not_verified"
    verified = OrganizationFactory(account=owner.account)
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW)
    application = apply(owner, ["www.shop-certdesk.jp"], organization_id=verified.pk)
    assert application.status == Application.Status.ISSUED
    assert application.certificate.organization_id == verified.pk


@pytest.mark.parametrize("reason", [True, False, "privilegeWithdrawn", 9, "cACompromise"])
def test_a_customer_cannot_revoke_with_a_reason_that_is_not_theirs(owner, reason):
    certificate = issue_certificate(owner, ["www.shop-certdesk.jp"], now=NOW)
    with pytest.raises(InvalidInput):
        certificate_revoke(user=owner, certificate_id=certificate.pk, reason=reason, now=NOW)
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_an_ov_certificate_is_not_issued_once_the_organisation_is_unverified(owner):
    organization = OrganizationFactory(account=owner.account)
    application = apply(
        owner, ["www.shop-certdesk.jp"], "ov-single", organization_id=organization.pk
    )
    application = application_decide(
        operator=OperatorFactory(),
        application_id=application.pk,
        approve=True,
        reason="",
        now=NOW,
    )
    Organization.objects.filter(pk=organization.pk).update(status=Organization.Status.PENDING)
    validate_names(owner.account, ["www.shop-certdesk.jp"], at=NOW)
    assert issue_ready_applications(now=NOW, dry_run=False).endswith("issued 0")
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert application.blocked_code == "organization_not_verified"


def test_a_caa_permission_is_relied_on_for_a_while_and_a_refusal_never(owner, dns_zone, settings):
    settings.CAA_CACHE_SECONDS = 3600
    validate_names(owner.account, ["shop-certdesk.jp"], at=NOW)
    assert apply(owner, ["www.shop-certdesk.jp"]).status == Application.Status.ISSUED
    looked_up = len(dns_zone.queried("CAA"))
    assert looked_up > 0
    # A burst of applications for the same name does not climb the DNS tree again.
    for _ in range(3):
        assert apply(owner, ["www.shop-certdesk.jp"]).status == Application.Status.ISSUED
    assert len(dns_zone.queried("CAA")) == looked_up
    # A refusal is looked up every time, so a corrected record counts at once.
    dns_zone.add_caa("example-shop.co.jp", "issue", "other-ca.example")
    validate_names(owner.account, ["example-shop.co.jp"], at=NOW)
    assert apply(owner, ["example-shop.co.jp"]).blocked_code == "caa_forbidden"
    dns_zone.remove("example-shop.co.jp", "CAA")
    assert apply(owner, ["example-shop.co.jp"]).status == Application.Status.ISSUED
