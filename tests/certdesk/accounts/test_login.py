"""Sign-in (terms 2.4, 2.6): lockout after repeated failures, no user enumeration, disabled
users, sign-out, and the ``credentials_check`` service the API token endpoint reuses."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from certdesk.accounts.models import Account, User
from certdesk.accounts.services import credentials_check, login_failure_record
from certdesk.audit.models import AuditEvent
from certdesk.core.errors import AuthenticationFailed, PermissionDenied, RateLimited
from tests.certdesk.accounts.conftest import ApiClient, Client, actions, sign_in
from tests.certdesk.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "Wrong-Password-2026!"


def test_sign_in_lands_on_the_dashboard_with_an_httponly_device_cookie(owner, clock):
    client = Client()
    response = sign_in(client, owner.username.upper())
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert int(client.session[SESSION_KEY]) == owner.pk
    cookie = response.cookies["certdesk_device"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "login.succeeded" in actions(account=owner.account)


def test_sign_in_follows_a_local_next_but_not_another_site(owner, clock):
    local = Client().post(
        "/accounts/login/?next=/accounts/profile/",
        {"username": owner.username, "password": PASSWORD},
    )
    assert local["Location"] == "/accounts/profile/"
    other = Client().post(
        "/accounts/login/?next=https://evil.example/",
        {"username": owner.username, "password": PASSWORD},
    )
    assert other["Location"] == "/dashboard/"


def test_wrong_password_and_unknown_id_get_the_same_answer(owner, clock):
    wrong = sign_in(Client(), owner.username, WRONG)
    unknown = sign_in(Client(), "nobody-here", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    message = "アカウントIDまたはパスワードが正しくありません。"
    assert message in wrong.content.decode() and message in unknown.content.decode()
    assert SESSION_KEY not in Client().session
    failed = AuditEvent.objects.filter(action="login.failed").order_by("pk")
    assert [e.data["username"] for e in failed] == [owner.username, "nobody-here"]


def test_english_browser_gets_english_errors(owner, clock):
    response = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), owner.username, WRONG)
    assert "The account ID or the password is not correct." in response.content.decode()


def test_repeated_failures_lock_the_id_with_429_retry_after_and_the_time(owner, clock):
    client = Client()
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        assert sign_in(client, owner.username, WRONG).status_code == 401
    locked = sign_in(client, owner.username, PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.CERTDESK_LOGIN_LOCKOUT_SECONDS
    body = locked.content.decode()
    assert "ログイン失敗が多すぎるため" in body
    assert "約15分間" in body
    assert SESSION_KEY not in client.session
    assert actions(action="login.locked") == ["login.locked"]


def test_the_lock_ends_after_the_lockout_and_the_count_starts_again(owner, clock):
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        sign_in(Client(), owner.username, WRONG)
    clock.tick(seconds=settings.CERTDESK_LOGIN_LOCKOUT_SECONDS - 1)
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 429
    clock.tick(seconds=1)
    # One more failure after the lock is not a new lockout: the old failures no longer count.
    assert sign_in(Client(), owner.username, WRONG).status_code == 401
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 302


def test_failures_outside_the_window_do_not_add_up(owner, clock):
    limit = settings.CERTDESK_LOGIN_MAX_FAILURES
    for _n in range(limit - 1):
        sign_in(Client(), owner.username, WRONG)
    clock.tick(seconds=settings.CERTDESK_LOGIN_FAILURE_WINDOW + 1)
    for _n in range(limit - 1):
        assert sign_in(Client(), owner.username, WRONG).status_code == 401
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(owner, clock):
    limit = settings.CERTDESK_LOGIN_MAX_FAILURES
    for _n in range(limit - 1):
        sign_in(Client(), owner.username, WRONG)
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 302
    for _n in range(limit - 1):
        assert sign_in(Client(), owner.username, WRONG).status_code == 401
    assert sign_in(Client(), owner.username, PASSWORD).status_code == 302


def test_unknown_ids_are_locked_too(db, clock):
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        sign_in(Client(), "ghost", WRONG)
    assert sign_in(Client(), "ghost", WRONG).status_code == 429


def test_the_lock_is_per_id(owner, clock):
    other = UserFactory()
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES):
        sign_in(Client(), owner.username, WRONG)
    assert sign_in(Client(), other.username).status_code == 302


def test_disabled_user_cannot_sign_in(owner, clock):
    User.objects.filter(pk=owner.pk).update(is_active=False)
    response = sign_in(Client(), owner.username)
    assert response.status_code == 403
    assert "お客様のユーザーは無効にされているため" in response.content.decode()
    assert actions(action="login.refused") == ["login.refused"]


def test_disabled_account_cannot_sign_in(owner, clock):
    Account.objects.filter(pk=owner.account_id).update(status=Account.Status.DISABLED)
    response = sign_in(Client(), owner.username)
    assert response.status_code == 403
    assert "このアカウントは無効にされているため" in response.content.decode()


def test_a_disabled_user_with_a_wrong_password_learns_nothing(owner, clock):
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert sign_in(Client(), owner.username, WRONG).status_code == 401


def test_oversized_input_is_a_normal_refusal(owner, clock):
    response = sign_in(Client(), "x" * 10_000, "y" * 10_000)
    assert response.status_code == 401


def test_control_characters_in_the_id_are_a_normal_refusal(owner, clock):
    response = ApiClient(None).post(
        "/api/v1/auth/token", {"username": owner.username + "\x00", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert sign_in(Client(), "nul\x00id", WRONG).status_code in (401, 422)


def test_operators_sign_in_here_too(db, clock):
    operator = UserFactory(account=None, is_staff=True, username="unyou")
    response = sign_in(Client(), operator.username)
    assert response.status_code == 302


def test_sign_out_is_post_only_and_audited(owner, clock):
    client = Client()
    client.force_login(owner)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert "logout" in actions(account=owner.account)


def test_csrf_less_sign_in_is_refused(owner, clock):
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": owner.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "csrf_failed" in response.content.decode()


# ---- the service ---------------------------------------------------------------------------


def test_credentials_check_returns_the_user(owner, clock):
    user = credentials_check(
        username=owner.username, password=PASSWORD, ip="192.0.2.5", now=clock()
    )
    assert user == owner


def test_credentials_check_raises_the_documented_errors(owner, clock):
    with pytest.raises(AuthenticationFailed) as wrong:
        credentials_check(username=owner.username, password=WRONG, ip=None, now=clock())
    assert wrong.value.code == "invalid_credentials"
    for _n in range(settings.CERTDESK_LOGIN_MAX_FAILURES - 1):
        login_failure_record(username=owner.username, ip=None, now=clock())
    with pytest.raises(RateLimited) as locked:
        credentials_check(username=owner.username, password=PASSWORD, ip=None, now=clock())
    assert locked.value.code == "login_locked"
    assert locked.value.retry_after == settings.CERTDESK_LOGIN_LOCKOUT_SECONDS
    disabled = UserFactory(is_active=False)
    with pytest.raises(PermissionDenied) as refused:
        credentials_check(username=disabled.username, password=PASSWORD, ip=None, now=clock())
    assert refused.value.code == "account_disabled"


def test_a_failure_is_counted_even_though_the_caller_refuses(owner, clock):
    with pytest.raises(AuthenticationFailed):
        credentials_check(username=owner.username, password=WRONG, ip="192.0.2.9", now=clock())
    event = AuditEvent.objects.get(action="login.failed")
    assert event.ip == "192.0.2.9" and event.account == owner.account
