"""Password reset by email and password change (both audited, both notified)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail

from certdesk.accounts.models import EmailToken, User
from tests.certdesk.accounts.conftest import Client, actions, sign_in
from tests.certdesk.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW = "Atarashii-Pasuwado-77"
WRONG = "Wrong-Password-2026!"


def request_reset(email: str, client: Client | None = None):
    return (client or Client()).post("/accounts/password/reset/", {"email": email})


def reset_path() -> str:
    return re.search(
        r"http://testserver(/accounts/password/reset/[\w-]+/)", mail.outbox[-1].body
    ).group(1)


def test_reset_mails_a_link_and_says_the_same_for_unknown_addresses(owner, clock):
    known = request_reset(owner.email.upper())
    unknown = request_reset("nobody@example.jp")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password/reset/sent/"
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == "[certdesk] パスワードの再設定"
    assert owner.username in message.body
    page = Client().get("/accounts/password/reset/sent/").content.decode()
    assert "このメールアドレスのユーザーが存在する場合" in page


def test_a_malformed_address_is_a_field_error(db, clock):
    response = request_reset("not-an-address")
    assert response.status_code == 422
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once(owner, clock):
    request_reset(owner.email)
    path = reset_path()
    assert Client().get(path).status_code == 200
    response = Client().post(path, {"password": NEW, "password_confirm": NEW})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    owner.refresh_from_db()
    assert owner.check_password(NEW)
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 401
    assert sign_in(Client(), owner.username, NEW).status_code == 302
    assert "password.reset" in actions(account=owner.account)
    assert mail.outbox[-1].subject == "[certdesk] パスワードが変更されました"
    used = Client().get(path)
    assert used.status_code == 410
    assert "このリンクは既に使用されています" in used.content.decode()


def test_an_expired_reset_link_is_refused(owner, clock):
    request_reset(owner.email)
    path = reset_path()
    clock.tick(hours=settings.CERTDESK_EMAIL_TOKEN_HOURS, seconds=1)
    response = Client().post(path, {"password": NEW, "password_confirm": NEW})
    assert response.status_code == 410
    assert "有効期限が切れています" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_and_the_link_stays_usable(owner, clock):
    request_reset(owner.email)
    path = reset_path()
    weak = Client().post(path, {"password": "abc", "password_confirm": "abc"})
    assert weak.status_code == 422
    assert "このパスワードは短すぎます" in weak.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert Client().post(path, {"password": NEW, "password_confirm": NEW}).status_code == 302


def test_a_reset_unlocks_a_locked_id(owner, clock):
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        sign_in(Client(), owner.username, WRONG)
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 429
    request_reset(owner.email)
    Client().post(reset_path(), {"password": NEW, "password_confirm": NEW})
    assert sign_in(Client(), owner.username, NEW).status_code == 302


def test_a_new_password_ends_other_reset_links(owner, clock):
    request_reset(owner.email)
    first = reset_path()
    request_reset(owner.email)
    second = reset_path()
    Client().post(second, {"password": NEW, "password_confirm": NEW})
    assert Client().get(first).status_code == 410


def test_reset_mails_are_capped_per_hour(owner, clock):
    for _n in range(5):
        request_reset(owner.email)
    assert len(mail.outbox) == 3
    clock.tick(hours=1, seconds=1)
    request_reset(owner.email)
    assert len(mail.outbox) == 4


def test_disabled_users_get_no_reset_mail(owner, clock):
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert request_reset(owner.email).status_code == 302
    assert mail.outbox == []


def test_reset_mail_is_in_the_users_language(db, clock):
    user = UserFactory(language="en")
    request_reset(user.email)
    assert mail.outbox[0].subject == "[certdesk] Reset your password"


def test_reset_link_is_stored_only_as_a_hash(owner, clock):
    request_reset(owner.email)
    secret = reset_path().rstrip("/").rsplit("/", 1)[1]
    assert not EmailToken.objects.filter(token_hash__contains=secret).exists()


# ---- change ---------------------------------------------------------------------------------


def change(client: Client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/accounts/password/change/",
        {"current_password": current, "new_password": new, "new_password_confirm": confirm or new},
    )


def test_change_needs_the_current_password(owner, signed_in, clock):
    client = signed_in(owner)
    response = change(client, WRONG, NEW)
    assert response.status_code == 422
    assert "パスワードが正しくありません" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_change_refuses_weak_and_unchanged_passwords(owner, signed_in, clock):
    client = signed_in(owner)
    weak = change(client, PASSWORD, "password1234")
    assert weak.status_code == 422
    assert "一般的すぎます" in weak.content.decode()
    same = change(client, PASSWORD, PASSWORD)
    assert "現在のパスワードと異なるもの" in same.content.decode()
    mismatch = change(client, PASSWORD, NEW, "Other-Password-99")
    assert "2つのパスワードが一致しません" in mismatch.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_change_keeps_the_session_notifies_and_audits(owner, signed_in, clock):
    client = signed_in(owner)
    response = change(client, PASSWORD, NEW)
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(NEW)
    assert "password.changed" in actions(account=owner.account)
    assert mail.outbox[-1].subject == "[certdesk] パスワードが変更されました"


def test_other_sessions_end_when_the_password_changes(owner, signed_in, clock):
    other = signed_in(owner)
    change(signed_in(owner), PASSWORD, NEW)
    assert other.get("/accounts/profile/").status_code == 302


def test_guessing_the_current_password_counts_towards_lockout(owner, signed_in, clock):
    client = signed_in(owner)
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        change(client, WRONG, NEW)
    response = change(client, PASSWORD, NEW)
    assert response.status_code == 429
    assert "Retry-After" in response
