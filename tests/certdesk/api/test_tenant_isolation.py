"""Tenant isolation over every route that takes an object id, API and portal alike.

A user of account B who asks for an object of account A gets 404, exactly what a never-existing
id gets (never 200, never 403, never a hint that it exists), and A's data stays as it was. The
guard tests walk the URL resolver and the OpenAPI document: a new id-taking route that is not
in the tables below fails the suite until someone adds it (or says why it is exempt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.members.models import Invitation
from certdesk.members.services import member_invite
from certdesk.notifications.models import OutboundEmail
from certdesk.terms.models import TermsVersion
from certdesk.tokens.models import ApiToken
from tests.certdesk.api.conftest import current_terms
from tests.certdesk.members.factories import AccountFactory, member_of, token_for
from tests.certdesk.terms.factories import OperatorFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    """One request: ``route`` as the URL resolver (portal) or OpenAPI document (API) spells
    it, ``url`` with ``{placeholders}`` naming objects of account A."""

    route: str
    method: str
    url: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


API_CASES = [
    Case(f"{API}/account/members/{{member_id}}", "GET", f"{API}/account/members/{{member}}"),
    Case(
        f"{API}/account/members/{{member_id}}",
        "PATCH",
        f"{API}/account/members/{{member}}",
        {"role": "read_only"},
    ),
    Case(f"{API}/account/members/{{member_id}}", "DELETE", f"{API}/account/members/{{member}}"),
    Case(
        f"{API}/account/members/invitations/{{invitation_id}}",
        "GET",
        f"{API}/account/members/invitations/{{invitation}}",
    ),
    Case(
        f"{API}/account/members/invitations/{{invitation_id}}",
        "DELETE",
        f"{API}/account/members/invitations/{{invitation}}",
    ),
    Case(f"{API}/account/tokens/{{token_id}}", "GET", f"{API}/account/tokens/{{token}}"),
    Case(f"{API}/account/tokens/{{token_id}}", "DELETE", f"{API}/account/tokens/{{token}}"),
]

PORTAL_CASES = [
    Case("members/<int:member_id>/role/", "POST", "/members/{member}/role/", {"role": "read_only"}),
    Case("members/<int:member_id>/remove/", "GET", "/members/{member}/remove/"),
    Case("members/<int:member_id>/remove/", "POST", "/members/{member}/remove/", {}),
    Case(
        "members/invitations/<int:invitation_id>/revoke/",
        "POST",
        "/members/invitations/{invitation}/revoke/",
        {},
    ),
    Case("tokens/<int:token_id>/revoke/", "POST", "/tokens/{token}/revoke/", {}),
]

# Operator pages: a customer, even an owner, meets the same 404 as for a page that is not there.
CONSOLE_CASES = [
    Case("console/accounts/<int:number>/", "GET", "/console/accounts/{account}/"),
    Case(
        "console/accounts/<int:number>/disable/",
        "POST",
        "/console/accounts/{account}/disable/",
        {"reason": "x"},
    ),
    Case("console/accounts/<int:number>/enable/", "POST", "/console/accounts/{account}/enable/"),
    Case(
        "console/accounts/<int:number>/users/<int:user_id>/disable/",
        "POST",
        "/console/accounts/{account}/users/{member}/disable/",
        {"reason": "x"},
    ),
    Case(
        "console/accounts/<int:number>/users/<int:user_id>/enable/",
        "POST",
        "/console/accounts/{account}/users/{member}/enable/",
    ),
    Case("console/terms/<int:number>/", "GET", "/console/terms/{terms}/"),
    Case("console/terms/<int:number>/edit/", "POST", "/console/terms/{terms}/edit/", {}),
    Case("console/terms/<int:number>/publish/", "POST", "/console/terms/{terms}/publish/"),
    Case("console/terms/<int:number>/notice/", "POST", "/console/terms/{terms}/notice/"),
    Case("console/terms/<int:number>/withdraw/", "POST", "/console/terms/{terms}/withdraw/"),
    Case("console/terms/<int:number>/delete/", "POST", "/console/terms/{terms}/delete/"),
]

# Routes whose parameter is not an id of customer data, and why.
EXEMPT = {
    "accounts/verify/<str:token>/": "single-use secret emailed to the user: the secret is the "
    "authorisation (tests/certdesk/accounts)",
    "accounts/password/reset/<str:token>/": "single-use secret emailed to the user "
    "(tests/certdesk/accounts)",
    "members/join/<str:secret>/": "invitation secret emailed to the invitee "
    "(tests/certdesk/members)",
    "terms/<int:number>/": "published terms of use are public documents, the same for everyone",
}

PORTAL_METHODS = ("GET", "POST")


@pytest.fixture
def account_a() -> dict[str, models.Model]:
    """Account A: an owner, a member with a token, an open invitation."""
    terms = current_terms()  # before the users, who accept the terms in effect
    account = AccountFactory()
    owner = member_of(account, User.Role.OWNER)
    member = member_of(account, User.Role.MEMBER)
    invitation = member_invite(
        actor=owner, email="guest-a@example.co.jp", role="member", now=timezone.now()
    )
    token = token_for(member, name="a-token").token
    return {
        "account": account,
        "owner": owner,
        "member": member,
        "invitation": invitation,
        "token": token,
        "terms": terms,
    }


def ids_of(objects: dict[str, models.Model]) -> dict[str, int]:
    """What the URLs carry: primary keys, and a terms version's number."""
    return {
        name: obj.number if isinstance(obj, TermsVersion) else obj.pk
        for name, obj in objects.items()
    }


