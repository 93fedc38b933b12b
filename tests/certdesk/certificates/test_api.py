"""The certificate lifecycle over the REST API, as a customer's script drives it: products,
apply with a CSR, publish the DNS record or HTTP file it is told to, "check now", download
every format, renew, revoke; with scopes, idempotency, refusals and query-count guards.

Domain control validation runs for real against the lab DNS and HTTP servers on loopback
(``tests/certdesk/validation/servers.py``); time moves by patching ``certdesk.core.clock.now``.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from django.test import Client

import pki
from certdesk.accounts.models import User
from certdesk.certificates.models import Application, Certificate
from certdesk.certificates.services import application_create, application_validate
from certdesk.suppliers.builtin import builtin_ca
from certdesk.validation.models import DomainValidation
from tests.certdesk.certificates.factories import (
    AccountFactory,
    OrganizationFactory,
    make_csr,
    member_of,
    product,
    token_for,
    validate_names,
)
from tests.certdesk.validation.servers import DnsZone, HttpSite
from tests.pki.helpers import epoch, openssl, vector

pytestmark = pytest.mark.django_db

API = "/api/v1"
PROBLEM = "application/problem+json"
SHOP = "shop-certdesk.jp"
WWW = "www.shop-certdesk.jp"


class Api:
    """A Bearer-token JSON client for one token."""

    def __init__(self, secret: str, **headers: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}", **headers}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(API + path, query, headers=self.headers)

    def post(self, path: str, data: Any = None, **headers: str) -> Any:
        return self.client.post(
            API + path,
            data={} if data is None else data,
            content_type="application/json",
            headers={**self.headers, **headers},
        )


@pytest.fixture
def customer(db: Any) -> User:
    return member_of(AccountFactory(), User.Role.OWNER)


@pytest.fixture
def api(customer: User) -> Api:
    # No expiry: the renewal test moves the clock months ahead.
    secret = token_for(customer, scopes=["certificates:write"], expires_in_days=None).secret
    return Api(secret, **{"Accept-Language": "en"})


def publish(zone: DnsZone, application: dict[str, Any]) -> None:
    """Do what the answer asks: publish the TXT record of every name still pending."""
    for entry in application["dcv"]:
        if entry["status"] == "pending":
            record = entry["dns_record"]
            assert record["type"] == "TXT"
            zone.add_txt(record["name"], record["value"])


def assert_problem(response: Any, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    return body


def published_root() -> bytes:
    """The root the CA publishes in its repository (``/pki/ca/<slug>.pem``): the only
    trust anchor a relying party starts from."""
    response = Client().get(f"/pki/ca/{builtin_ca().root.slug}.pem")
    assert response.status_code == 200
    roots = [c for c in x509.load_pem_x509_certificates(response.content) if c.subject == c.issuer]
    assert roots, response.content
    return b"".join(c.public_bytes(Encoding.PEM) for c in roots)


def openssl_verify(tmp_path: Path, fullchain: bytes, *, at: Any) -> Any:
    """``openssl verify`` of the leaf of ``fullchain`` with its intermediates, trusting only
    the CA's published root, for a TLS server, at ``at``."""
    leaf, *intermediates = x509.load_pem_x509_certificates(fullchain)
    root = tmp_path / "root.pem"
    root.write_bytes(published_root())
    leaf_file = tmp_path / "leaf.pem"
    leaf_file.write_bytes(leaf.public_bytes(Encoding.PEM))
    arguments = ["verify", "-CAfile", str(root), "-purpose", "sslserver", "-attime", epoch(at)]
    if intermediates:
        untrusted = tmp_path / "untrusted.pem"
        untrusted.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in intermediates))
        arguments += ["-untrusted", str(untrusted)]
    return openssl(*arguments, str(leaf_file))


# ---- the whole path -----------------------------------------------------------------------


