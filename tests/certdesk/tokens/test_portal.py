"""The API tokens page: create (secret shown once), list, revoke."""

from __future__ import annotations

import re

import pytest

from certdesk.accounts.models import User
from certdesk.tokens.models import ApiToken
from tests.certdesk.members.conftest import ApiClient
from tests.certdesk.members.factories import UserFactory, member_of, token_for

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_created_token_is_shown_once_then_only_its_prefix(owner, portal_as):
    client = portal_as(owner)
    response = client.post(
        "/tokens/create/",
        {"name": "web01", "scopes": ["certificates:read", "account:read"], "expires_in_days": "30"},
    )
    assert response.status_code == 200
    page = text(response)
    secret = re.search(r'value="(cdk_[A-Za-z0-9_-]+)"', page).group(1)
    assert "この一度だけです" in page
    assert response["Cache-Control"] == "private, no-store"
    token = ApiToken.objects.get()
    assert token.scopes == ["account:read", "certificates:read"]
    assert ApiClient(secret).get("/api/v1/account/tokens").status_code == 200

    listing = text(client.get("/tokens/"))
    assert secret not in listing
    assert token.prefix in listing
    assert "web01" in listing and "有効" in listing


def test_form_errors_are_shown_next_to_the_field(owner, portal_as):
    response = portal_as(owner).post("/tokens/create/", {"name": "x", "expires_in_days": "90"})
    assert response.status_code == 422
    assert "scopes" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_read_only_members_are_offered_read_scopes_only(owner, portal_as):
    reader = member_of(owner.account, "read_only")
    client = portal_as(reader)
    form = client.get("/tokens/").context["form"]
    assert [c[0] for c in form.fields["scopes"].choices] == [
        "account:read",
        "certificates:read",
        "billing:read",
    ]
    response = client.post(
        "/tokens/create/", {"name": "x", "scopes": ["certificates:write"], "expires_in_days": ""}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["scopes"]
    assert not ApiToken.objects.exists()


def test_revoke_from_the_portal(owner, portal_as):
    token = token_for(owner).token
    response = portal_as(owner).post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/tokens/", 302)]
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "失効させました" in text(response)


def test_members_list_only_their_own_tokens(owner, portal_as):
    member = member_of(owner.account, "member")
    token_for(owner, name="owner-token")
    token_for(member, name="member-token")
    page = text(portal_as(member).get("/tokens/"))
    assert "member-token" in page and "owner-token" not in page
    manager_page = text(portal_as(owner).get("/tokens/"))
    assert "member-token" in manager_page and "owner-token" in manager_page


def test_operators_have_no_tokens_page(db, portal_as):
    operator = UserFactory(account=None, is_staff=True, role=User.Role.OWNER)
    assert portal_as(operator).get("/tokens/").status_code == 403


def test_list_query_count_is_bounded(owner, portal_as, django_assert_max_num_queries):
    for i in range(10):
        token_for(member_of(owner.account, "member"), name=f"t{i}")
    client = portal_as(owner)
    client.get("/tokens/")
    with django_assert_max_num_queries(10):
        assert client.get("/tokens/").status_code == 200