def missing_ids() -> dict[str, int]:
    """Ids no object has: what a guess at an unknown id looks like."""

    def beyond(model: type[models.Model]) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        return int(last) + 100_000

    return {
        "account": beyond(Account),
        "member": beyond(User),
        "owner": beyond(User),
        "invitation": beyond(Invitation),
        "token": beyond(ApiToken),
        "terms": 999_999,
    }


def snapshot(objects: dict[str, models.Model]) -> dict[str, Any]:
    """Every stored field of A's objects, and what A has in the audit log and the outbox."""
    state: dict[str, Any] = {}
    for name, obj in objects.items():
        fresh = type(obj).objects.filter(pk=obj.pk).values().first()
        state[name] = fresh
    account = objects["account"]
    state["audit"] = AuditEvent.objects.filter(account=account).count()
    state["users"] = User.objects.filter(account=account, is_active=True).count()
    state["tokens"] = ApiToken.objects.filter(account=account, revoked_at__isnull=True).count()
    state["outbox"] = OutboundEmail.objects.count()
    return state


def bearer_client(user: User) -> Client:
    scopes = (
        ["account:read", "certificates:read", "billing:read"]
        if user.role == User.Role.READ_ONLY
        else ["account:write", "certificates:write", "billing:read"]
    )
    secret = token_for(user, scopes=scopes, name="intruder").secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, url: str, body: dict[str, Any] | None, *, api: bool) -> Any:
    if api:
        return client.generic(
            method,
            url,
            data=b"" if body is None else json.dumps(body).encode(),
            content_type="application/json",
        )
    if method == "POST":
        return client.post(url, body or {})
    return client.get(url)


def intruder(role: str = User.Role.OWNER) -> User:
    """A user of account B (a different tenant) who has accepted the terms."""
    return member_of(AccountFactory(), role)


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_api_answers_404_for_account_a_objects(account_a, case: Case) -> None:
    client = bearer_client(intruder())
    before = snapshot(account_a)
    response = send(client, case.method, case.url.format(**ids_of(account_a)), case.body, api=True)
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"].endswith("not_found")
    assert snapshot(account_a) == before


@pytest.mark.parametrize("case", PORTAL_CASES + CONSOLE_CASES, ids=str)
def test_portal_answers_404_for_account_a_objects(account_a, case: Case) -> None:
    client = signed_in_client(intruder())
    before = snapshot(account_a)
    response = send(client, case.method, case.url.format(**ids_of(account_a)), case.body, api=False)
    assert response.status_code == 404
    assert snapshot(account_a) == before