def test_apply_validate_issue_download_renew_and_revoke(
    api: Api, customer: User, clock: Any, dns_zone: DnsZone, tmp_path: Path
) -> None:
    products = api.get("/products").json()["items"]
    multi = next(p for p in products if p["code"] == "dv-multi")
    assert multi["validation_level"] == "dv" and multi["max_names"] == 25
    assert {p["code"] for p in products} >= {"dv-single", "ov-wildcard"}

    # Apply: both names need validating, and the answer says what to publish where.
    created = api.post(
        "/applications", {"product": "dv-multi", "csr": make_csr([SHOP, WWW]), "method": "dns"}
    )
    assert created.status_code == 201, created.content
    application = created.json()
    assert application["status"] == "pending"
    assert application["waiting_for"] == ["dcv"]
    assert application["names"] == [SHOP, WWW]
    assert application["certificate"] is None
    assert [e["dns_record"]["name"] for e in application["dcv"]] == [
        f"_pki-validation.{SHOP}",
        f"_pki-validation.{WWW}",
    ]
    assert all(e["status"] == "pending" and e["http_file"] is None for e in application["dcv"])

    # "Check now" before the records exist: still waiting, and told why in plain words.
    checked = api.post(f"/applications/{application['id']}/validate").json()
    assert checked["status"] == "pending"
    first = checked["dcv"][0]
    assert first["last_code"] == "dcv_dns_no_record"
    assert first["last_message"].startswith("No TXT record was found")
    assert first["next_check_at"] is not None

    publish(dns_zone, application)
    issued = api.post(f"/applications/{application['id']}/validate").json()
    assert issued["status"] == "issued"
    assert issued["waiting_for"] == []
    assert [e["status"] for e in issued["dcv"]] == ["valid", "valid"]
    assert issued["dcv"][0]["last_code"] == "ok"
    reuse = timedelta(days=pki.dcv_reuse_days(clock()))
    assert issued["dcv"][0]["reusable_until"] == (clock() + reuse).isoformat().replace(
        "+00:00", "Z"
    )
    certificate_id = issued["certificate"]
    assert certificate_id is not None

    shown = api.get(f"/certificates/{certificate_id}").json()
    assert shown["names"] == [SHOP, WWW]
    assert shown["status"] == "valid"
    assert int(shown["serial_decimal"]) == int(shown["serial"], 16)
    assert shown["application"] == application["id"]
    assert shown["renewal_of"] is None and shown["renewed_by"] == []
    assert shown["product"]["code"] == "dv-multi"
    assert shown["key_description"] == "ECDSA P-256"
    assert shown["organization"] is None

    # Every download format, each what its content type says.
    files = {}
    for fmt, content_type, suffix in [
        ("fullchain", "application/pem-certificate-chain", ".fullchain.pem"),
        ("pem", "application/x-pem-file", ".pem"),
        ("chain", "application/pem-certificate-chain", ".chain.pem"),
        ("der", "application/pkix-cert", ".cer"),
        ("p7b", "application/x-pkcs7-certificates", ".p7b"),
    ]:
        response = api.get(f"/certificates/{certificate_id}/download", format=fmt)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="{SHOP}{suffix}"'
        files[fmt] = response.content
    default = api.get(f"/certificates/{certificate_id}/download")
    assert default.content == files["fullchain"]
    leaf = x509.load_pem_x509_certificate(files["pem"])
    assert format(leaf.serial_number, "x") == shown["serial"]
    assert x509.load_der_x509_certificate(files["der"]) == leaf
    assert files["fullchain"] == files["pem"] + files["chain"]
    bundle = pkcs7.load_der_pkcs7_certificates(files["p7b"])
    assert bundle[0] == leaf and bundle[1:] == x509.load_pem_x509_certificates(files["chain"])
    verified = openssl_verify(tmp_path, files["fullchain"], at=clock() + timedelta(hours=1))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # The leaf alone does not chain to the root: why the full chain is the default.
    alone = openssl_verify(tmp_path, files["pem"], at=clock() + timedelta(hours=1))
    assert alone.returncode != 0
    assert "unable to get local issuer certificate" in alone.stdout + alone.stderr

    # Months later, shortly before expiry: the shop-certdesk.jp proof is past its reuse
    # period, a recent proof of www.shop-certdesk.jp is not.
    clock.set(Certificate.objects.get(pk=certificate_id).not_after - timedelta(days=5))
    renew_at = clock()
    validate_names(customer.account, [WWW], at=renew_at - timedelta(days=3))
    old = DomainValidation.objects.get(account=customer.account, name=SHOP)
    assert not old.is_valid_at(renew_at), "the reuse period must end before the certificate"
    renewal = api.post(
        f"/certificates/{certificate_id}/renew", {"csr": make_csr([SHOP, WWW]), "method": "dns"}
    )
    assert renewal.status_code == 201, renewal.content
    renewed_application = renewal.json()
    assert renewed_application["renewal_of"] == certificate_id
    assert renewed_application["product"] == "dv-multi"
    assert renewed_application["waiting_for"] == ["dcv"]
    by_name = {e["name"]: e for e in renewed_application["dcv"]}
    assert by_name[WWW]["status"] == "valid"  # reused: nothing to publish again
    assert by_name[SHOP]["status"] == "pending"
    assert by_name[SHOP]["dns_record"]["value"] != old.token

    publish(dns_zone, renewed_application)
    done = api.post(f"/applications/{renewed_application['id']}/validate").json()
    assert done["status"] == "issued"
    new_id = done["certificate"]
    assert api.get(f"/certificates/{new_id}").json()["renewal_of"] == certificate_id
    assert api.get(f"/certificates/{certificate_id}").json()["renewed_by"] == [new_id]

    # A boolean is not a reason (True would otherwise read as 1, keyCompromise), and
    # privilegeWithdrawn is the CA's reason: both refused, nothing revoked.
    assert_problem(
        api.post(f"/certificates/{certificate_id}/revoke", {"reason": True}), 422, "invalid_request"
    )
    assert_problem(
        api.post(f"/certificates/{certificate_id}/revoke", {"reason": "privilegeWithdrawn"}),
        422,
        "revocation_reason_not_customer",
    )
    assert api.get(f"/certificates/{certificate_id}").json()["status"] == "valid"

    # Revoke the old one; a second revocation is a conflict.
    revoked = api.post(f"/certificates/{certificate_id}/revoke", {"reason": "superseded"})
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revocation_reason"] == 4
    assert revoked.json()["revocation_reason_name"] == "superseded"
    again = api.post(f"/certificates/{certificate_id}/revoke", {"reason": "superseded"})
    assert_problem(again, 409, "already_revoked")
    assert api.get(f"/certificates/{new_id}").json()["status"] == "valid"


