"""Email verification links: single use, expiry, superseded links, "send again" limits."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import EmailToken, User
from tests.certdesk.accounts.conftest import Client, actions
from tests.certdesk.accounts.factories import UserFactory, registration_data

pytestmark = pytest.mark.django_db


def registered(client: Client | None = None, **overrides: object) -> tuple[Client, User, str]:
    client = client or Client()
    client.post("/accounts/register/", registration_data(**overrides))
    user = User.objects.get(username="tanaka-web")
    path = re.search(r"http://testserver(/accounts/verify/[\w-]+/)", mail.outbox[-1].body).group(1)
    return client, user, path


def test_opening_the_link_confirms_the_address_and_removes_the_banner(clock):
    client, user, link = registered()
    response = client.get(link)
    assert response.status_code == 200
    assert "メールアドレスを確認しました" in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at == clock()
    assert "email.verified" in actions(account=user.account)
    dashboard = client.get("/dashboard/").content.decode()
    assert "メールアドレスの確認が完了していません" not in dashboard


def test_a_used_link_says_so(clock):
    client, user, link = registered()
    client.get(link)
    again = Client().get(link)
    assert again.status_code == 410
    body = again.content.decode()
    assert "このリンクは既に使用されています" in body and "link_used" in body


def test_an_expired_link_says_so_and_changes_nothing(clock):
    client, user, link = registered()
    clock.tick(hours=24)
    response = client.get(link)
    assert response.status_code == 410
    assert "有効期限が切れています" in response.content.decode()
    assert "link_expired" in response.content.decode()
    user.refresh_from_db()
    assert not user.email_verified
    assert 'href="/accounts/verify/resend/"' in response.content.decode()


def test_an_expired_link_is_explained_in_english_to_an_english_browser(clock):
    client, user, link = registered(language="en")
    clock.tick(hours=25)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(link)
    assert "This link has expired" in response.content.decode()


def test_a_link_that_is_not_ours_is_invalid(clock):
    response = Client().get("/accounts/verify/not-a-real-token-at-all/")
    assert response.status_code == 404
    assert "link_invalid" in response.content.decode()


def test_send_again_sends_a_new_link_and_is_rate_limited(clock):
    client, user, first_link = registered()
    assert client.get("/accounts/verify/resend/").status_code == 200
    clock.tick(seconds=61)
    response = client.post("/accounts/verify/resend/")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert mail.outbox[-1].to == [user.email]
    too_soon = client.post("/accounts/verify/resend/")
    assert too_soon.status_code == 429
    assert 0 < int(too_soon["Retry-After"]) <= 60
    assert "先ほどリンクを送信しました" in too_soon.content.decode()
    assert len(mail.outbox) == 2
    # The old link still works (it has not expired): either link confirms the address.
    assert client.get(first_link).status_code == 200


def test_send_again_stops_after_six_links_a_day(clock):
    client, user, _ = registered()
    for _n in range(5):
        clock.tick(seconds=61)
        assert client.post("/accounts/verify/resend/").status_code == 302
    clock.tick(seconds=61)
    response = client.post("/accounts/verify/resend/")
    assert response.status_code == 429
    assert "過去24時間に6件のリンクを送信しました" in response.content.decode()
    assert EmailToken.objects.filter(user=user).count() == 6


def test_send_again_needs_sign_in(clock):
    response = Client().post("/accounts/verify/resend/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_send_again_for_a_verified_user_changes_nothing(clock):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/verify/resend/")
    assert response.status_code == 409
    assert "既に確認済み" in response.content.decode()
    assert mail.outbox == []


def test_a_link_for_an_address_that_was_changed_since_is_superseded(clock):
    client, user, link = registered()
    User.objects.filter(pk=user.pk).update(email="changed@example.jp")
    response = client.get(link)
    assert response.status_code == 410
    assert "link_superseded" in response.content.decode()
