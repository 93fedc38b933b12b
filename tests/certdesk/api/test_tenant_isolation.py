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
from certdesk.certificates.models import Application, Certificate, Product
from certdesk.certificates.services import application_create
from certdesk.members.models import Invitation
from certdesk.members.services import member_invite
from certdesk.notifications.models import OutboundEmail
from certdesk.organizations.models import Organization
from certdesk.terms.models import TermsVersion
from certdesk.tokens.models import ApiToken
from certdesk.validation.models import DomainValidation
from tests.certdesk.api.conftest import current_terms
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    issue_certificate,
    make_csr,
    product,
)
from tests.certdesk.members.factories import AccountFactory, member_of, token_for
from tests.certdesk.terms.factories import OperatorFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"

# Account A's pending application waits for this name; its certificate is for ISSUED_NAME.
PENDING_NAME = "www.example-shop.co.jp"
ISSUED_NAME = "shop-certdesk.jp"
RENEWAL_CSR = make_csr([ISSUED_NAME])


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
    Case(
        f"{API}/organizations/{{organization_id}}",
        "GET",
        f"{API}/organizations/{{organization}}",
    ),
    Case(
        f"{API}/organizations/{{organization_id}}",
        "PATCH",
        f"{API}/organizations/{{organization}}",
        {"phone": "03-9999-0000"},
    ),
    Case(f"{API}/applications/{{application_id}}", "GET", f"{API}/applications/{{application}}"),
    Case(
        f"{API}/applications/{{application_id}}/validate",
        "POST",
        f"{API}/applications/{{application}}/validate",
    ),
    Case(
        f"{API}/applications/{{application_id}}/method",
        "POST",
        f"{API}/applications/{{application}}/method",
        {"name": PENDING_NAME, "method": "http"},
    ),
    Case(
        f"{API}/applications/{{application_id}}/cancel",
        "POST",
        f"{API}/applications/{{application}}/cancel",
    ),
    Case(f"{API}/certificates/{{certificate_id}}", "GET", f"{API}/certificates/{{certificate}}"),
    Case(
        f"{API}/certificates/{{certificate_id}}/download",
        "GET",
        f"{API}/certificates/{{certificate}}/download",
    ),
    Case(
        f"{API}/certificates/{{certificate_id}}/renew",
        "POST",
        f"{API}/certificates/{{certificate}}/renew",
        {"csr": RENEWAL_CSR},
    ),
    Case(
        f"{API}/certificates/{{certificate_id}}/revoke",
        "POST",
        f"{API}/certificates/{{certificate}}/revoke",
        {"reason": "keyCompromise"},
    ),
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
    Case(
        "certificates/applications/<int:application_id>/",
        "GET",
        "/certificates/applications/{application}/",
    ),
    Case(
        "certificates/applications/<int:application_id>/validate/",
        "POST",
        "/certificates/applications/{application}/validate/",
    ),
    Case(
        "certificates/applications/<int:application_id>/method/",
        "POST",
        "/certificates/applications/{application}/method/",
        {"name": PENDING_NAME, "method": "http"},
    ),
    Case(
        "certificates/applications/<int:application_id>/cancel/",
        "POST",
        "/certificates/applications/{application}/cancel/",
    ),
    Case("certificates/<int:certificate_id>/", "GET", "/certificates/{certificate}/"),
    Case(
        "certificates/<int:certificate_id>/download/",
        "GET",
        "/certificates/{certificate}/download/",
    ),
    Case("certificates/<int:certificate_id>/renew/", "GET", "/certificates/{certificate}/renew/"),
    Case(
        "certificates/<int:certificate_id>/renew/",
        "POST",
        "/certificates/{certificate}/renew/",
        {"csr": RENEWAL_CSR, "method": "dns"},
    ),
    Case("certificates/<int:certificate_id>/revoke/", "GET", "/certificates/{certificate}/revoke/"),
    Case(
        "certificates/<int:certificate_id>/revoke/",
        "POST",
        "/certificates/{certificate}/revoke/",
        {"reason": "keyCompromise", "confirm": "on"},
    ),
    Case("organizations/<int:organization_id>/", "GET", "/organizations/{organization}/"),
    Case("organizations/<int:organization_id>/edit/", "GET", "/organizations/{organization}/edit/"),
    Case(
        "organizations/<int:organization_id>/edit/",
        "POST",
        "/organizations/{organization}/edit/",
        {"phone": "03-9999-0000"},
    ),
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
    Case(
        "console/organizations/<int:organization_id>/",
        "GET",
        "/console/organizations/{organization}/",
    ),
    Case(
        "console/organizations/<int:organization_id>/verify/",
        "POST",
        "/console/organizations/{organization}/verify/",
    ),
    Case(
        "console/organizations/<int:organization_id>/reject/",
        "POST",
        "/console/organizations/{organization}/reject/",
        {"reason": "x"},
    ),
    Case("console/products/<int:product_id>/", "GET", "/console/products/{product}/"),
    Case(
        "console/products/<int:product_id>/",
        "POST",
        "/console/products/{product}/",
        {"price_jpy": "1"},
    ),
    Case(
        "console/applications/<int:application_id>/",
        "GET",
        "/console/applications/{application}/",
    ),
    Case(
        "console/applications/<int:application_id>/decide/",
        "POST",
        "/console/applications/{application}/decide/",
        {"decision": "approve"},
    ),
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
    "pki/ca/<slug:slug>.cer": "CA certificates are published for every relying party "
    "(tests/certdesk/repository)",
    "pki/ca/<slug:slug>.pem": "CA chains are published for every relying party "
    "(tests/certdesk/repository)",
    "pki/crl/<slug:slug>.crl": "CRLs are published for every relying party "
    "(tests/certdesk/repository)",
    "pki/ocsp/<path:encoded>": "OCSP answers anyone about any serial, by design (RFC 6960) "
    "(tests/certdesk/repository)",
}

PORTAL_METHODS = ("GET", "POST")


@pytest.fixture
def account_a() -> dict[str, models.Model]:
    """Account A: an owner, a member with a token, an open invitation, an organisation, an
    issued certificate and an application still waiting for domain validation."""
    terms = current_terms()  # before the users, who accept the terms in effect
    account = AccountFactory()
    owner = member_of(account, User.Role.OWNER)
    member = member_of(account, User.Role.MEMBER)
    invitation = member_invite(
        actor=owner, email="guest-a@example.co.jp", role="member", now=timezone.now()
    )
    token = token_for(member, name="a-token").token
    organization = OrganizationFactory(account=account)
    certificate = issue_certificate(member, [ISSUED_NAME])
    application = application_create(
        user=member,
        product_id=product("dv-single").pk,
        csr=make_csr([PENDING_NAME]),
        now=timezone.now(),
    )
    assert application.is_pending
    return {
        "account": account,
        "owner": owner,
        "member": member,
        "invitation": invitation,
        "token": token,
        "terms": terms,
        "organization": organization,
        "certificate": certificate,
        "application": application,
        "product": product("dv-single"),
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
        "organization": beyond(Organization),
        "certificate": beyond(Certificate),
        "application": beyond(Application),
        "product": beyond(Product),
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
    state["applications"] = Application.objects.filter(account=account).count()
    state["validations"] = list(
        DomainValidation.objects.filter(account=account).order_by("pk").values()
    )
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