def test_a_name_switched_to_the_http_method_validates_with_the_file(
    api: Api, dns_zone: DnsZone, http_site: HttpSite
) -> None:
    http_site.add_host(WWW)
    application = api.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])}).json()
    assert application["dcv"][0]["method"] == "dns"
    switched = api.post(
        f"/applications/{application['id']}/method", {"name": WWW, "method": "http"}
    )
    assert switched.status_code == 200, switched.content
    entry = switched.json()["dcv"][0]
    assert entry["method"] == "http" and entry["dns_record"] is None
    url = entry["http_file"]["url"]
    assert url.startswith(f"http://{WWW}/.well-known/pki-validation/")
    http_site.serve(url.removeprefix(f"http://{WWW}"), entry["http_file"]["content"] + "\n")
    issued = api.post(f"/applications/{application['id']}/validate").json()
    assert issued["status"] == "issued"
    assert http_site.requests[-1].host == WWW


def test_a_wildcard_name_cannot_switch_to_http(api: Api) -> None:
    application = api.post(
        "/applications", {"product": "dv-wildcard", "csr": make_csr([f"*.{SHOP}", SHOP])}
    ).json()
    assert [e["validated_name"] for e in application["dcv"]] == [SHOP, SHOP]
    response = api.post(
        f"/applications/{application['id']}/method", {"name": f"*.{SHOP}", "method": "http"}
    )
    assert_problem(response, 422, "dcv_method_wildcard", "method")
    missing = api.post(
        f"/applications/{application['id']}/method",
        {"name": "mail.shop-certdesk.jp", "method": "dns"},
    )
    assert_problem(missing, 404, "application_name_not_found")


def test_names_validated_within_the_reuse_period_issue_at_once(api: Api, customer: User) -> None:
    validate_names(customer.account, [SHOP])
    created = api.post("/applications", {"product": "dv-multi", "csr": make_csr([SHOP, WWW])})
    assert created.status_code == 201
    body = created.json()
    # The DNS proof of shop-certdesk.jp covers www below it.
    assert body["status"] == "issued" and body["certificate"] is not None
    assert [e["validated_name"] for e in body["dcv"]] == [SHOP, SHOP]


