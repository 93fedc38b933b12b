"""GET/PATCH /api/v1/account: the caller's own user and account, with role and scope checks."""

from __future__ import annotations

import pytest
from django.core import mail

from certdesk.accounts.models import Account, User
from tests.certdesk.accounts.conftest import ApiClient
from tests.certdesk.accounts.factories import AccountFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/account"


def test_get_returns_the_callers_user_and_account(owner, api_as, clock):
    stranger = UserFactory(account=AccountFactory(organization_name="他社株式会社"))
    response = api_as(owner, ["account:read"]).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == owner.username
    assert body["user"]["role"] == "owner"
    assert body["account"]["organization_name"] == owner.account.organization_name
    assert body["account"]["number"] == owner.account.number
    assert "他社株式会社" not in response.content.decode()
    assert stranger.email not in response.content.decode()


def test_no_token_is_401_problem(db):
    response = ApiClient(None).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"


def test_a_token_without_the_scope_is_403(owner, api_as, clock):
    response = api_as(owner, ["certificates:read"]).get(URL)
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    patch = api_as(owner, ["account:read"]).patch(URL, {"user": {"full_name": "x"}})
    assert (patch.status_code, patch.json()["code"]) == (403, "insufficient_scope")


def test_patch_changes_own_details(owner, api_as, clock):
    response = api_as(owner).patch(URL, {"user": {"full_name": "API 太郎", "language": "en"}})
    assert response.status_code == 200
    assert response.json()["user"]["full_name"] == "API 太郎"
    owner.refresh_from_db()
    assert (owner.full_name, owner.language) == ("API 太郎", "en")


def test_patch_email_waits_for_verification(owner, api_as, clock):
    response = api_as(owner).patch(URL, {"user": {"email": "moved@example.jp"}})
    body = response.json()
    assert body["user"]["email"] == owner.email
    assert body["user"]["pending_email"] == "moved@example.jp"
    assert [m.to for m in mail.outbox] == [["moved@example.jp"], [owner.email]]


def test_owner_patches_the_account_data(owner, api_as, clock):
    response = api_as(owner).patch(
        URL, {"account": {"postal_code": "060-0001", "phone": "011-222-3333"}}
    )
    assert response.status_code == 200
    account = Account.objects.get(pk=owner.account_id)
    assert (account.postal_code, account.phone) == ("060-0001", "011-222-3333")


def test_a_member_may_not_patch_account_data_and_nothing_is_saved(owner, api_as, clock):
    member = member_of(owner.account, User.Role.MEMBER)
    response = api_as(member).patch(
        URL, {"user": {"full_name": "変更されない"}, "account": {"organization_name": "乗っ取り"}}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    member.refresh_from_db()
    assert member.full_name != "変更されない"
    assert Account.objects.get(pk=owner.account_id).organization_name != "乗っ取り"


def test_bad_fields_are_422_named_and_all_or_nothing(owner, api_as, clock):
    response = api_as(owner).patch(
        URL,
        {"user": {"full_name": "保存されない"}, "account": {"phone": "abc", "email": "x"}},
    )
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("invalid_phone", "account.phone")
    assert {e["field"] for e in problem["errors"]} == {"account.phone", "account.email"}
    owner.refresh_from_db()
    assert owner.full_name != "保存されない"


def test_oversized_values_are_field_too_long(owner, api_as, clock):
    response = api_as(owner).patch(URL, {"account": {"address": "住" * 10_000}})
    assert (response.status_code, response.json()["code"]) == (422, "field_too_long")


def test_the_api_is_documented_in_openapi(db):
    schema = ApiClient(None).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"post"} <= set(paths["/api/v1/accounts"])
    assert {"post"} <= set(paths["/api/v1/accounts/verify-email"])
    assert {"get", "patch"} <= set(paths["/api/v1/account"])
