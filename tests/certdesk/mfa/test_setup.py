"""Turning TOTP on and off, and recovery codes (terms article 2.6)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from certdesk.accounts.models import User
from certdesk.core.errors import InvalidInput
from certdesk.mfa.models import RecoveryCode
from certdesk.mfa.services import (
    mfa_enabled,
    mfa_setup_confirm,
    mfa_setup_start,
    mfa_verify,
)
from tests.certdesk.accounts.conftest import actions
from tests.certdesk.accounts.factories import PASSWORD
from tests.certdesk.mfa.helpers import totp_code, wrong_code

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>")


def start(client) -> TOTPDevice:
    assert client.post("/mfa/setup/").status_code == 302
    return TOTPDevice.objects.get(confirmed=False)


def enable(client, clock) -> tuple[TOTPDevice, list[str]]:
    device = start(client)
    response = client.post("/mfa/setup/confirm/", {"code": totp_code(device, clock())})
    assert response.status_code == 200
    return device, CODE_RE.findall(response.content.decode())


def test_settings_page_offers_set_up_when_off(owner, signed_in, clock):
    body = signed_in(owner).get("/mfa/").content.decode()
    assert "二要素認証を設定する" in body
    assert not mfa_enabled(owner)


def test_set_up_shows_an_inline_svg_qr_code_and_the_typed_secret(owner, signed_in, clock):
    client = signed_in(owner)
    device = start(client)
    response = client.get("/mfa/setup/")
    body = response.content.decode()
    assert '<div class="qr" role="img"' in body and "<svg" in body and "<path" in body
    assert "<script" not in body and "style=" not in body
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in body
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not mfa_enabled(owner)


def test_a_wrong_code_enables_nothing(owner, signed_in, clock):
    client = signed_in(owner)
    device = start(client)
    response = client.post("/mfa/setup/confirm/", {"code": wrong_code(device, clock())})
    assert response.status_code == 422
    assert "コードが正しくありません" in response.content.decode()
    assert not mfa_enabled(owner)
    assert not RecoveryCode.objects.exists()
    assert "mfa.enabled" not in actions()


def test_a_wrong_code_is_explained_in_english_to_an_english_user(db, signed_in, clock):
    from tests.certdesk.accounts.factories import UserFactory

    user = UserFactory(language="en")
    client = signed_in(user)
    device = start(client)
    response = client.post("/mfa/setup/confirm/", {"code": wrong_code(device, clock())})
    assert "The code is not correct" in response.content.decode()


def test_the_right_code_turns_it_on_and_shows_ten_codes_once(owner, signed_in, clock):
    client = signed_in(owner)
    device, codes = enable(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed and mfa_enabled(owner)
    stored = list(RecoveryCode.objects.filter(user=owner).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in stored)
    assert "mfa.enabled" in actions(account=owner.account)
    assert mail.outbox[-1].subject == "[certdesk] 二要素認証が有効になりました"
    page = client.get("/mfa/").content.decode()
    assert not CODE_RE.search(page)
    assert "残りのリカバリーコード" in page


def test_set_up_cannot_start_twice_once_on(owner, signed_in, clock):
    client = signed_in(owner)
    enable(client, clock)
    response = client.post("/mfa/setup/", follow=True)
    assert "二要素認証は既に有効です" in response.content.decode()
    assert TOTPDevice.objects.filter(user=owner).count() == 1


def test_the_same_code_is_never_accepted_twice(owner, clock):
    device = mfa_setup_start(user=owner, now=clock())
    mfa_setup_confirm(user=owner, code=totp_code(device, clock()), now=clock())
    clock.tick(seconds=30)
    code = totp_code(device, clock())
    assert mfa_verify(user=owner, code=code, now=clock())
    assert not mfa_verify(user=owner, code=code, now=clock())


def test_codes_one_step_off_are_accepted_two_steps_off_are_not(owner, clock):
    device = mfa_setup_start(user=owner, now=clock())
    mfa_setup_confirm(user=owner, code=totp_code(device, clock()), now=clock())
    clock.tick(minutes=5)
    assert not mfa_verify(user=owner, code=totp_code(device, clock(), steps=-2), now=clock())
    assert not mfa_verify(user=owner, code=totp_code(device, clock(), steps=2), now=clock())
    assert mfa_verify(user=owner, code=totp_code(device, clock(), steps=-1), now=clock())


def test_a_recovery_code_works_once_and_is_audited(
    owner, signed_in, clock, django_capture_on_commit_callbacks
):
    _device, codes = enable(signed_in(owner), clock)
    with django_capture_on_commit_callbacks(execute=True):
        assert mfa_verify(user=owner, code=codes[0].upper().replace("-", " "), now=clock())
    assert not mfa_verify(user=owner, code=codes[0], now=clock())
    assert RecoveryCode.objects.filter(user=owner, used_at=clock()).count() == 1
    assert "mfa.recovery_code_used" in actions(account=owner.account)
    assert mail.outbox[-1].subject == "[certdesk] リカバリーコードが使用されました"
    assert "残りのリカバリーコードは9個です" in mail.outbox[-1].body


def test_regenerating_needs_the_password_and_replaces_every_code(owner, signed_in, clock):
    client = signed_in(owner)
    _device, old = enable(client, clock)
    wrong = client.post("/mfa/recovery-codes/", {"regenerate-password": "nope"})
    assert wrong.status_code == 422
    assert "パスワードが正しくありません" in wrong.content.decode()
    response = client.post("/mfa/recovery-codes/", {"regenerate-password": PASSWORD})
    new = CODE_RE.findall(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert not mfa_verify(user=owner, code=old[0], now=clock())
    assert mfa_verify(user=owner, code=new[0], now=clock())
    assert "mfa.recovery_codes_regenerated" in actions(account=owner.account)


def test_disabling_needs_password_and_a_current_code(owner, signed_in, clock):
    client = signed_in(owner)
    device, _codes = enable(client, clock)
    clock.tick(seconds=60)
    no_code = client.post(
        "/mfa/disable/", {"disable-password": PASSWORD, "disable-code": wrong_code(device, clock())}
    )
    assert no_code.status_code == 422
    assert mfa_enabled(owner)
    bad_password = client.post(
        "/mfa/disable/",
        {"disable-password": "nope", "disable-code": totp_code(device, clock())},
    )
    assert bad_password.status_code == 422
    assert mfa_enabled(owner)
    response = client.post(
        "/mfa/disable/",
        {"disable-password": PASSWORD, "disable-code": totp_code(device, clock())},
    )
    assert response.status_code == 302
    assert not mfa_enabled(owner)
    assert not RecoveryCode.objects.filter(user=owner).exists()
    assert "mfa.disabled" in actions(account=owner.account)
    assert mail.outbox[-1].subject == "[certdesk] 二要素認証が無効にされました"


def test_a_recovery_code_can_turn_it_off_when_the_phone_is_lost(owner, signed_in, clock):
    client = signed_in(owner)
    _device, codes = enable(client, clock)
    response = client.post(
        "/mfa/disable/", {"disable-password": PASSWORD, "disable-code": codes[3]}
    )
    assert response.status_code == 302
    assert not mfa_enabled(owner)


def test_the_service_refuses_a_wrong_code_with_a_field_error(owner, clock):
    device = mfa_setup_start(user=owner, now=clock())
    with pytest.raises(InvalidInput) as excinfo:
        mfa_setup_confirm(user=owner, code=wrong_code(device, clock()), now=clock())
    assert (excinfo.value.code, excinfo.value.field) == ("otp_invalid", "code")


def test_an_unconfirmed_device_is_not_two_factor(owner, clock):
    mfa_setup_start(user=owner, now=clock())
    assert not mfa_enabled(owner)
    assert not mfa_verify(user=owner, code="123456", now=clock())


def test_pages_need_sign_in(db):
    from tests.certdesk.accounts.conftest import Client

    assert Client().get("/mfa/").status_code == 302
    assert Client().post("/mfa/setup/").status_code == 302


def test_mfa_is_per_user(owner, signed_in, clock):
    from tests.certdesk.accounts.factories import member_of

    colleague = member_of(owner.account, User.Role.ADMIN)
    enable(signed_in(owner), clock)
    assert not mfa_enabled(colleague)
    assert "二要素認証を設定する" in signed_in(colleague).get("/mfa/").content.decode()
