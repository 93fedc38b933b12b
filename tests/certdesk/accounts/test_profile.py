"""Account data (articles 2.3, 2.5): own details, organisation data by role, email change
through verification, yearly confirmation, language, and tenant isolation."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import Account, User
from certdesk.accounts.services import AccountChanges, profile_update
from certdesk.audit.models import AuditEvent
from certdesk.core.errors import PermissionDenied
from tests.certdesk.accounts.conftest import Client, actions
from tests.certdesk.accounts.factories import AccountFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"


def my_details(user: User, **overrides: str) -> dict[str, str]:
    data = {
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
    }
    data.update(overrides)
    return data


def account_data(account: Account, **overrides: str) -> dict[str, str]:
    data = {
        "account-organization_name": account.organization_name,
        "account-postal_code": account.postal_code,
        "account-address": account.address,
        "account-phone": account.phone,
        "account-email": account.email,
    }
    data.update({f"account-{k}": v for k, v in overrides.items()})
    return data


def test_profile_shows_own_and_account_data_and_the_last_confirmation(owner, signed_in, clock):
    body = signed_in(owner).get(PROFILE).content.decode()
    assert owner.account.organization_name in body
    assert owner.username in body
    assert "最終確認日時" in body
    assert 'action="/accounts/profile/confirm/"' in body


def test_profile_never_shows_another_accounts_data(owner, signed_in, clock):
    stranger = UserFactory(account=AccountFactory(organization_name="他社株式会社"))
    body = signed_in(owner).get(PROFILE).content.decode()
    assert "他社株式会社" not in body and stranger.email not in body


def test_anonymous_visitors_are_sent_to_sign_in(db, clock):
    response = Client().get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_saving_own_details_records_what_changed(owner, signed_in, clock):
    client = signed_in(owner)
    response = client.post(
        PROFILE, my_details(owner, full_name="山田 花子", phone="+81 90 1111 2222")
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.full_name, owner.phone) == ("山田 花子", "+81 90 1111 2222")
    event = AuditEvent.objects.get(action="profile.updated")
    assert event.data["changed"] == ["full_name", "phone"]


def test_switching_language_in_the_profile_switches_pages_and_mail(owner, signed_in, clock):
    client = signed_in(owner)
    client.post(PROFILE, my_details(owner, language="en"))
    owner.refresh_from_db()
    assert owner.language == "en"
    assert "Account data" in client.get(PROFILE).content.decode()


def test_the_header_language_switch_saves_the_users_language(owner, signed_in, clock):
    client = signed_in(owner)
    client.post("/language/", {"language": "en", "next": "/accounts/profile/"})
    owner.refresh_from_db()
    assert owner.language == "en"
    assert actions(action="user.language_changed") == ["user.language_changed"]


def test_a_ten_thousand_character_name_is_a_field_error(owner, signed_in, clock):
    response = signed_in(owner).post(PROFILE, my_details(owner, full_name="x" * 10_000))
    assert response.status_code == 422
    assert "お名前が長すぎます" in response.content.decode()
    owner.refresh_from_db()
    assert len(owner.full_name) < 100


def test_a_malformed_phone_is_refused_and_nothing_saved(owner, signed_in, clock):
    response = signed_in(owner).post(
        PROFILE, my_details(owner, full_name="新しい名前", phone="abc")
    )
    assert response.status_code == 422
    owner.refresh_from_db()
    assert owner.full_name != "新しい名前"


def test_a_new_email_waits_for_its_link_and_the_old_address_is_told(owner, signed_in, clock):
    old = owner.email
    client = signed_in(owner)
    client.post(PROFILE, my_details(owner, email="New.Address@Example.JP"))
    owner.refresh_from_db()
    assert owner.email == old
    assert owner.pending_email == "New.Address@example.jp"
    to_new, to_old = mail.outbox
    assert to_new.to == ["New.Address@example.jp"]
    assert to_new.subject == "[certdesk] 新しいメールアドレスの確認をお願いします"
    assert to_old.to == [old]
    assert "New.Address@example.jp" in to_old.body
    assert "email.change_requested" in actions(account=owner.account)
    link = re.search(r"http://testserver(/accounts/verify/[\w-]+/)", to_new.body).group(1)
    assert client.get(link).status_code == 200
    owner.refresh_from_db()
    assert (owner.email, owner.pending_email) == ("New.Address@example.jp", "")
    assert owner.email_verified_at == clock()
    assert "email.changed" in actions(account=owner.account)


def test_changing_the_email_again_supersedes_the_first_link(owner, signed_in, clock):
    client = signed_in(owner)
    client.post(PROFILE, my_details(owner, email="first@example.jp"))
    first = re.search(r"(/accounts/verify/[\w-]+/)", mail.outbox[0].body).group(1)
    client.post(PROFILE, my_details(owner, email="second@example.jp"))
    response = client.get(first)
    assert response.status_code == 410
    owner.refresh_from_db()
    assert owner.pending_email == "second@example.jp"


def test_an_email_used_by_someone_else_is_refused(owner, signed_in, clock):
    other = UserFactory()
    response = signed_in(owner).post(PROFILE, my_details(owner, email=other.email.upper()))
    assert response.status_code == 422
    assert "既に登録されています" in response.content.decode()
    owner.refresh_from_db()
    assert owner.pending_email == ""
    assert mail.outbox == []


def test_an_email_taken_while_waiting_cannot_be_confirmed(owner, signed_in, clock):
    client = signed_in(owner)
    client.post(PROFILE, my_details(owner, email="wanted@example.jp"))
    link = re.search(r"(/accounts/verify/[\w-]+/)", mail.outbox[0].body).group(1)
    UserFactory(email="wanted@example.jp")
    response = client.get(link)
    assert response.status_code == 409
    owner.refresh_from_db()
    assert owner.email != "wanted@example.jp"


def test_owner_edits_the_account_data(owner, signed_in, clock):
    response = signed_in(owner).post(
        "/accounts/profile/account/",
        account_data(owner.account, organization_name="株式会社新社名", address="京都府京都市1-1"),
    )
    assert response.status_code == 302
    account = Account.objects.get(pk=owner.account_id)
    assert (account.organization_name, account.address) == ("株式会社新社名", "京都府京都市1-1")
    assert AuditEvent.objects.get(action="account.updated").data["changed"] == [
        "organization_name",
        "address",
    ]


def test_an_oversized_organisation_name_is_a_field_error(owner, signed_in, clock):
    response = signed_in(owner).post(
        "/accounts/profile/account/", account_data(owner.account, organization_name="社" * 10_000)
    )
    assert response.status_code == 422
    assert "組織名が長すぎます" in response.content.decode()


@pytest.mark.parametrize("role", [User.Role.MEMBER, User.Role.READ_ONLY])
def test_members_see_but_cannot_change_the_account_data(owner, signed_in, clock, role):
    member = member_of(owner.account, role)
    client = signed_in(member)
    page = client.get(PROFILE).content.decode()
    assert 'action="/accounts/profile/account/"' not in page
    assert "アカウント情報を変更できるのは" in page
    response = client.post(
        "/accounts/profile/account/", account_data(owner.account, organization_name="乗っ取り")
    )
    assert response.status_code == 403
    assert Account.objects.get(pk=owner.account_id).organization_name != "乗っ取り"
    assert client.post("/accounts/profile/confirm/").status_code == 403


def test_members_still_edit_their_own_details(owner, signed_in, clock):
    member = member_of(owner.account, User.Role.READ_ONLY)
    signed_in(member).post(PROFILE, my_details(member, full_name="閲覧 太郎"))
    member.refresh_from_db()
    assert member.full_name == "閲覧 太郎"


def test_confirming_the_data_is_current_records_the_time(owner, signed_in, clock):
    clock.tick(days=400)
    client = signed_in(owner)
    assert "確認が必要です" in client.get(PROFILE).content.decode()
    response = client.post("/accounts/profile/confirm/")
    assert response.status_code == 302
    assert Account.objects.get(pk=owner.account_id).data_confirmed_at == clock()
    assert "account.data_confirmed" in actions(account=owner.account)
    assert "確認が必要です" not in client.get(PROFILE).content.decode()


def test_the_service_refuses_account_changes_from_a_member_before_saving_anything(owner, clock):
    member = member_of(owner.account, User.Role.MEMBER)
    with pytest.raises(PermissionDenied):
        profile_update(
            user=member,
            account_changes=AccountChanges(organization_name="x"),
            now=clock(),
        )
    assert not AuditEvent.objects.filter(action="account.updated").exists()


def test_csrf_less_profile_post_is_refused(owner, clock):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(PROFILE, my_details(owner, full_name="CSRF"))
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.full_name != "CSRF"