@pytest.mark.parametrize("case", PORTAL_CASES + CONSOLE_CASES, ids=str)
@pytest.mark.parametrize("method", PORTAL_METHODS)
def test_portal_never_shows_or_forbids_account_a_objects_by_any_method(
    account_a, case: Case, method: str
) -> None:
    """Any method, even with an empty form: a refusal that does not depend on the object (405
    for a method the view does not take, 422 for a form it checks first) and never a page,
    a redirect or a 403 that would tell A's objects from missing ones."""
    client = signed_in_client(intruder())
    before = snapshot(account_a)
    foreign = send(client, method, case.url.format(**ids_of(account_a)), {}, api=False)
    missing = send(client, method, case.url.format(**missing_ids()), {}, api=False)
    assert foreign.status_code == missing.status_code
    assert foreign.status_code in (404, 405, 422)
    assert snapshot(account_a) == before


@pytest.mark.parametrize("role", [User.Role.ADMIN, User.Role.MEMBER, User.Role.READ_ONLY])
@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_api_answer_does_not_reveal_that_an_object_exists(account_a, case: Case, role) -> None:
    """Whatever B's role, A's object gets exactly the answer a never-existing id gets."""
    client = bearer_client(intruder(role))
    before = snapshot(account_a)
    foreign = send(client, case.method, case.url.format(**ids_of(account_a)), case.body, api=True)
    missing = send(client, case.method, case.url.format(**missing_ids()), case.body, api=True)
    assert foreign.status_code == missing.status_code != 200
    assert foreign.json()["code"] == missing.json()["code"]
    assert snapshot(account_a) == before


@pytest.mark.parametrize("role", [User.Role.ADMIN, User.Role.MEMBER, User.Role.READ_ONLY])
@pytest.mark.parametrize("case", PORTAL_CASES + CONSOLE_CASES, ids=str)
def test_portal_answer_does_not_reveal_that_an_object_exists(account_a, case: Case, role) -> None:
    client = signed_in_client(intruder(role))
    before = snapshot(account_a)
    foreign = send(client, case.method, case.url.format(**ids_of(account_a)), case.body, api=False)
    missing = send(client, case.method, case.url.format(**missing_ids()), case.body, api=False)
    assert foreign.status_code == missing.status_code
    assert foreign.status_code not in (200, 302)
    assert snapshot(account_a) == before


def test_the_tables_address_live_objects(account_a) -> None:
    """A's owner (and, for the console, an operator) gets the pages the intruder is refused:
    the 404s above come from isolation, not from a wrong URL."""
    ids = ids_of(account_a)
    api = bearer_client(account_a["owner"])
    portal = signed_in_client(account_a["owner"])
    console = signed_in_client(OperatorFactory())
    for client, cases in ((api, API_CASES), (portal, PORTAL_CASES), (console, CONSOLE_CASES)):
        for case in cases:
            if case.method == "GET":
                assert client.get(case.url.format(**ids)).status_code == 200, case


# ---- guards: no id-taking route may be missing from the tables ---------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            found.append((prefix + str(pattern.pattern), pattern))
    return found


def _takes_parameters(route: str, pattern: URLPattern) -> bool:
    return "<" in route or pattern.pattern.regex.groups > 0


def _api_route(openapi_path: str) -> str:
    """``/api/v1/account/tokens/{token_id}`` as the resolver spells it."""
    return openapi_path.lstrip("/").replace("{", "<").replace("}", ">")


def test_every_id_taking_route_of_the_url_resolver_is_in_the_tables() -> None:
    covered = {c.route for c in PORTAL_CASES + CONSOLE_CASES} | set(EXEMPT)
    covered |= {_api_route(c.route) for c in API_CASES}
    routes = {
        route
        for route, pattern in _walk(get_resolver().url_patterns)
        if _takes_parameters(route, pattern)
    }
    assert routes, "the resolver walk found no route with parameters"
    assert routes - covered == set(), "add these routes to the isolation tables"
    assert covered - routes == set(), "these table entries match no route any more"


def test_every_openapi_operation_with_a_path_parameter_is_in_the_table(client) -> None:
    document = client.get(f"{API}/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if "{" in path
    }
    assert operations == {(c.method, c.route) for c in API_CASES}
