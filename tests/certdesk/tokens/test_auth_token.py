"""POST /api/v1/auth/token: a token from account ID + password (+ TOTP), with lockout."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from certdesk.accounts.models import Account, User
from certdesk.tokens.models import ApiToken
from tests.certdesk.members.conftest import ApiClient
from tests.certdesk.members.factories import PASSWORD, member_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token"


def request_token(**body):
    return Client().post(URL, data=body, content_type="application/json")


def totp_code(device: TOTPDevice, at) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at.timestamp()
    return f"{totp.token():0{device.digits}d}"


def test_password_gives_a_token_with_role_scopes_and_90_days(owner, clock):
    response = request_token(username=owner.username, password=PASSWORD)
    assert response.status_code == 201
    body = response.json()
    assert body["scopes"] == [
        "account:read",
        "account:write",
        "certificates:read",
        "certificates:write",
        "billing:read",
    ]
    assert body["expires_at"].startswith((clock() + timezone.timedelta(days=90)).date().isoformat())
    assert body["name"] == "API (auth/token)"
    assert ApiClient(body["secret"]).get("/api/v1/account/tokens").status_code == 200


def test_read_only_member_gets_read_scopes_and_may_narrow_them(owner):
    reader = member_of(owner.account, "read_only")
    body = request_token(username=reader.username, password=PASSWORD).json()
    assert body["scopes"] == ["account:read", "certificates:read", "billing:read"]
    narrowed = request_token(
        username=reader.username,
        password=PASSWORD,
        scopes=["certificates:read"],
        name="ci",
        expires_in_days=7,
    ).json()
    assert (narrowed["scopes"], narrowed["name"]) == (["certificates:read"], "ci")
    refused = request_token(username=reader.username, password=PASSWORD, scopes=["account:write"])
    assert refused.status_code == 422
    assert refused.json()["code"] == "scope_not_allowed"


def test_wrong_password_is_401_and_creates_nothing(owner):
    response = request_token(username=owner.username, password="wrong-Password-1")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_repeated_failures_lock_the_account_id_with_retry_after(owner):
    for _ in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        assert (
            request_token(username=owner.username, password="wrong-Password-1").status_code == 401
        )
    locked = request_token(username=owner.username, password=PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert locked.json()["code"] == "login_locked"
    assert not ApiToken.objects.exists()


def test_totp_is_required_when_enabled(owner, clock):
    device = TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    missing = request_token(username=owner.username, password=PASSWORD)
    assert missing.status_code == 401
    assert missing.json()["code"] == "otp_required"

    wrong_code = f"{(int(totp_code(device, clock())) + 1) % 1000000:06d}"
    wrong = request_token(username=owner.username, password=PASSWORD, otp=wrong_code)
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "otp_invalid"
    assert not ApiToken.objects.exists()

    good = request_token(username=owner.username, password=PASSWORD, otp=totp_code(device, clock()))
    assert good.status_code == 201


def test_guessing_totp_codes_counts_towards_lockout(owner, clock):
    device = TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    wrong_code = f"{(int(totp_code(device, clock())) + 1) % 1000000:06d}"
    for _ in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        request_token(username=owner.username, password=PASSWORD, otp=wrong_code)
    locked = request_token(
        username=owner.username, password=PASSWORD, otp=totp_code(device, clock())
    )
    assert locked.status_code == 429
    assert not ApiToken.objects.exists()


def test_disabled_account_gets_no_token(owner):
    Account.objects.filter(pk=owner.account_id).update(status=Account.Status.DISABLED)
    response = request_token(username=owner.username, password=PASSWORD)
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"
    assert not ApiToken.objects.exists()


def test_removed_member_gets_no_token(owner):
    member = member_of(owner.account, "member")
    User.objects.filter(pk=member.pk).update(is_active=False)
    response = request_token(username=member.username, password=PASSWORD)
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"
    assert not ApiToken.objects.exists()


def test_malformed_body_is_422(db):
    response = request_token(username="x")
    assert response.status_code == 422
    assert response.json()["field"] == "password"