def test_cancel_a_pending_application(api: Api) -> None:
    application = api.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])})
    number = application.json()["id"]
    cancelled = api.post(f"/applications/{number}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["waiting_for"] == []
    assert_problem(api.post(f"/applications/{number}/cancel"), 409, "application_not_pending")
    assert_problem(
        api.post(f"/applications/{number}/method", {"name": WWW, "method": "http"}),
        409,
        "application_not_pending",
    )


# ---- idempotency --------------------------------------------------------------------------


def test_idempotency_key_replays_the_same_application(api: Api, customer: User) -> None:
    body = {"product": "dv-single", "csr": make_csr([WWW])}
    first = api.post("/applications", body, **{"Idempotency-Key": "deploy-42"})
    assert first.status_code == 201
    replay = api.post("/applications", body, **{"Idempotency-Key": "deploy-42"})
    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]
    assert Application.objects.filter(account=customer.account).count() == 1

    other = {"product": "dv-single", "csr": make_csr([WWW])}
    conflict = api.post("/applications", other, **{"Idempotency-Key": "deploy-42"})
    assert_problem(conflict, 409, "idempotency_key_reused")
    other_product = {**body, "product": "dv-multi"}
    conflict = api.post("/applications", other_product, **{"Idempotency-Key": "deploy-42"})
    assert_problem(conflict, 409, "idempotency_key_reused")
    # Without a key every request files a new application.
    assert api.post("/applications", body).status_code == 201
    assert Application.objects.filter(account=customer.account).count() == 2


def test_idempotency_keys_are_per_account(api: Api) -> None:
    body = {"product": "dv-single", "csr": make_csr([WWW])}
    mine = api.post("/applications", body, **{"Idempotency-Key": "same"}).json()
    stranger = member_of(AccountFactory(), User.Role.OWNER)
    theirs = Api(token_for(stranger, scopes=["certificates:write"]).secret).post(
        "/applications", body, **{"Idempotency-Key": "same"}
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


def test_an_idempotency_key_longer_than_100_characters_is_refused(api: Api) -> None:
    body = {"product": "dv-single", "csr": make_csr([WWW])}
    response = api.post("/applications", body, **{"Idempotency-Key": "k" * 101})
    assert_problem(response, 422, "idempotency_key_invalid", "Idempotency-Key")
    assert not Application.objects.exists()


# ---- scopes and roles ---------------------------------------------------------------------


def test_a_read_only_token_reads_but_cannot_write(customer: User) -> None:
    certificate_id = api_issue(customer)
    reader = Api(token_for(customer, scopes=["certificates:read"]).secret)
    assert reader.get("/applications").status_code == 200
    assert reader.get("/products").status_code == 200
    assert reader.get(f"/certificates/{certificate_id}").status_code == 200
    assert reader.get(f"/certificates/{certificate_id}/download").status_code == 200
    body = assert_problem(
        reader.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])}),
        403,
        "insufficient_scope",
    )
    assert body["required_scope"] == "certificates:write"
    assert_problem(
        reader.post(f"/certificates/{certificate_id}/revoke", {"reason": "keyCompromise"}),
        403,
        "insufficient_scope",
    )
    assert Certificate.objects.get(pk=certificate_id).revoked_at is None


def test_a_token_without_certificate_scopes_is_refused_with_403(customer: User) -> None:
    certificate_id = api_issue(customer)
    other = Api(token_for(customer, scopes=["account:read", "billing:read"]).secret)
    for path in ["/products", "/applications", f"/certificates/{certificate_id}"]:
        body = assert_problem(other.get(path), 403, "insufficient_scope")
        assert body["required_scope"] == "certificates:read"
        assert body["messages"]["ja"] and body["messages"]["en"]


def test_a_read_only_member_cannot_apply(customer: User) -> None:
    reader = member_of(customer.account, User.Role.READ_ONLY)
    api = Api(token_for(reader, scopes=["certificates:read"]).secret)
    response = api.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])})
    assert_problem(response, 403, "insufficient_scope")


def api_issue(user: User, names: list[str] | None = None) -> int:
    """Issue a certificate through the API for already-validated names; its id."""
    names = names or [SHOP]
    validate_names(user.account, names)  # type: ignore[arg-type]
    secret = token_for(user, scopes=["certificates:write"]).secret
    code = "dv-single" if len(names) == 1 else "dv-multi"
    response = Api(secret).post("/applications", {"product": code, "csr": make_csr(names)})
    assert response.json()["status"] == "issued", response.content
    return int(response.json()["certificate"])


# ---- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector_file", "code"),
    [
        ("refused--csr_private_key--pkcs8.pem", "csr_private_key"),
        ("refused--csr_private_key--rsa-traditional.pem", "csr_private_key"),
        ("refused--name_wildcard_public_suffix--star-co-jp.csr.pem", "name_wildcard_public_suffix"),
        ("refused--key_rsa_size--rsa-1024.csr.pem", "key_rsa_size"),
        ("refused--name_internal--dot-local.csr.pem", "name_internal"),
        ("refused--csr_malformed--plain-text.txt", "csr_malformed"),
    ],
)
def test_csr_refusals_are_422_with_the_policy_code_on_the_csr_field(
    api: Api, vector_file: str, code: str
) -> None:
    product_code = "dv-wildcard" if "wildcard" in vector_file else "dv-single"
    csr = vector(vector_file).decode()
    response = api.post("/applications", {"product": product_code, "csr": csr})
    body = assert_problem(response, 422, code, "csr")
    assert body["messages"]["ja"] and body["messages"]["en"]
    if code == "csr_private_key":
        # The refusal never echoes what was sent.
        assert "PRIVATE KEY" not in response.content.decode()
    assert not Application.objects.exists()


