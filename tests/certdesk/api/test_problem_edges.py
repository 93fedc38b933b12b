"""Refusals that happen before any endpoint runs are problem JSON too, in both languages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.certdesk.api.conftest import Customer

pytestmark = pytest.mark.django_db


def test_unsupported_method_is_a_problem_with_the_allowed_methods(customer: Customer) -> None:
    response = Client(headers=customer.headers).put("/api/v1/account/tokens")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    body = response.json()
    assert body["code"] == "method_not_allowed"
    assert body["status"] == 405
    assert sorted(body["allowed_methods"]) == ["GET", "POST"]
    assert body["detail"] == "このURLではメソッド PUT を使用できません。"
    assert body["messages"]["en"] == "The method PUT is not allowed for this URL."


def test_unsupported_method_without_token_is_still_405(db) -> None:
    response = Client().delete("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_body_that_is_not_json_is_a_problem_in_the_users_language(customer: Customer) -> None:
    client = Client(headers=customer.headers)
    response = client.post(
        "/api/v1/account/tokens", b"\xff{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "malformed_body"
    assert body["detail"] == body["messages"]["ja"]
    assert body["messages"]["ja"].startswith("リクエスト本文を読み取れませんでした")
    assert "UTF-8" in body["messages"]["en"]


def test_portal_pages_keep_their_html_405(customer: Customer) -> None:
    client = Client()
    client.force_login(customer.user)
    response = client.get("/tokens/create/")
    assert response.status_code == 405
    assert not response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("url", "body", "headers", "status", "code"),
    [
        (
            "/api/v1/applications",
            '{"product": "dv-single\\u0000", "csr": "x"}',
            {},
            422,
            "product_unavailable",
        ),
        (
            "/api/v1/applications",
            '{"product": "dv-single", "csr": "x"}',
            {"Idempotency-Key": "k\x00"},
            422,
            "idempotency_key_invalid",
        ),
        (
            "/api/v1/applications/{application}/method",
            '{"name": "www.shop-certdesk.jp\\u0000", "method": "dns"}',
            {},
            404,
            "application_name_not_found",
        ),
    ],
)
def test_a_nul_character_is_a_clear_refusal_on_every_database(
    customer: Customer, url: str, body: str, headers: dict[str, str], status: int, code: str
) -> None:
    """PostgreSQL cannot store or compare U+0000: fields without their own validation must
    still answer a clear 4xx, never a 500."""
    from django.utils import timezone

    from certdesk.certificates.services import application_create
    from tests.certdesk.certificates.factories import make_csr, product

    application = application_create(
        user=customer.user,
        product_id=product("dv-single").pk,
        csr=make_csr(["www.shop-certdesk.jp"]),
        now=timezone.now(),
    )
    client = Client(headers={**customer.headers, **headers})
    response = client.post(
        url.format(application=application.pk), body, content_type="application/json"
    )
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
