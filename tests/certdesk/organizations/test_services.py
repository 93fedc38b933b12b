"""Registering, editing, verifying and rejecting organisations through the services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent
from certdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certdesk.notifications.models import OutboundEmail
from certdesk.organizations.models import Organization
from certdesk.organizations.services import (
    OrganizationData,
    organization_create,
    organization_reject,
    organization_update,
    organization_verify,
)
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    make_csr,
    product,
    validate_names,
)
from tests.certdesk.members.factories import AccountFactory, UserFactory, member_of
from tests.certdesk.organizations.conftest import NTA_NUMBER, OTHER_NUMBER, organization_fields

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def create(user: User, **overrides: str) -> Organization:
    return organization_create(
        user=user, data=OrganizationData(**organization_fields(**overrides)), now=NOW
    )


def test_a_member_registers_an_organisation_awaiting_verification(member):
    organization = create(member, corporate_number="7-0000-1205-0002", postal_code="1008978")
    assert organization.account_id == member.account_id
    assert organization.status == Organization.Status.PENDING
    assert organization.corporate_number == NTA_NUMBER
    assert organization.postal_code == "100-8978"
    assert organization.created_by == member
    event = AuditEvent.objects.get(action="organization.created")
    assert event.account_id == member.account_id
    assert event.actor == member
    assert event.data == {"corporate_number": NTA_NUMBER, "name_en": "National Tax Agency"}


def test_read_only_members_cannot_register(reader):
    with pytest.raises(PermissionDenied) as caught:
        create(reader)
    assert caught.value.code == "read_only_member"
    assert not Organization.objects.exists()


def test_every_field_error_is_reported_at_once(owner):
    with pytest.raises(InvalidInput) as caught:
        create(
            owner,
            name_ja="",
            name_en="株式会社",
            corporate_number="7000012050003",
            prefecture="Atlantis",
            phone="12",
        )
    codes = {e["field"]: e["code"] for e in caught.value.errors}
    assert codes == {
        "name_ja": "field_required",
        "name_en": "not_ascii",
        "corporate_number": "corporate_number_check_digit",
        "prefecture": "invalid_prefecture",
        "phone": "invalid_phone",
    }
    assert not Organization.objects.exists()


def test_the_same_corporate_number_twice_in_one_account_is_a_clear_conflict(owner, member):
    create(owner)
    with pytest.raises(Conflict) as caught:
        create(member, corporate_number="7000-0120-50002")
    assert caught.value.code == "organization_duplicate"
    assert caught.value.field == "corporate_number"
    assert "既に登録されています" in str(caught.value.message)
    assert Organization.objects.count() == 1


def test_another_account_may_register_the_same_organisation(owner):
    create(owner)
    stranger = UserFactory(account=AccountFactory())
    assert create(stranger).account_id == stranger.account_id


def verified(owner: User, **fields: object) -> Organization:
    return OrganizationFactory(
        account=owner.account,
        created_by=owner,
        status=Organization.Status.VERIFIED,
        verified_at=NOW,
        **fields,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name_ja", "国税庁(新)"),
        ("name_en", "National Tax Agency Japan"),
        ("corporate_number", OTHER_NUMBER),
        ("prefecture", "Osaka"),
        ("locality", "Minato-ku"),
        ("address", "東京都港区芝公園1-1-1"),
        ("postal_code", "105-0011"),
    ],
)
def test_changing_identity_sends_a_verified_organisation_back_to_verification(owner, field, value):
    organization = verified(owner)
    result = organization_update(
        user=owner,
        organization_id=organization.pk,
        data=OrganizationData(**{field: value}),
        now=NOW,
    )
    organization.refresh_from_db()
    assert result.verification_reset is True
    assert result.changed == [field]
    assert organization.status == Organization.Status.PENDING
    assert organization.verified_at is None
    assert getattr(organization, field) == value
    event = AuditEvent.objects.get(action="organization.updated")
    assert event.data["changed"] == [field]
    assert event.data["previous_status"] == "verified"


def test_changing_only_the_phone_keeps_the_verification(owner):
    organization = verified(owner)
    result = organization_update(
        user=owner,
        organization_id=organization.pk,
        data=OrganizationData(phone="03-9999-0000"),
        now=NOW,
    )
    organization.refresh_from_db()
    assert result.verification_reset is False
    assert organization.status == Organization.Status.VERIFIED
    assert organization.phone == "03-9999-0000"


def test_saving_the_same_values_changes_nothing(owner):
    organization = verified(owner)
    same = {f: getattr(organization, f) for f in ("name_ja", "name_en", "corporate_number")}
    result = organization_update(
        user=owner, organization_id=organization.pk, data=OrganizationData(**same), now=NOW
    )
    assert result.changed == []
    assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_correcting_a_rejected_organisation_puts_it_back_in_the_queue(owner, operator):
    organization = create(owner, name_en="Nationl Tax Agency")
    organization_reject(
        operator=operator, organization_id=organization.pk, reason="英語名の綴り", now=NOW
    )
    organization_update(
        user=owner,
        organization_id=organization.pk,
        data=OrganizationData(name_en="National Tax Agency"),
        now=NOW,
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
    assert organization.status_reason == ""


def test_changing_the_number_to_one_already_registered_is_a_conflict(owner):
    create(owner)
    other = create(owner, corporate_number=OTHER_NUMBER, name_ja="別法人")
    with pytest.raises(Conflict) as caught:
        organization_update(
            user=owner,
            organization_id=other.pk,
            data=OrganizationData(corporate_number=NTA_NUMBER),
            now=NOW,
        )
    assert caught.value.code == "organization_duplicate"


def test_another_accounts_organisation_is_not_found(owner):
    foreign = OrganizationFactory()
    with pytest.raises(NotFound):
        organization_update(
            user=owner,
            organization_id=foreign.pk,
            data=OrganizationData(phone="03-1111-2222"),
            now=NOW,
        )
    foreign.refresh_from_db()
    assert foreign.phone != "03-1111-2222"


def test_identity_cannot_change_while_an_ov_application_naming_it_is_in_progress(owner):
    from certdesk.certificates.services import application_create

    organization = verified(owner)
    validate_names(owner.account, ["shop-certdesk.jp"], at=NOW)
    application = application_create(
        user=owner,
        product_id=product("ov-single").pk,
        csr=make_csr(["shop-certdesk.jp"]),
        now=NOW,
        organization_id=organization.pk,
    )
    with pytest.raises(Conflict) as caught:
        organization_update(
            user=owner,
            organization_id=organization.pk,
            data=OrganizationData(name_en="Renamed K.K."),
            now=NOW,
        )
    assert caught.value.code == "organization_in_review"
    assert application.number in str(caught.value.message)
    # The phone number is not in the certificate: it may still change.
    organization_update(
        user=owner,
        organization_id=organization.pk,
        data=OrganizationData(phone="03-2222-3333"),
        now=NOW,
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.VERIFIED


def test_the_operator_verifies_and_the_customer_is_emailed_in_their_language(
    owner, operator, django_capture_on_commit_callbacks
):
    registrar = member_of(owner.account, User.Role.MEMBER, language=User.Language.EN)
    organization = create(registrar)
    with django_capture_on_commit_callbacks(execute=True):
        organization_verify(
            operator=operator, organization_id=organization.pk, now=NOW, note="確認しました"
        )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.VERIFIED
    assert (organization.verified_at, organization.verified_by) == (NOW, operator)
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {registrar.email, owner.email}
    assert "has been verified" in sent[registrar.email].subject
    assert "の確認が完了しました" in sent[owner.email].subject
    assert "確認しました" in sent[owner.email].body
    event = AuditEvent.objects.get(action="organization.verified")
    assert event.actor == operator and event.account_id == owner.account_id


def test_the_operator_rejects_with_a_reason_the_customer_reads(owner, operator):
    organization = create(owner)
    organization_reject(
        operator=operator,
        organization_id=organization.pk,
        reason="登記上の本店所在地と住所が一致しません。",
        now=NOW,
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED
    assert organization.status_reason == "登記上の本店所在地と住所が一致しません。"
    email = OutboundEmail.objects.get(template="organizations/email/rejected")
    assert email.language == "ja"
    assert "確認できませんでした" in email.subject
    assert "登記上の本店所在地と住所が一致しません。" in email.body
    assert AuditEvent.objects.get(action="organization.rejected").data["reason"] == (
        "登記上の本店所在地と住所が一致しません。"
    )


def test_rejecting_needs_a_reason(owner, operator):
    organization = create(owner)
    with pytest.raises(InvalidInput) as caught:
        organization_reject(operator=operator, organization_id=organization.pk, reason=" ", now=NOW)
    assert caught.value.code == "reason_required"
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING


def test_the_operator_can_withdraw_a_verification(owner, operator):
    organization = verified(owner)
    organization_reject(
        operator=operator, organization_id=organization.pk, reason="法人が解散しました", now=NOW
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED
    assert organization.verified_at is None


def test_a_decided_organisation_cannot_be_decided_again(owner, operator):
    organization = create(owner)
    organization_reject(operator=operator, organization_id=organization.pk, reason="x", now=NOW)
    with pytest.raises(Conflict) as caught:
        organization_verify(operator=operator, organization_id=organization.pk, now=NOW)
    assert caught.value.code == "organization_already_decided"
    with pytest.raises(Conflict):
        organization_reject(operator=operator, organization_id=organization.pk, reason="y", now=NOW)


def test_customers_cannot_verify(owner):
    organization = create(owner)
    with pytest.raises(PermissionDenied):
        organization_verify(operator=owner, organization_id=organization.pk, now=NOW)
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
