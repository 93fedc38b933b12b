"""Errors reach clients as RFC 7807 problems in both languages; pages carry a strict CSP."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_route_is_a_problem_document(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert set(body["messages"]) == {"ja", "en"}
    assert body["messages"]["ja"] != body["messages"]["en"]


def test_problem_detail_follows_accept_language(client):
    en = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en").json()
    ja = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="ja").json()
    assert en["detail"] == en["messages"]["en"]
    assert ja["detail"] == ja["messages"]["ja"]


def test_unknown_page_is_a_friendly_page_not_json(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert "does not exist" in response.content.decode()


def test_post_without_csrf_token_is_refused_with_an_explanation():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/language/", {"language": "en"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403
    assert "csrf_failed" in response.content.decode()


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_language_switch_changes_the_page_language(client):
    response = client.post("/language/", {"language": "en", "next": "/"}, follow=True)
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    response = client.post("/language/", {"language": "ja", "next": "/"}, follow=True)
    assert '<html lang="ja">' in response.content.decode()


def test_language_switch_refuses_to_redirect_off_site(client):
    response = client.post("/language/", {"language": "en", "next": "https://evil.example.net/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_home_page_explains_the_service_to_a_newcomer(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "apply for TLS server certificates" in body
    assert 'href="/accounts/register/"' in body
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "サーバ証明書" in body