def test_a_csr_that_does_not_fit_the_product_is_refused(api: Api) -> None:
    response = api.post("/applications", {"product": "dv-single", "csr": make_csr([SHOP, WWW])})
    assert_problem(response, 422, "profile_single_name", "csr")


@pytest.mark.parametrize("code", ["no-such-product", ""])
def test_an_unknown_product_is_refused(api: Api, code: str) -> None:
    response = api.post("/applications", {"product": code, "csr": make_csr([WWW])})
    assert_problem(response, 422, "product_unavailable", "product")


def test_a_product_off_sale_is_refused(api: Api) -> None:
    off = product("dv-multi")
    off.is_active = False
    off.save()
    assert "dv-multi" not in {p["code"] for p in api.get("/products").json()["items"]}
    response = api.post("/applications", {"product": "dv-multi", "csr": make_csr([WWW])})
    assert_problem(response, 422, "product_unavailable", "product")


def test_ov_needs_an_organisation(api: Api) -> None:
    response = api.post("/applications", {"product": "ov-single", "csr": make_csr([WWW])})
    assert_problem(response, 422, "organization_required", "organization")


def test_an_ov_application_waits_for_the_operators_review(api: Api, customer: User) -> None:
    organization = OrganizationFactory(account=customer.account)
    validate_names(customer.account, [WWW])
    created = api.post(
        "/applications",
        {"product": "ov-single", "csr": make_csr([WWW]), "organization": organization.pk},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organization"] == organization.pk
    assert body["approval"] == "waiting"
    assert body["waiting_for"] == ["approval"]
    assert body["certificate"] is None


def test_another_accounts_organisation_is_not_permitted(api: Api) -> None:
    foreign = OrganizationFactory(account=AccountFactory())
    response = api.post(
        "/applications",
        {"product": "ov-single", "csr": make_csr([WWW]), "organization": foreign.pk},
    )
    assert_problem(response, 422, "organization_not_permitted", "organization")


def test_an_unknown_dcv_method_is_refused(api: Api) -> None:
    response = api.post(
        "/applications", {"product": "dv-single", "csr": make_csr([WWW]), "method": "email"}
    )
    assert_problem(response, 422, "invalid_request", "method")


def test_renewal_of_another_accounts_certificate_is_not_found(api: Api) -> None:
    stranger = member_of(AccountFactory(), User.Role.OWNER)
    foreign = api_issue(stranger, [WWW])
    response = api.post(
        "/applications",
        {"product": "dv-single", "csr": make_csr([WWW]), "renewal_of": foreign},
    )
    assert_problem(response, 404, "certificate_not_found")
    assert_problem(
        api.post(f"/certificates/{foreign}/renew", {"csr": make_csr([WWW])}),
        404,
        "certificate_not_found",
    )


@pytest.mark.parametrize(
    ("reason", "status", "code"),
    [
        ("cACompromise", 422, "revocation_reason_not_allowed"),
        ("certificateHold", 422, "revocation_reason_not_allowed"),
        ("because", 422, "revocation_reason_unknown"),
        (7, 422, "revocation_reason_unknown"),
    ],
)
def test_revocation_reasons_outside_br_7_2_2_are_refused(
    api: Api, customer: User, reason: Any, status: int, code: str
) -> None:
    certificate_id = api_issue(customer)
    response = api.post(f"/certificates/{certificate_id}/revoke", {"reason": reason})
    assert_problem(response, status, code, "reason")
    assert Certificate.objects.get(pk=certificate_id).revoked_at is None


@pytest.mark.parametrize("reason", ["keyCompromise", 1, "1", "key_compromise"])
def test_revocation_reason_by_name_or_code(api: Api, customer: User, reason: Any) -> None:
    certificate_id = api_issue(customer)
    response = api.post(f"/certificates/{certificate_id}/revoke", {"reason": reason})
    assert response.status_code == 200, response.content
    assert response.json()["revocation_reason_name"] == "keyCompromise"
    assert Certificate.objects.get(pk=certificate_id).revocation_reason == 1


def test_an_unknown_download_format_is_refused(api: Api, customer: User) -> None:
    certificate_id = api_issue(customer)
    response = api.get(f"/certificates/{certificate_id}/download", format="pfx")
    assert_problem(response, 422, "invalid_request", "format")


def test_unknown_ids_are_404_problems(api: Api) -> None:
    assert_problem(api.get("/applications/987654"), 404, "application_not_found")
    assert_problem(api.post("/applications/987654/validate"), 404, "application_not_found")
    assert_problem(api.get("/certificates/987654"), 404, "certificate_not_found")
    assert_problem(api.get("/certificates/987654/download"), 404, "certificate_not_found")
    assert_problem(
        api.post("/certificates/987654/revoke", {"reason": "keyCompromise"}),
        404,
        "certificate_not_found",
    )


# ---- lists and query counts ---------------------------------------------------------------


def test_the_application_list_pages_newest_first(api: Api, customer: User) -> None:
    ids = [
        api.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])}).json()["id"]
        for _ in range(5)
    ]
    first = api.get("/applications", limit=2).json()
    assert [a["id"] for a in first["items"]] == ids[::-1][:2]
    second = api.get("/applications", limit=2, cursor=first["next_cursor"]).json()
    assert [a["id"] for a in second["items"]] == ids[::-1][2:4]
    last = api.get("/applications", limit=2, cursor=second["next_cursor"]).json()
    assert [a["id"] for a in last["items"]] == ids[:1]
    assert last["next_cursor"] is None
    assert_problem(api.get("/applications", limit=0), 422, "invalid_request", "limit")


