"""A customer's first days, in a real browser, in Japanese and in English: register, confirm
the email address, sign in, turn on two-factor authentication, sign in with a code, and accept
the new terms of use the operator publishes."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.e2e.conftest import totp_code
from tests.e2e.texts import SUMMARY_EN, SUMMARY_JA, TEXTS

LANGUAGES = ["ja", "en"]
PASSWORD = "Kabu-Shiki 2026!"


def heading(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("main h1").first.inner_text().strip()


def messages_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("ul.messages").inner_text() if page.locator("ul.messages").count() else ""


def assert_page_language(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == lang


def path_of(page, live_server) -> str:  # type: ignore[no-untyped-def]
    return page.url.removeprefix(live_server.url)


def sign_in(page, live_server, t: dict[str, str], username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label(t["account_id"], exact=True).fill(username)
    page.get_by_label(t["password"], exact=True).fill(password)
    page.locator("main").get_by_role("button", name=t["sign_in"], exact=True).click()


def sign_out(page, t: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.locator("header").get_by_role(
        "button", name=re.compile("^" + re.escape(t["sign_out"]))
    ).click()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_customer_registers_verifies_turns_on_mfa_and_accepts_new_terms(
    lang, live_server, page_for, shots_for, mail_to
):  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from certdesk.accounts.models import User
    from certdesk.audit.models import AuditEvent
    from certdesk.core.sweep import sweep_run
    from certdesk.mfa.models import RecoveryCode
    from certdesk.terms.models import TermsAcceptance, TermsVersion

    t = TEXTS[lang]
    shot = shots_for(f"e2e_{lang}")
    username = f"tanaka-{lang}"
    email = f"tanaka.{lang}@shop-certdesk.jp"
    page = page_for(lang)

    # ---- register ---------------------------------------------------------------------
    page.goto(live_server.url + "/accounts/register/")
    assert_page_language(page, lang)
    assert heading(page) == t["register_h1"]
    shot(page, "register")
    page.get_by_label(t["account_id"], exact=True).fill(username)
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_label(t["password_again"], exact=True).fill(PASSWORD)
    page.get_by_label(t["full_name"], exact=True).fill(
        "田中 花子" if lang == "ja" else "Hanako Tanaka"
    )
    page.get_by_label(t["organization_name"], exact=True).fill(
        "株式会社ショップ" if lang == "ja" else "Shop K.K."
    )
    page.get_by_label(t["postal_code"], exact=True).fill("100-0005")
    page.get_by_label(t["address"], exact=True).fill("東京都千代田区丸の内1-1-1")
    page.get_by_label(t["email"], exact=True).fill(email)
    page.get_by_label(t["phone"], exact=True).fill("03-1234-5678")
    assert page.get_by_label(t["language"], exact=True).input_value() == lang
    page.get_by_label(t["accept_terms"]).check()
    shot(page, "register_filled")
    page.get_by_role("button", name=t["create_account"], exact=True).click()

    page.wait_for_url(live_server.url + "/dashboard/")
    assert heading(page) == t["dashboard_h1"]
    assert t["welcome"] in messages_text(page)
    assert email in messages_text(page)
    assert t["unverified"] in page.locator("main").inner_text()
    shot(page, "dashboard_unverified")

    user = User.objects.select_related("account").get(username=username)
    assert user.language == lang
    assert user.email_verified_at is None
    assert user.role == User.Role.OWNER
    first = TermsAcceptance.objects.get(user=user)
    assert first.version.number == 1
    assert first.ip == "127.0.0.1"
    assert first.account_id == user.account_id

    message, queued = mail_to(email, "accounts/email/verify")
    assert queued.language == lang
    assert message.subject == t["verify_subject"]
    link = re.search(r"https?://\S+(/accounts/verify/[^/\s]+/)", message.body)
    assert link is not None, message.body

    # ---- sign out, open the link from the email ------------------------------------------
    sign_out(page, t)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + link.group(1))
    assert heading(page) == t["verified_h1"]
    assert email in page.locator("main .lead").inner_text()
    assert t["verified_lead"] in page.locator("main .lead").inner_text()
    shot(page, "email_verified")
    user.refresh_from_db()
    assert user.email_verified_at is not None

    # ---- sign in with the password ------------------------------------------------------
    page.locator("main").get_by_role("link", name=t["sign_in"], exact=True).click()
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    assert heading(page) == t["login_h1"]
    shot(page, "login")
    sign_in(page, live_server, t, username, PASSWORD)
    page.wait_for_url(live_server.url + "/dashboard/")
    assert heading(page) == t["dashboard_h1"]
    assert t["unverified"] not in page.locator("main").inner_text()
    shot(page, "dashboard_verified")

    # ---- turn on two-factor authentication ------------------------------------------------
    page.goto(live_server.url + "/mfa/")
    assert heading(page) == t["mfa_h1"]
    assert page.locator("#status-heading .badge").inner_text() == t["mfa_off"]
    shot(page, "mfa_off")
    page.get_by_role("button", name=t["mfa_setup_button"], exact=True).click()
    page.wait_for_url(live_server.url + "/mfa/setup/")
    assert heading(page) == t["mfa_setup_h1"]
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text()
    shot(page, "mfa_setup")
    page.get_by_label(t["code"], exact=True).fill(totp_code(secret))
    page.get_by_role("button", name=t["turn_on"], exact=True).click()

    page.wait_for_url(live_server.url + "/mfa/setup/confirm/")
    assert heading(page) == t["recovery_h1"]
    assert t["mfa_now_on"] in page.locator("main").inner_text()
    codes = page.locator("ol.secret li code").all_inner_texts()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    shot(page, "mfa_recovery_codes")
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    message, queued = mail_to(email, "mfa/email/mfa_enabled")
    assert message.subject == t["mfa_enabled_subject"]
    assert queued.language == lang

    page.get_by_role("link", name=t["codes_saved"], exact=True).click()
    page.wait_for_url(live_server.url + "/mfa/")
    assert page.locator("#status-heading .badge").inner_text() == t["mfa_on"]
    shot(page, "mfa_on")

    # ---- sign out and in again: password, then the code ------------------------------------
    sign_out(page, t)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/accounts/login/")
    sign_in(page, live_server, t, username, PASSWORD)
    page.wait_for_url(live_server.url + "/accounts/login/code/")
    assert heading(page) == t["second_step_h1"]
    assert page.locator("main .lead").inner_text() == t["second_step_lead"]
    shot(page, "login_code")
    # The code of the step after the one used to turn it on: a step's code is accepted once.
    device.refresh_from_db()
    page.get_by_label(t["code"], exact=True).fill(totp_code(secret, step=device.last_t + 1))
    page.get_by_role("button", name=t["verify_and_sign_in"], exact=True).click()
    page.wait_for_url(live_server.url + "/dashboard/")
    assert heading(page) == t["dashboard_h1"]
    shot(page, "dashboard_after_code")
    signed_in = AuditEvent.objects.filter(action="login.succeeded", actor=user).order_by("-pk")
    assert signed_in.first().data["method"] == "totp"

    # ---- the operator publishes version 2 and emails every customer -------------------------
    User.objects.create_user(
        f"operator-{lang}",
        PASSWORD,
        email=f"operator.{lang}@certdesk.example",
        full_name="運用 太郎",
        is_staff=True,
        language=lang,
    )
    console = page_for(lang)
    console.goto(live_server.url + "/accounts/login/")
    sign_in(console, live_server, t, f"operator-{lang}", PASSWORD)
    console.wait_for_url(live_server.url + "/console/")
    assert console.locator("header").get_by_role("link", name=t["console"]).count() == 1
    shot(console, "operator_console")
    console.goto(live_server.url + "/console/terms/new/")
    assert heading(console) == t["terms_new_h1"]
    # The form starts from version 1's text; the operator renames it and adds the summary.
    for label, old, new in (
        (t["body_ja"], "（第1版）", "（第2版）"),
        (t["body_en"], "(version 1)", "(version 2)"),
    ):
        body = console.get_by_label(label, exact=True)
        assert old in body.input_value()
        body.fill(body.input_value().replace(old, new, 1))
    console.get_by_label(t["summary_ja"], exact=True).fill(SUMMARY_JA)
    console.get_by_label(t["summary_en"], exact=True).fill(SUMMARY_EN)
    shot(console, "operator_terms_draft")
    console.get_by_role("button", name=t["save_draft"], exact=True).click()
    console.wait_for_url(live_server.url + "/console/terms/2/")
    assert heading(console) == t["terms_version_h1"]
    assert t["draft_saved"] in messages_text(console)
    console.get_by_role("button", name=t["publish"], exact=True).click()
    console.wait_for_url(live_server.url + "/console/terms/2/")
    assert t["published"] in messages_text(console)
    console.get_by_role("button", name=t["schedule_notice"], exact=True).click()
    console.wait_for_url(live_server.url + "/console/terms/2/")
    assert t["notice_scheduled"] in messages_text(console)
    shot(console, "operator_terms_published")
    version = TermsVersion.objects.get(number=2)
    assert version.published_at is not None
    assert version.summary_ja == SUMMARY_JA
    assert version.body_ja.startswith("certdesk 利用規約（第2版）")

    # The periodic sweep (``certdesk sweep``) emails the notice: the version is in effect now.
    sweep_run(now=timezone.now())
    message, queued = mail_to(email, "terms/email/new_version")
    assert message.subject == t["terms_subject"]
    assert queued.language == lang

    # ---- the customer's next page asks for the new terms -------------------------------------
    page.goto(live_server.url + "/dashboard/")
    page.wait_for_url(re.compile(r".*/terms/accept/\?next=%2Fdashboard%2F$"))
    assert heading(page) == t["terms_changed_h1"]
    assert page.get_by_role("heading", name=t["what_changed"]).count() == 1
    assert t["summary"] in page.locator("main").inner_text()
    assert t["terms_v2_first_line"] in page.locator(".terms-text").inner_text()
    shot(page, "terms_accept")
    page.get_by_role("button", name=t["accept"], exact=True).click()
    page.wait_for_url(live_server.url + "/dashboard/")
    assert heading(page) == t["dashboard_h1"]
    assert t["accepted"] in messages_text(page)
    shot(page, "dashboard_terms_accepted")
    second = TermsAcceptance.objects.get(user=user, version=version)
    assert second.ip == "127.0.0.1"
    assert second.account_id == user.account_id
