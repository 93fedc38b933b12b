"""Article 2.4: a sign-in from a device or IP address not seen before is emailed to the user."""

from __future__ import annotations

import pytest
from django.core import mail

from certdesk.accounts.models import KnownDevice
from tests.certdesk.accounts.conftest import Client, sign_in
from tests.certdesk.accounts.factories import UserFactory, registration_data

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"


def alerts() -> list:
    return [
        m
        for m in mail.outbox
        if "新しい端末からのログイン" in m.subject or "New sign-in" in m.subject
    ]


def test_the_first_sign_in_does_not_alert_and_the_same_browser_never_does(owner, clock):
    browser = Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=UA)
    sign_in(browser, owner.username)
    browser.post("/accounts/logout/")
    clock.tick(days=3)
    sign_in(browser, owner.username)
    assert alerts() == []
    device = KnownDevice.objects.get(user=owner)
    assert (device.ip, device.user_agent, device.last_seen_at) == ("192.0.2.10", UA, clock())


def test_a_new_browser_is_emailed_with_time_ip_and_browser(owner, clock):
    sign_in(Client(REMOTE_ADDR="192.0.2.10"), owner.username)
    sign_in(Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=UA), owner.username)
    [alert] = alerts()
    assert alert.to == [owner.email]
    assert alert.subject == "[certdesk] 新しい端末からのログインがありました"
    assert "192.0.2.10" in alert.body and UA in alert.body
    assert "お心当たりがない場合" in alert.body
    assert "http://testserver/accounts/password/change/" in alert.body


def test_a_known_browser_from_a_new_ip_is_emailed(owner, clock):
    browser = Client(REMOTE_ADDR="192.0.2.10")
    sign_in(browser, owner.username)
    browser.post("/accounts/logout/")
    browser.defaults["REMOTE_ADDR"] = "198.51.100.77"
    sign_in(browser, owner.username)
    [alert] = alerts()
    assert "198.51.100.77" in alert.body


def test_the_alert_is_in_the_users_language(db, clock):
    user = UserFactory(language="en")
    sign_in(Client(REMOTE_ADDR="192.0.2.10"), user.username)
    sign_in(Client(REMOTE_ADDR="203.0.113.5"), user.username)
    [alert] = alerts()
    assert alert.subject == "[certdesk] New sign-in to your user"
    assert "If it was not you" in alert.body


def test_registration_counts_as_the_first_sign_in(clock):
    browser = Client(REMOTE_ADDR="192.0.2.10")
    browser.post("/accounts/register/", registration_data())
    browser.post("/accounts/logout/")
    sign_in(browser, "tanaka-web")
    assert alerts() == []
    sign_in(Client(REMOTE_ADDR="203.0.113.5"), "tanaka-web")
    assert len(alerts()) == 1


def test_a_forged_device_cookie_counts_as_a_new_device(owner, clock):
    browser = Client(REMOTE_ADDR="192.0.2.10")
    sign_in(browser, owner.username)
    known = KnownDevice.objects.get(user=owner).device_id
    forged = Client(REMOTE_ADDR="192.0.2.10")
    forged.cookies["certdesk_device"] = known  # unsigned: not accepted
    sign_in(forged, owner.username)
    assert len(alerts()) == 1
    assert KnownDevice.objects.filter(user=owner).count() == 2


def test_the_profile_lists_the_users_own_recent_sign_ins(owner, clock):
    other = UserFactory()
    sign_in(Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="OtherBrowser/1.0"), other.username)
    browser = Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=UA)
    sign_in(browser, owner.username)
    page = browser.get("/accounts/profile/").content.decode()
    assert "最近のログイン" in page and "192.0.2.10" in page
    assert "198.51.100.23" not in page and "OtherBrowser" not in page
