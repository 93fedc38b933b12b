"""The portal pages under /organizations/: list, add, show and edit."""

from __future__ import annotations

import re

import pytest

from certdesk.accounts.models import User
from certdesk.organizations.models import Organization
from tests.certdesk.certificates.factories import OrganizationFactory
from tests.certdesk.organizations.conftest import NTA_NUMBER, organization_fields
from tests.certdesk.terms.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def test_a_member_adds_an_organisation_and_sees_it_awaiting_verification(portal_as, member):
    client = portal_as(member)
    form = client.get("/organizations/new/")
    assert form.status_code == 200
    body = form.content.decode()
    assert 'name="corporate_number"' in body
    assert '<option value="Tokyo">東京都</option>' in body
    response = client.post("/organizations/new/", organization_fields(postal_code="1008978"))
    organization = Organization.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/organizations/{organization.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "組織を登録しました" in page
    assert 'class="badge warn">確認待ち<' in page
    assert "〒100-8978" in page
    assert "C=JP, ST=Tokyo, L=Chiyoda-ku, O=National Tax Agency" in page


def test_errors_appear_next_to_the_fields_they_concern(portal_as, owner):
    client = portal_as(owner)
    response = client.post(
        "/organizations/new/",
        organization_fields(corporate_number="7000012050003", name_en="国税庁"),
    )
    assert response.status_code == 422
    body = response.content.decode()
    corporate = re.search(r'id="id_corporate_number_error".*?</ul>', body, re.S)
    assert corporate and "チェックデジット" in corporate.group(0)
    name = re.search(r'id="id_name_en_error".*?</ul>', body, re.S)
    assert name and "ASCII" in name.group(0)
    # What was typed stays in the form.
    assert 'value="7000012050003"' in body
    assert not Organization.objects.exists()


def test_a_duplicate_corporate_number_is_reported_on_its_field(portal_as, owner):
    client = portal_as(owner)
    client.post("/organizations/new/", organization_fields())
    response = client.post("/organizations/new/", organization_fields(name_ja="国税庁（重複）"))
    assert response.status_code == 409
    error = re.search(r'id="id_corporate_number_error".*?</ul>', response.content.decode(), re.S)
    assert error and "既に登録されています" in error.group(0)
    assert Organization.objects.count() == 1


def test_the_list_shows_only_the_accounts_organisations_with_status_and_reason(portal_as, owner):
    mine = OrganizationFactory(
        account=owner.account,
        name_ja="株式会社ショップ",
        status=Organization.Status.REJECTED,
        status_reason="英語名が登記と異なります",
    )
    OrganizationFactory(name_ja="他社株式会社")
    body = portal_as(owner).get("/organizations/").content.decode()
    assert f'href="/organizations/{mine.pk}/"' in body
    assert "株式会社ショップ" in body and "他社株式会社" not in body
    assert 'class="badge bad">却下<' in body
    assert "英語名が登記と異なります" in body


def test_a_rejected_organisation_shows_the_operators_reason(portal_as, owner):
    organization = OrganizationFactory(
        account=owner.account, status=Organization.Status.REJECTED, status_reason="住所不一致"
    )
    body = portal_as(owner).get(f"/organizations/{organization.pk}/").content.decode()
    assert "当社はこの組織を確認できませんでした。" in body
    assert "理由: 住所不一致" in body


def test_another_accounts_organisation_is_not_found(portal_as, owner):
    foreign = OrganizationFactory()
    client = portal_as(owner)
    assert client.get(f"/organizations/{foreign.pk}/").status_code == 404
    assert client.get(f"/organizations/{foreign.pk}/edit/").status_code == 404
    response = client.post(f"/organizations/{foreign.pk}/edit/", organization_fields())
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.corporate_number != NTA_NUMBER


def test_read_only_members_can_look_but_not_change(portal_as, reader):
    organization = OrganizationFactory(account=reader.account)
    client = portal_as(reader)
    listing = client.get("/organizations/").content.decode()
    assert "/organizations/new/" not in listing
    detail = client.get(f"/organizations/{organization.pk}/").content.decode()
    assert f"/organizations/{organization.pk}/edit/" not in detail
    assert client.get("/organizations/new/").status_code == 403
    assert client.post("/organizations/new/", organization_fields()).status_code == 403
    assert client.get(f"/organizations/{organization.pk}/edit/").status_code == 403
    assert Organization.objects.count() == 1


def test_the_edit_page_warns_before_saving_that_verification_will_be_redone(portal_as, owner):
    organization = OrganizationFactory(account=owner.account)
    body = portal_as(owner).get(f"/organizations/{organization.pk}/edit/").content.decode()
    assert "この組織は確認済みです。" in body
    assert "「確認待ち」に戻り" in body
    assert "商号・名称（英語）" in body


def test_editing_a_verified_name_sends_it_back_and_says_so(portal_as, owner):
    organization = OrganizationFactory(account=owner.account)
    fields = {
        name: getattr(organization, name)
        for name in (
            "name_ja",
            "name_en",
            "corporate_number",
            "prefecture",
            "locality",
            "postal_code",
            "address",
            "phone",
        )
    }
    client = portal_as(owner)
    response = client.post(
        f"/organizations/{organization.pk}/edit/", {**fields, "name_en": "Shop Renamed K.K."}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "組織は再び確認待ちになりました" in page
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
    assert organization.name_en == "Shop Renamed K.K."


def test_operators_have_no_organisations_page(portal_as):
    response = portal_as(OperatorFactory()).get("/organizations/")
    assert response.status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/organizations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_list_pages_with_a_cursor_in_a_bounded_number_of_queries(
    portal_as, owner, django_assert_max_num_queries
):
    OrganizationFactory.create_batch(55, account=owner.account)
    client = portal_as(owner)
    client.get("/organizations/")  # warm the session
    with django_assert_max_num_queries(6):
        first = client.get("/organizations/").content.decode()
    assert first.count('<tr id="organization-') == 50
    cursor = re.search(r'href="\?cursor=(\d+)"', first)
    assert cursor
    second = client.get(f"/organizations/?cursor={cursor.group(1)}").content.decode()
    assert second.count('<tr id="organization-') == 5


def test_the_english_page_uses_english_prefecture_names(portal_as, owner):
    owner.language = User.Language.EN
    owner.save()
    client = portal_as(owner)
    client.cookies["django_language"] = "en"
    body = client.get("/organizations/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="Tokyo">Tokyo</option>' in body
    assert "Legal name (English)" in body
