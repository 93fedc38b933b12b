"""Creating, listing and revoking personal tokens over the API and with the services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from certdesk.audit.models import AuditEvent
from certdesk.core.errors import Conflict, InvalidInput
from certdesk.tokens.models import ApiToken
from certdesk.tokens.services import MAX_ACTIVE_TOKENS_PER_USER, token_create
from tests.certdesk.members.conftest import ApiClient
from tests.certdesk.members.factories import member_of, token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/account/tokens"


def test_create_returns_the_secret_once_and_it_works(owner, api_as, clock):
    api = api_as(owner, scopes=["account:write", "certificates:write"])
    response = api.post(
        URL, {"name": "deploy", "scopes": ["certificates:read"], "expires_in_days": 30}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("cdk_")
    assert body["prefix"] == body["secret"][:12]
    assert body["scopes"] == ["certificates:read"]
    assert body["status"] == "active"
    assert body["expires_at"].startswith((clock() + timezone.timedelta(days=30)).date().isoformat())
    event = AuditEvent.objects.get(action="token.created", target_id=str(body["id"]))
    assert event.data["scopes"] == ["certificates:read"]
    assert body["secret"] not in str(event.data)

    # Never shown again: neither in the list nor in the token's own page.
    listed = api.get(URL).json()["items"]
    assert all("secret" not in item for item in listed)
    shown = api.get(f"{URL}/{body['id']}").json()
    assert "secret" not in shown and shown["name"] == "deploy"
    # The new token authenticates, with its own scopes only.
    new = ApiClient(body["secret"])
    assert new.get(URL).json()["code"] == "insufficient_scope"


def test_default_expiry_is_90_days_and_null_means_none(owner, api_as, clock):
    api = api_as(owner)
    default = api.post(URL, {"name": "a", "scopes": ["account:read"]}).json()
    assert default["expires_at"].startswith(
        (clock() + timezone.timedelta(days=90)).date().isoformat()
    )
    never = api.post(URL, {"name": "b", "scopes": ["account:read"], "expires_in_days": None}).json()
    assert never["expires_at"] is None


def test_a_token_cannot_mint_broader_tokens(owner, api_as):
    api = api_as(owner, scopes=["account:write"])
    response = api.post(URL, {"name": "wider", "scopes": ["certificates:write"]})
    assert response.status_code == 422
    assert response.json()["code"] == "scope_not_allowed"
    assert ApiToken.objects.count() == 1


def test_creating_needs_account_write(owner, api_as):
    api = api_as(owner, scopes=["account:read"])
    response = api.post(URL, {"name": "x", "scopes": ["account:read"]})
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(
    ("scopes", "code"),
    [
        (["account:write"], "scope_not_allowed"),
        (["certificates:write"], "scope_not_allowed"),
        (["account:read", "admin:all"], "scope_unknown"),
        ([], "scopes_required"),
    ],
)
def test_read_only_member_gets_read_scopes_only(owner, scopes, code):
    reader = member_of(owner.account, "read_only")
    with pytest.raises(InvalidInput) as refused:
        token_create(user=reader, name="x", scopes=scopes, expires_in_days=None, now=timezone.now())
    assert refused.value.code == code
    assert refused.value.field == "scopes"
    assert not ApiToken.objects.exists()
    created = token_create(
        user=reader,
        name="reader",
        scopes=["account:read", "certificates:read", "billing:read"],
        expires_in_days=None,
        now=timezone.now(),
    )
    assert created.token.scopes == ["account:read", "certificates:read", "billing:read"]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "", "scopes": ["account:read"]}, 422, "name"),
        ({"name": "x", "scopes": ["account:read"], "expires_in_days": 0}, 422, "expires_in_days"),
        (
            {"name": "x", "scopes": ["account:read"], "expires_in_days": 3651},
            422,
            "expires_in_days",
        ),
        ({"name": "x" * 101, "scopes": ["account:read"]}, 422, "name"),
        ({"name": "x"}, 422, "scopes"),
    ],
)
def test_bad_input_names_the_field(owner, api_as, payload, status, field):
    api = api_as(owner)
    response = api.post(URL, payload)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert ApiToken.objects.count() == 1


def test_active_tokens_per_user_are_capped(owner):
    now = timezone.now()
    for i in range(MAX_ACTIVE_TOKENS_PER_USER):
        token_for(owner, name=f"t{i}", now=now)
    with pytest.raises(Conflict) as refused:
        token_for(owner, name="one too many", now=now)
    assert refused.value.code == "too_many_tokens"


def test_members_see_their_own_tokens_managers_see_all(
    owner, api_as, django_assert_max_num_queries
):
    member = member_of(owner.account, "member")
    for i in range(3):
        token_for(member, name=f"member-{i}")
        token_for(owner, name=f"owner-{i}")
    member_api = api_as(member)
    owner_api = api_as(owner)
    member_api.get(URL)
    owner_api.get(URL)
    with django_assert_max_num_queries(5):
        mine = member_api.get(URL).json()["items"]
    assert {t["user"] for t in mine} == {member.username}
    assert len(mine) == 4
    with django_assert_max_num_queries(5):
        everyone = owner_api.get(URL).json()["items"]
    assert len(everyone) == 8


def test_list_is_paginated_by_cursor(owner, api_as):
    for i in range(5):
        token_for(owner, name=f"t{i}")
    api = api_as(owner)
    first = api.get(URL, data={"limit": 4}).json()
    assert [t["name"] for t in first["items"]] == ["script", "t4", "t3", "t2"]
    second = api.get(URL, data={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [t["name"] for t in second["items"]] == ["t1", "t0"]
    assert second["next_cursor"] is None


def test_member_cannot_revoke_a_colleagues_token_but_an_admin_can(owner, api_as):
    member = member_of(owner.account, "member")
    admin = member_of(owner.account, "admin")
    victim = token_for(owner, name="owner's").token
    response = api_as(member).delete(f"{URL}/{victim.pk}")
    assert response.status_code == 404
    victim.refresh_from_db()
    assert victim.revoked_at is None
    assert api_as(admin).delete(f"{URL}/{victim.pk}").status_code == 204
    victim.refresh_from_db()
    assert victim.revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoked")
    assert event.actor == admin and event.data["owner"] == owner.pk


def test_revoking_twice_is_harmless(owner, api_as):
    api = api_as(owner)
    token = token_for(owner, name="x").token
    assert api.delete(f"{URL}/{token.pk}").status_code == 204
    assert api.delete(f"{URL}/{token.pk}").status_code == 204
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1
