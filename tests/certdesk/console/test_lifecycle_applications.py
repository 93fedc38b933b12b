"""The console's OV review: the queue (oldest first), the application page (organisation,
names, CSR subject, DCV state) and approve / reject through ``application_decide``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography import x509
from django.core import mail
from django.utils import timezone

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent
from certdesk.certificates.models import Application, Certificate
from certdesk.certificates.services import application_create
from certdesk.organizations.models import Organization
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    make_csr,
    product,
    validate_names,
)
from tests.certdesk.members.factories import AccountFactory, UserFactory
from tests.certdesk.validation.conftest import dns_zone  # noqa: F401
from tests.certdesk.validation.servers import DnsZone

pytestmark = pytest.mark.django_db

NAMES = ["shop-certdesk.jp"]


@pytest.fixture(autouse=True)
def _lab_dns(dns_zone: DnsZone) -> DnsZone:  # noqa: F811
    """Issuing looks up CAA: on the lab DNS server, never past loopback."""
    return dns_zone


def customer(language: str = User.Language.JA) -> User:
    return UserFactory(account=AccountFactory(), language=language)


def ov_application(
    user: User,
    *,
    names: list[str] = NAMES,
    validated: bool = True,
    organization: Organization | None = None,
    code: str = "ov-single",
) -> Application:
    now = timezone.now()
    if organization is None:
        organization = OrganizationFactory(
            account=user.account, name_en="Shop Certdesk K.K.", locality="Chiyoda-ku"
        )
    if validated:
        validate_names(user.account, names, at=now - timedelta(minutes=5))  # type: ignore[arg-type]
    application = application_create(
        user=user,
        product_id=product(code).pk,
        csr=make_csr(names),
        now=now,
        organization_id=organization.pk,
    )
    assert application.approval == Application.Approval.WAITING
    return application


def numbers_on(body: str) -> list[str]:
    return re.findall(r'href="/console/applications/\d+/">(R\d{8})<', body)


@pytest.mark.parametrize("page", ["/console/applications/", "/console/applications/{a}/"])
def test_customers_get_not_found(client, page):
    user = customer()
    application = ov_application(user)
    client.force_login(user)
    assert client.get(page.format(a=application.pk)).status_code == 404


def test_customers_cannot_approve_their_own_application(client):
    user = customer()
    application = ov_application(user)
    client.force_login(user)
    response = client.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.approval == Application.Approval.WAITING
    assert not Certificate.objects.exists()


def test_the_queue_lists_waiting_ov_applications_oldest_first(console):
    first = ov_application(customer())
    second = ov_application(customer())
    decided = ov_application(customer())
    Application.objects.filter(pk=decided.pk).update(approval=Application.Approval.APPROVED)
    body = console.get("/console/applications/").content.decode()
    assert numbers_on(body) == [first.number, second.number]


def test_the_queue_does_not_grow_queries_with_rows(console, django_assert_max_num_queries):
    for _ in range(4):
        ov_application(customer())
    console.get("/console/applications/")
    with django_assert_max_num_queries(4):
        body = console.get("/console/applications/").content.decode()
    assert len(numbers_on(body)) == 4


def test_the_application_page_shows_what_the_operator_checks(console):
    user = customer()
    application = ov_application(user, names=["shop-certdesk.jp"], validated=False)
    body = console.get(f"/console/applications/{application.pk}/").content.decode()
    subject = x509.load_pem_x509_csr(application.csr_pem.encode()).subject.rfc4514_string()
    assert subject == "CN=shop-certdesk.jp"
    assert f"<code>{subject}</code>" in body
    organization = application.organization
    assert organization.name_ja in body
    assert f"C=JP, ST=Tokyo, L=Chiyoda-ku, O={organization.name_en}" in body
    assert f"selHouzinNo={organization.corporate_number}" in body
    assert "<code>shop-certdesk.jp</code>" in body
    assert "まだ認証されていない名前があります" in body
    assert 'value="approve"' in body and 'value="reject"' in body


def test_approving_a_validated_application_issues_its_certificate(console, operator):
    user = customer()
    application = ov_application(user)
    response = console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.approval == Application.Approval.APPROVED
    assert application.status == Application.Status.ISSUED
    assert application.decided_by == operator
    certificate = Certificate.objects.get(application=application)
    leaf = x509.load_pem_x509_certificate(certificate.pem.encode())
    organization_names = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert [a.value for a in organization_names] == ["Shop Certdesk K.K."]
    assert AuditEvent.objects.filter(action="application.approved").exists()
    listing = console.get(response["Location"]).content.decode()
    assert f"申請 {application.number} を承認し、証明書を発行しました。" in listing
    assert numbers_on(listing) == []


def test_approving_before_validation_waits_for_the_names(console):
    application = ov_application(customer(), validated=False)
    console.post(f"/console/applications/{application.pk}/decide/", {"decision": "approve"})
    application.refresh_from_db()
    assert application.approval == Application.Approval.APPROVED
    assert application.status == Application.Status.PENDING
    assert not Certificate.objects.exists()


def test_an_application_for_an_unverified_organisation_cannot_be_approved(console):
    user = customer()
    application = ov_application(user)
    Organization.objects.filter(pk=application.organization_id).update(
        status=Organization.Status.REJECTED
    )
    response = console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "organization_not_verified" in response.content.decode()
    application.refresh_from_db()
    assert application.approval == Application.Approval.WAITING
    assert not Certificate.objects.exists()


def test_rejecting_needs_a_reason(console):
    application = ov_application(customer())
    response = console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "reject", "reason": ""}
    )
    assert response.status_code == 422
    error = re.search(r'id="id_reason_error".*?</ul>', response.content.decode(), re.S)
    assert error
    application.refresh_from_db()
    assert application.approval == Application.Approval.WAITING


def test_rejecting_emails_the_customer_in_their_language(
    console, django_capture_on_commit_callbacks
):
    user = customer(language=User.Language.EN)
    application = ov_application(user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"/console/applications/{application.pk}/decide/",
            {"decision": "reject", "reason": "The organisation's name does not match."},
        )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.REJECTED
    assert application.decision_reason == "The organisation's name does not match."
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"[certdesk] Application {application.number} was not approved"
    assert "The organisation's name does not match." in message.body
    assert not Certificate.objects.exists()


def test_a_decided_application_cannot_be_decided_again(console):
    application = ov_application(customer())
    console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "reject", "reason": "x"}
    )
    response = console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "application_not_waiting" in response.content.decode()
    assert not Certificate.objects.exists()


def test_an_unknown_application_or_decision_is_not_found(console):
    application = ov_application(customer())
    assert console.get(f"/console/applications/{application.pk + 99}/").status_code == 404
    response = console.post(
        f"/console/applications/{application.pk}/decide/", {"decision": "maybe"}
    )
    assert response.status_code == 404
