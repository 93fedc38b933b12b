"""Tenant isolation: another account's member, invitation and token ids are 404, never 403."""

from __future__ import annotations

import pytest
from django.utils import timezone

from certdesk.accounts.models import User
from certdesk.members.models import Invitation
from certdesk.members.services import member_invite
from certdesk.tokens.models import ApiToken
from tests.certdesk.members.factories import AccountFactory, member_of, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_account():
    """Account A with a member, an open invitation and a token, seen from account B."""
    account = AccountFactory()
    owner = member_of(account, "owner")
    member = member_of(account, "member")
    invitation = member_invite(
        actor=owner, email="guest@example.co.jp", role="member", now=timezone.now()
    )
    token = token_for(member).token
    return {"member": member, "invitation": invitation, "token": token}


@pytest.fixture
def intruder(db) -> User:
    return member_of(AccountFactory(), "owner")


API_CASES = [
    ("get", "/api/v1/account/members/{member}", None),
    ("patch", "/api/v1/account/members/{member}", {"role": "read_only"}),
    ("delete", "/api/v1/account/members/{member}", None),
    ("get", "/api/v1/account/members/invitations/{invitation}", None),
    ("delete", "/api/v1/account/members/invitations/{invitation}", None),
    ("get", "/api/v1/account/tokens/{token}", None),
    ("delete", "/api/v1/account/tokens/{token}", None),
]

PORTAL_CASES = [
    ("post", "/members/{member}/role/", {"role": "read_only"}),
    ("get", "/members/{member}/remove/", None),
    ("post", "/members/{member}/remove/", {}),
    ("post", "/members/invitations/{invitation}/revoke/", {}),
    ("post", "/tokens/{token}/revoke/", {}),
]


def ids(other) -> dict[str, int]:
    return {name: obj.pk for name, obj in other.items()}


def assert_untouched(other) -> None:
    other["member"].refresh_from_db()
    assert other["member"].is_active and other["member"].role == User.Role.MEMBER
    assert Invitation.objects.get(pk=other["invitation"].pk).is_open
    assert ApiToken.objects.get(pk=other["token"].pk).revoked_at is None


@pytest.mark.parametrize(("method", "path", "body"), API_CASES)
def test_api_answers_404_for_another_accounts_ids(
    other_account, intruder, api_as, method, path, body
):
    api = api_as(intruder)
    url = path.format(**ids(other_account))
    response = getattr(api, method)(url, body) if body is not None else getattr(api, method)(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"].endswith("not_found")
    assert_untouched(other_account)


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_CASES)
def test_portal_answers_404_for_another_accounts_ids(
    other_account, intruder, portal_as, method, path, body
):
    client = portal_as(intruder)
    url = path.format(**ids(other_account))
    response = client.post(url, body) if method == "post" else client.get(url)
    assert response.status_code == 404
    assert_untouched(other_account)


def test_lists_show_only_the_own_account(other_account, intruder, api_as):
    api = api_as(intruder)
    members = api.get("/api/v1/account/members").json()["items"]
    assert [m["username"] for m in members] == [intruder.username]
    assert api.get("/api/v1/account/members/invitations").json()["items"] == []
    tokens = api.get("/api/v1/account/tokens").json()["items"]
    assert {t["user"] for t in tokens} == {intruder.username}
