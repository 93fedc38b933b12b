"""Sign-in with TOTP on: the second step, recovery codes, lockout, expiry of the step."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from certdesk.mfa.services import mfa_setup_confirm, mfa_setup_start
from tests.certdesk.accounts.conftest import Client, actions, sign_in
from tests.certdesk.mfa.helpers import totp_code, wrong_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(owner, clock) -> TOTPDevice:
    device = mfa_setup_start(user=owner, now=clock())
    codes = mfa_setup_confirm(user=owner, code=totp_code(device, clock()), now=clock())
    device.refresh_from_db()
    device.recovery_codes = codes  # type: ignore[attr-defined]
    clock.tick(seconds=30)
    return device


def second_step(client: Client, code: str):
    return client.post("/accounts/login/code/", {"code": code})


def test_password_alone_does_not_sign_in(owner, device, clock):
    client = Client()
    response = sign_in(client, owner.username)
    assert response["Location"] == "/accounts/login/code/"
    assert SESSION_KEY not in client.session
    assert client.get("/dashboard/").status_code == 302
    assert (
        "認証アプリに表示されているコード" in client.get("/accounts/login/code/").content.decode()
    )


def test_the_code_completes_the_sign_in_and_verifies_the_session(owner, device, clock):
    client = Client()
    sign_in(client, owner.username)
    response = second_step(client, totp_code(device, clock()))
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert int(client.session[SESSION_KEY]) == owner.pk
    assert client.session["otp_device_id"] == device.persistent_id
    assert "login.succeeded" in actions(account=owner.account)


def test_a_wrong_code_is_an_error_and_counts_towards_lockout(owner, device, clock):
    client = Client()
    sign_in(client, owner.username)
    bad = wrong_code(device, clock())
    response = second_step(client, bad)
    assert response.status_code == 401
    assert "コードが正しくありません" in response.content.decode()
    assert SESSION_KEY not in client.session
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES - 1):
        second_step(client, bad)
    locked = second_step(client, totp_code(device, clock()))
    assert locked.status_code == 429
    assert "Retry-After" in locked
    assert SESSION_KEY not in client.session
    assert sign_in(Client(), owner.username).status_code == 429


def test_a_recovery_code_signs_in_once(owner, device, clock):
    code = device.recovery_codes[0]
    client = Client()
    sign_in(client, owner.username)
    assert second_step(client, code).status_code == 302
    page = client.get("/dashboard/").content.decode()
    assert "リカバリーコードでログインしました" in page
    again = Client()
    sign_in(again, owner.username)
    assert second_step(again, code).status_code == 401


def test_the_second_step_expires(owner, device, clock):
    client = Client()
    sign_in(client, owner.username)
    clock.tick(minutes=6)
    response = second_step(client, totp_code(device, clock()))
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session


def test_the_second_step_without_a_password_goes_to_sign_in(db, clock):
    response = Client().get("/accounts/login/code/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_the_api_token_endpoint_uses_the_same_check(owner, device, clock):
    from tests.certdesk.accounts.conftest import ApiClient

    missing = ApiClient(None).post(
        "/api/v1/auth/token", {"username": owner.username, "password": "Shomeisho-Kanri-2026!"}
    )
    assert missing.json()["code"] == "otp_required"
    ok = ApiClient(None).post(
        "/api/v1/auth/token",
        {
            "username": owner.username,
            "password": "Shomeisho-Kanri-2026!",
            "otp": totp_code(device, clock()),
        },
    )
    assert ok.status_code == 201
