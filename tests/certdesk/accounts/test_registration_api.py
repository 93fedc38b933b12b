"""POST /api/v1/accounts and /api/v1/accounts/verify-email: same rules as the portal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from certdesk.accounts.models import Account, User
from certdesk.terms.models import TermsAcceptance
from tests.certdesk.accounts.conftest import ApiClient, actions
from tests.certdesk.accounts.factories import UserFactory, api_registration

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts"


def post(body: dict, **extra: str):
    client = ApiClient(None).client
    return client.post(URL, data=body, content_type="application/json", **extra)


def counts() -> tuple[int, int]:
    return Account.objects.count(), User.objects.count()


def link_token() -> str:
    return re.search(r"/accounts/verify/([\w-]+)/", mail.outbox[-1].body).group(1)


def test_register_returns_201_with_the_account_and_sends_the_link(clock):
    response = post(api_registration(language="en"))
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "tanaka-web"
    assert body["user"]["role"] == "owner"
    assert body["user"]["email_verified"] is False
    assert body["account"]["organization_name"] == "株式会社タナカ商事"
    assert body["account"]["number"].startswith("A")
    assert body["verification_email_sent_to"] == "hanako.tanaka@tanaka-shoji.example.jp"
    assert TermsAcceptance.objects.get().user.username == "tanaka-web"
    assert mail.outbox[0].subject == "[certdesk] Please confirm your email address"


def test_language_defaults_to_the_request_language(clock):
    body = api_registration()
    body.pop("language")
    ApiClient(None).client.post(
        URL, data=body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert User.objects.get().language == "en"


def test_verify_email_over_the_api_is_single_use(clock):
    post(api_registration())
    token = link_token()
    first = ApiClient(None).post(URL + "/verify-email", {"token": token})
    assert first.status_code == 200
    assert first.json()["email_verified"] is True
    again = ApiClient(None).post(URL + "/verify-email", {"token": token})
    assert again.status_code == 410
    assert again.json()["code"] == "link_used"
    assert again["Content-Type"] == "application/problem+json"


def test_expired_and_unknown_tokens_are_refused(clock):
    post(api_registration())
    token = link_token()
    clock.tick(hours=24, seconds=1)
    expired = ApiClient(None).post(URL + "/verify-email", {"token": token})
    assert (expired.status_code, expired.json()["code"]) == (410, "link_expired")
    assert (
        expired.json()["messages"]["ja"]
        == "このリンクは有効期限が切れています。新しいリンクをご請求ください。"
    )
    unknown = ApiClient(None).post(URL + "/verify-email", {"token": "x" * 43})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "link_invalid")
    assert not User.objects.get().email_verified


def test_duplicate_account_id_is_a_problem_with_a_stable_code(clock):
    UserFactory(username="tanaka-web")
    before = counts()
    response = post(api_registration(username="Tanaka-Web", email="new@example.jp"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "account_id_taken"
    assert problem["field"] == "username"
    assert problem["detail"] == "このアカウントIDは既に使われています。別のIDをお選びください。"
    assert (
        problem["messages"]["en"] == "This account ID is already taken. Please choose another one."
    )
    assert counts() == before


def test_duplicate_email_is_email_taken(clock):
    UserFactory(email="hanako.tanaka@tanaka-shoji.example.jp")
    response = post(api_registration(email="HANAKO.TANAKA@tanaka-shoji.example.jp"))
    assert (response.status_code, response.json()["code"]) == (422, "email_taken")


def test_weak_password_lists_the_validator_messages(clock):
    response = post(api_registration(password="12345678"), HTTP_ACCEPT_LANGUAGE="en")
    problem = response.json()
    assert problem["code"] == "password_weak"
    messages = [e["message"] for e in problem["errors"] if e["field"] == "password"]
    assert any("too short" in m for m in messages)
    assert any("entirely numeric" in m for m in messages)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "not-an-address", "invalid_email"),
        ("phone", "call me", "invalid_phone"),
        ("full_name", "名" * 10_000, "field_too_long"),
        ("address", "a" * 301, "field_too_long"),
        ("username", "x" * 10_000, "field_too_long"),
        ("username", "_bad", "invalid_account_id"),
        ("username", "support", "account_id_reserved"),
        ("postal_code", "〒100", "invalid_postal_code"),
        ("language", "de", "invalid_language"),
        ("organization_name", "", "field_required"),
        ("address", "大阪市\x00北区", "invalid_characters"),
        ("full_name", "\x07bell", "invalid_characters"),
    ],
)
def test_bad_fields_are_problems_naming_the_field(clock, field, value, code):
    response = post(api_registration(**{field: value}))
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["field"]) == (code, field)
    assert counts() == (0, 0)


def test_several_errors_are_all_listed(clock):
    response = post(api_registration(email="nope", phone="1", full_name=""))
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"email", "phone", "full_name"} <= fields


def test_terms_must_be_accepted_and_current(clock):
    refused = post(api_registration(accept_terms=False))
    assert refused.json()["code"] == "terms_not_accepted"
    outdated = post(api_registration(terms_version=99))
    assert outdated.json()["code"] == "terms_outdated"
    assert outdated.json()["terms_version"] == 1
    assert counts() == (0, 0)


def test_malformed_json_is_a_problem_not_a_500(clock):
    response = ApiClient(None).client.post(URL, data="{", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"
    missing = post({"username": "abc"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "invalid_request"


def test_register_is_audited_with_the_ip(clock):
    ApiClient(None).client.post(
        URL, data=api_registration(), content_type="application/json", REMOTE_ADDR="198.51.100.9"
    )
    account = Account.objects.get()
    assert actions(account=account) == ["terms.accepted", "account.registered"]
    assert account.created_at == clock()
    assert clock() - account.data_confirmed_at < timedelta(seconds=1)
