"""In a real browser: a refused registration shows every error next to its field in the page's
language and saves nothing; the language switcher saves a signed-in user's language."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.e2e.test_foundation_flow import (
    PASSWORD,
    assert_page_language,
    heading,
    sign_in,
)
from tests.e2e.texts import TEXTS


def register_customer(username: str, email: str, language: str):  # type: ignore[no-untyped-def]
    from certdesk.accounts.services import Registration, account_register

    return account_register(
        data=Registration(
            username=username,
            password=PASSWORD,
            full_name="佐藤 一郎",
            organization_name="佐藤商事株式会社",
            postal_code="530-0001",
            address="大阪府大阪市北区梅田1-1-1",
            email=email,
            phone="06-1234-5678",
            language=language,
            terms_version=1,
            accept_terms=True,
        ),
        ip="127.0.0.1",
        now=timezone.now(),
    )


def field_errors(page, field_id: str) -> str:  # type: ignore[no-untyped-def]
    """The error list inside the same ``.field`` box as the input ``field_id``."""
    box = page.locator(".field.has-error").filter(has=page.locator(f"#{field_id}"))
    assert box.count() == 1, f"no error box around #{field_id}"
    return box.locator(".errorlist").inner_text()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_registration_with_weak_password_and_taken_id_shows_both_errors_and_saves_nothing(
    lang, live_server, page_for, shots_for
):  # type: ignore[no-untyped-def]
    from certdesk.accounts.models import Account, User
    from certdesk.notifications.models import OutboundEmail
    from certdesk.terms.models import TermsAcceptance

    t = TEXTS[lang]
    shot = shots_for(f"e2e_{lang}_refusal")
    register_customer(f"sato-{lang}", f"sato.{lang}@example.jp", "ja")
    before = (
        User.objects.count(),
        Account.objects.count(),
        TermsAcceptance.objects.count(),
        OutboundEmail.objects.count(),
    )

    page = page_for(lang)
    page.goto(live_server.url + "/accounts/register/")
    page.get_by_label(t["account_id"], exact=True).fill(f"sato-{lang}")
    page.get_by_label(t["password"], exact=True).fill("abcdefghijkm")
    page.get_by_label(t["password_again"], exact=True).fill("abcdefghijkm")
    page.get_by_label(t["full_name"], exact=True).fill("鈴木 次郎")
    page.get_by_label(t["organization_name"], exact=True).fill("鈴木工業株式会社")
    page.get_by_label(t["postal_code"], exact=True).fill("460-0008")
    page.get_by_label(t["address"], exact=True).fill("愛知県名古屋市中区栄1-1-1")
    page.get_by_label(t["email"], exact=True).fill(f"suzuki.{lang}@example.jp")
    page.get_by_label(t["phone"], exact=True).fill("052-123-4567")
    page.get_by_label(t["accept_terms"]).check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=t["create_account"], exact=True).click()
    assert posted.value.status == 422
    page.wait_for_load_state()

    assert page.url == live_server.url + "/accounts/register/"
    assert_page_language(page, lang)
    assert heading(page) == t["register_h1"]
    assert t["correct_fields"] in page.locator("main form .notice.error").inner_text()
    assert t["id_taken"] in field_errors(page, "id_username")
    assert t["password_variety"] in field_errors(page, "id_password")
    # Only those two fields are marked; what the person typed is kept (passwords excepted).
    assert page.locator(".field.has-error").count() == 2
    assert page.get_by_label(t["account_id"], exact=True).input_value() == f"sato-{lang}"
    assert page.get_by_label(t["email"], exact=True).input_value() == f"suzuki.{lang}@example.jp"
    assert page.get_by_label(t["accept_terms"]).is_checked()
    page.locator("#id_username_error").scroll_into_view_if_needed()
    shot(page, "register_refused")

    after = (
        User.objects.count(),
        Account.objects.count(),
        TermsAcceptance.objects.count(),
        OutboundEmail.objects.count(),
    )
    assert after == before
    assert not User.objects.filter(email=f"suzuki.{lang}@example.jp").exists()


@pytest.mark.django_db(transaction=True)
def test_language_switch_when_signed_in_saves_the_users_language(live_server, page_for, shots_for):  # type: ignore[no-untyped-def]
    from certdesk.audit.models import AuditEvent

    ja, en = TEXTS["ja"], TEXTS["en"]
    shot = shots_for("e2e_ja_language")
    user = register_customer("yamada", "yamada@example.jp", "ja")

    page = page_for("ja")
    page.goto(live_server.url + "/accounts/login/")
    sign_in(page, live_server, ja, "yamada", PASSWORD)
    page.wait_for_url(live_server.url + "/dashboard/")
    assert_page_language(page, "ja")
    assert heading(page) == ja["dashboard_h1"]
    shot(page, "dashboard_ja")

    page.locator("header .lang-switch").get_by_role("button", name=ja["switch_language"]).click()
    page.wait_for_url(live_server.url + "/dashboard/")
    assert_page_language(page, "en")
    assert heading(page) == en["dashboard_h1"]
    shot(page, "dashboard_en")
    user.refresh_from_db()
    assert user.language == "en"
    changed = AuditEvent.objects.get(action="user.language_changed", actor=user)
    assert changed.data == {"from": "ja", "to": "en"}

    # Saved, not just remembered by this browser: a new browser that asks for Japanese gets
    # English once the user signs in.
    other = page_for("ja")
    other.goto(live_server.url + "/accounts/login/")
    assert_page_language(other, "ja")
    sign_in(other, live_server, ja, "yamada", PASSWORD)
    other.wait_for_url(live_server.url + "/dashboard/")
    assert_page_language(other, "en")
    assert heading(other) == en["dashboard_h1"]

    page.locator("header .lang-switch").get_by_role("button", name=en["switch_language"]).click()
    page.wait_for_url(live_server.url + "/dashboard/")
    assert_page_language(page, "ja")
    user.refresh_from_db()
    assert user.language == "ja"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pages_fit_a_phone_screen(lang, live_server, page_for, shots_for):  # type: ignore[no-untyped-def]
    """Nothing is wider than a 375px phone: every screenshot checks the page's width."""
    t = TEXTS[lang]
    shot = shots_for(f"e2e_{lang}_phone")
    register_customer(f"kato-{lang}", f"kato.{lang}@example.jp", lang)
    page = page_for(lang, width=375, height=740)
    for path, name in (("/", "home"), ("/accounts/register/", "register"), ("/terms/", "terms")):
        page.goto(live_server.url + path)
        assert_page_language(page, lang)
        shot(page, name)
    page.goto(live_server.url + "/accounts/login/")
    sign_in(page, live_server, t, f"kato-{lang}", PASSWORD)
    page.wait_for_url(live_server.url + "/dashboard/")
    assert heading(page) == t["dashboard_h1"]
    shot(page, "dashboard")
    page.goto(live_server.url + "/mfa/")
    page.get_by_role("button", name=t["mfa_setup_button"], exact=True).click()
    page.wait_for_url(live_server.url + "/mfa/setup/")
    shot(page, "mfa_setup")
