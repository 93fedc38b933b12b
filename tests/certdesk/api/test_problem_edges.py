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
