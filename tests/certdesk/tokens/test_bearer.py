"""Bearer authentication: what a token opens, and everything that shuts it."""

from __future__ import annotations

import pytest
from django.db import connection

from certdesk.accounts.models import Account, User
from certdesk.tokens.models import ApiToken
from tests.certdesk.members.conftest import ApiClient
from tests.certdesk.members.factories import UserFactory, member_of, token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/account/tokens"


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "authentication_required"
    assert response["WWW-Authenticate"] == 'Bearer realm="certdesk"'


def test_token_lifecycle_created_works_revoked_refused(owner, clock):
    created = token_for(owner, scopes=["account:write"], now=clock())
    api = ApiClient(created.secret)
    listed = api.get(URL)
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["items"]] == ["script"]

    revoked = api.delete(f"{URL}/{created.token.pk}")
    assert revoked.status_code == 204
    assert_unauthenticated(api.get(URL))
    assert ApiToken.objects.get().status_at(clock()) == "revoked"


def test_expired_token_is_refused(owner, clock):
    created = token_for(owner, expires_in_days=1, now=clock())
    api = ApiClient(created.secret)
    clock.tick(days=1, seconds=-1)
    assert api.get(URL).status_code == 200
    clock.tick(seconds=1)
    assert_unauthenticated(api.get(URL))


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer cdk_not-a-real-token",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "cdk_" + "x" * 500,
    ],
)
def test_missing_or_unknown_token_is_refused(owner, header):
    token_for(owner)
    response = ApiClient(None).client.get(URL, headers={"Authorization": header} if header else {})
    assert_unauthenticated(response)


def test_missing_scope_is_forbidden(owner):
    api = ApiClient(token_for(owner, scopes=["certificates:read"]).secret)
    response = api.get(URL)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert body["required_scope"] == "account:read"
    assert (
        body["messages"]["ja"]
        == "このAPI トークンには、この操作に必要なスコープ「account:read」がありません。"
    )
    assert body["messages"]["en"] == "This API token lacks the scope “account:read” needed here."


def test_write_scope_implies_read(owner):
    api = ApiClient(token_for(owner, scopes=["account:write"]).secret)
    assert api.get(URL).status_code == 200


def test_removed_member_token_stops_working(owner):
    member = member_of(owner.account, "member")
    api = ApiClient(token_for(member).secret)
    assert api.get(URL).status_code == 200
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert_unauthenticated(api.get(URL))


def test_disabled_account_is_told_so(owner):
    api = ApiClient(token_for(owner).secret)
    Account.objects.filter(pk=owner.account_id).update(status=Account.Status.DISABLED)
    response = api.get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_pending_terms_block_the_api_until_accepted_in_the_portal(db):
    user = UserFactory(accepted_terms=False)
    response = ApiClient(token_for(user).secret).get(URL)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "terms_acceptance_required"
    assert "ポータル" in body["messages"]["ja"]


def test_token_secret_is_stored_only_as_a_hash(owner):
    created = token_for(owner)
    assert created.secret.startswith("cdk_") and len(created.secret) >= 4 + 43
    token = ApiToken.objects.get()
    assert token.prefix == created.secret[:12]
    import hashlib

    assert token.token_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    # The plaintext secret appears in no column of any table (audit log included).
    secret_body = created.secret[4:]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                assert secret_body not in repr(row), table


def test_last_used_is_recorded_at_most_once_a_minute(owner, clock):
    created = token_for(owner, now=clock())
    api = ApiClient(created.secret)
    first = clock.tick(seconds=5)
    api.get(URL)
    token = ApiToken.objects.get()
    assert token.last_used_at == first
    assert token.last_used_ip == "127.0.0.1"

    clock.tick(seconds=30)
    api.get(URL)
    assert ApiToken.objects.get().last_used_at == first

    later = clock.tick(seconds=31)
    api.get(URL)
    assert ApiToken.objects.get().last_used_at == later


def test_authenticated_request_is_the_tokens_user(owner, django_assert_max_num_queries):
    api = ApiClient(token_for(owner).secret)
    api.get(URL)  # warm-up: records last use
    # Token+user+account, terms check, the list itself: no per-row queries.
    with django_assert_max_num_queries(5):
        response = api.get(URL)
    assert response.json()["items"][0]["user"] == owner.username