def test_the_application_list_costs_the_same_for_one_or_many(
    api: Api, customer: User, django_assert_max_num_queries: Any
) -> None:
    api.post("/applications", {"product": "dv-single", "csr": make_csr([WWW])})
    api.get("/applications")  # the token's last-use stamp is written once a minute
    with django_assert_max_num_queries(4):
        api.get("/applications")
    validate_names(customer.account, [SHOP])
    for i in range(12):
        names = [SHOP] if i % 2 else [f"host{i}.{SHOP}"]
        api.post("/applications", {"product": "dv-single", "csr": make_csr(names)})
    with django_assert_max_num_queries(4):
        response = api.get("/applications")
    items = response.json()["items"]
    assert len(items) == 13
    # The DNS proof of shop-certdesk.jp covers every host under it: all twelve were issued.
    assert sum(1 for a in items if a["certificate"] is not None) == 12


def test_showing_an_application_with_many_names_costs_a_fixed_number_of_queries(
    api: Api, django_assert_max_num_queries: Any
) -> None:
    names = [SHOP] + [f"host{i}.{SHOP}" for i in range(24)]
    application = api.post("/applications", {"product": "dv-multi", "csr": make_csr(names)}).json()
    assert len(application["dcv"]) == 25
    api.get(f"/applications/{application['id']}")
    with django_assert_max_num_queries(6):
        response = api.get(f"/applications/{application['id']}")
    assert [e["name"] for e in response.json()["dcv"]] == names


def test_showing_a_certificate_costs_a_fixed_number_of_queries(
    api: Api, customer: User, django_assert_max_num_queries: Any
) -> None:
    certificate_id = api_issue(customer)
    api.get(f"/certificates/{certificate_id}")
    with django_assert_max_num_queries(5):
        assert api.get(f"/certificates/{certificate_id}").status_code == 200


# ---- concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_checks_issue_one_certificate(dns_zone: DnsZone) -> None:
    """A double click on "check now", or two scripts at once: the application row lock makes
    one of them issue and the other see the certificate. On PostgreSQL the two truly race."""
    from django.db import connection, connections
    from django.utils import timezone

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the race needs PostgreSQL")
    user = member_of(AccountFactory(), User.Role.OWNER)
    now = timezone.now()
    application = application_create(
        user=user, product_id=product("dv-multi").pk, csr=make_csr([SHOP, WWW]), now=now
    )
    for entry in application.dcv.select_related("validation"):
        dns_zone.add_txt(entry.validation.record_name, entry.validation.token)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def check() -> None:
        barrier.wait()
        try:
            done = application_validate(user=user, application_id=application.pk, now=now)
            results.append(done.status)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == ["issued", "issued"]
    assert Certificate.objects.filter(application=application).count() == 1
    assert Certificate.objects.filter(account=user.account).count() == 1
