"""Property-based bad-input tests: schemathesis drives every operation of the OpenAPI document
with generated input, valid and invalid, as a customer who registered, verified their email
and accepted the terms, with a token obtained by signing in.

Whatever it sends, the API never answers 5xx, every refusal is RFC 7807 problem JSON with a
stable ``code``, the HTTP ``status``, a ``detail`` and the message in Japanese and English, and
every response matches what the document promises (schema and media type).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.core.result import Err, Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from certdesk.accounts.models import User
from certdesk.certificates.services import application_create
from certdesk.members.services import member_invite
from certdesk.tokens.models import ApiToken
from tests.certdesk.api.conftest import Customer
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    issue_certificate,
    make_csr,
    product,
)
from tests.certdesk.members.factories import member_of, token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

OPENAPI = "/api/v1/openapi.json"
PROBLEM = "application/problem+json"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CODE = re.compile(r"[a-z][a-z0-9_]*")

schema = schemathesis.openapi.from_wsgi(OPENAPI, get_wsgi_application())
# Invalid input is sent with the customer's valid token: otherwise negative mode drops the
# Authorization header and bad bodies only ever meet the 401 (tests/certdesk/api/test_openapi.py
# checks every bearer operation without a token).
schema.config.generation.update(with_security_parameters=False)

# Values that pass the services' rules, which the document describes in prose only; a share of
# generated strings is swapped for them so that the success paths run too.
VALID_VALUES: dict[str, list[Any]] = {
    "role": ["owner", "admin", "member", "read_only"],
    "language": ["ja", "en"],
    "scopes": [["account:read"], ["account:write", "certificates:read"], ["billing:read"]],
    "email": ["hanako@example.co.jp", "Jiro.Suzuki@Example.JP"],
    "phone": ["03-1234-5678", "+81 90-1234-5678"],
    "postal_code": ["100-0001", "0600003"],
    "product": ["dv-single", "dv-multi", "dv-wildcard", "ov-single"],
    "method": ["dns", "http"],
    "reason": ["keyCompromise", "superseded", "cessationOfOperation", 4],
    "format": ["fullchain", "pem", "chain", "der", "p7b"],
}
# The customer's pending application waits for this name; its certificates are for SHOP.
PENDING_NAME = "www.example-shop.co.jp"
SHOP = "shop-certdesk.jp"


@dataclass
class World:
    """The customer, and what generated values may be pointed at."""

    customer: Customer
    objects: dict[str, dict[str, int]]
    valid: dict[str, list[Any]] = field(default_factory=dict)


@pytest.fixture
def world(customer: Customer, wsgi_in_test_transaction: None) -> World:
    user = customer.user
    colleague = member_of(user.account, User.Role.MEMBER)
    invitation = member_invite(
        actor=user, email="shoutai@example.co.jp", role="member", now=timezone.now()
    )
    spare = token_for(user, scopes=["account:read"], name="spare").token
    own_token = ApiToken.objects.get(user=user, revoked_at__isnull=True, name="fuzz")
    organization = OrganizationFactory(account=user.account)
    issued = issue_certificate(user, [SHOP])
    second = issue_certificate(user, [SHOP, f"www.{SHOP}"], code="dv-multi")
    pending = application_create(
        user=user,
        product_id=product("dv-single").pk,
        csr=make_csr([PENDING_NAME]),
        now=timezone.now(),
    )
    return World(
        customer=customer,
        objects={
            "member_id": {"own": user.pk, "other": colleague.pk},
            "invitation_id": {"own": invitation.pk, "other": invitation.pk},
            "token_id": {"own": own_token.pk, "other": spare.pk},
            "organization_id": {"own": organization.pk, "other": organization.pk},
            "application_id": {"own": pending.pk, "other": issued.application_id},
            "certificate_id": {"own": issued.pk, "other": second.pk},
        },
        valid={
            **VALID_VALUES,
            "username": [user.username],
            "password": [customer.password],
            # CSRs the issuance policy accepts: the names are validated or pending already.
            "csr": [make_csr([SHOP]), make_csr([PENDING_NAME]), make_csr([SHOP, f"www.{SHOP}"])],
            "name": [PENDING_NAME],
            "organization": [organization.pk],
            "renewal_of": [issued.pk],
        },
    )


def _pick(value: Any, options: list[Any]) -> Any:
    """Keep ``value`` or swap it for one of ``options``, chosen by the value itself so that a
    derandomized run stays reproducible."""
    index = zlib.crc32(repr(value).encode()) % (len(options) + 1)
    return value if index == len(options) else options[index]


def _steer_body(body: Any, valid: dict[str, list[Any]]) -> Any:
    if isinstance(body, dict):
        for key, value in body.items():
            options = valid.get(key)
            if options and type(value) is type(options[0]):
                body[key] = _pick(value, options)
            else:
                _steer_body(value, valid)
    return body


def steer(case: Any, world: World) -> None:
    """Point two thirds of the generated integer ids at existing objects of the account (the
    caller's own or another one) and swap some generated values for valid ones, so that role
    changes, removals, revocations, invitations, token creation, applications, downloads and
    renewals run, not only refusals."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in world.objects and type(value) is int:
            target = (None, "own", "other")[value % 3]
            if target is not None:
                case.path_parameters[name] = world.objects[name][target]
    if isinstance(case.body, dict):
        _steer_body(case.body, world.valid)
    if isinstance(case.query, dict):
        _steer_body(case.query, world.valid)


def assert_problem(status: int, headers: dict[str, list[str]], content: bytes) -> None:
    content_type = (headers.get("content-type") or [""])[0]
    assert content_type.startswith(PROBLEM), (status, content_type, content[:300])
    body = json.loads(content)
    assert body["status"] == status, body
    assert isinstance(body["code"], str) and CODE.fullmatch(body["code"]), body
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    messages = body["messages"]
    assert messages["en"].strip() and messages["ja"].strip(), body
    assert JAPANESE.search(messages["ja"]), f"message not translated into Japanese: {body}"
    if status == 429:
        assert int(headers["retry-after"][0]) > 0, headers


def _operation_labels() -> list[str]:
    return [r.ok().label if isinstance(r, Ok) else repr(r) for r in schema.get_all_operations()]


# One test per operation, parametrised by pytest itself: schemathesis' own
# ``@schema.parametrize()`` gives all its items one node id under pytest 9 (it passes the bare
# function name as ``originalname``), so pytest-xdist would run only one of them.
LABELS = _operation_labels()
_STRATEGIES: dict[str, SearchStrategy[Any]] = {}


def cases_for(label: str) -> SearchStrategy[Any]:
    """Valid and invalid requests (schemathesis' positive and negative modes) for ``label``."""
    if label not in _STRATEGIES:
        operation = schema.find_operation_by_label(label)
        assert operation is not None, label
        _STRATEGIES[label] = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    return _STRATEGIES[label]


@pytest.mark.parametrize("label", LABELS)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_operation_survives_generated_input(world: World, label: str, data: st.DataObject) -> None:
    case = data.draw(cases_for(label), label="case")
    steer(case, world)
    # Each example starts from the same state: a revoked token or a removed member must not
    # turn every later example into a 401.
    with transaction.atomic():
        response = case.call(headers=world.customer.headers)
        transaction.set_rollback(True)
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        case.query,
        case.body,
        response.text[:2000],
    )
    if response.status_code >= 400:
        assert_problem(response.status_code, response.headers, response.content)
    case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])


@pytest.mark.parametrize("path", sorted(schema.raw_schema["paths"]))
def test_methods_an_operation_does_not_take_are_problems(customer: Customer, path: str) -> None:
    taken = {method.upper() for method in schema.raw_schema["paths"][path]}
    url = re.sub(r"\{[^}]+\}", "1", path)
    client = Client(headers=customer.headers)
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - taken):
        response = client.generic(method, url, b"{}", content_type="application/json")
        assert response.status_code == 405, (method, url)
        assert set(response["Allow"].replace(" ", "").split(",")) == taken
        assert_problem(405, {k.lower(): [v] for k, v in response.items()}, response.content)


def test_every_operation_of_the_document_is_driven() -> None:
    """Nothing in the document escapes the tests above (an operation schemathesis cannot load
    would otherwise be left out silently)."""
    assert [r for r in schema.get_all_operations() if isinstance(r, Err)] == []
    documented = {
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method in item
    }
    assert set(LABELS) == documented
    assert len(LABELS) == len(documented) >= 17
