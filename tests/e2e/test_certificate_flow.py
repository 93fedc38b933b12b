"""A customer gets a certificate in a real browser, in Japanese and in English: apply with a
CSR, publish the DNS TXT record the page asks for (in the lab DNS server), press "Check now",
download the full chain and verify it with openssl, then revoke the certificate."""

from __future__ import annotations

import re
import subprocess
from importlib import import_module
from pathlib import Path

import pytest

from tests.certdesk.certificates.factories import make_csr
from tests.e2e.test_foundation_flow import PASSWORD, assert_page_language, heading, sign_in
from tests.e2e.test_refusal_and_language import register_customer
from tests.e2e.texts import CERTIFICATE_TEXTS, TEXTS

NAMES = {"ja": "www.shop-certdesk.jp", "en": "www.example-shop.co.jp"}


@pytest.fixture
def products(transactional_db) -> None:  # type: ignore[no-untyped-def]
    """Transactional tests empty every table when they end, the products the data migration
    made included; put them back so this test starts from the installed state."""
    from django.apps import apps

    import_module("certdesk.certificates.migrations.0004_default_products").create(apps, None)


def messages_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("ul.messages").inner_text() if page.locator("ul.messages").count() else ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_customer_applies_validates_by_dns_downloads_and_revokes(
    lang, live_server, page_for, shots_for, dns_zone, products, tmp_path: Path
):  # type: ignore[no-untyped-def]
    from certdesk.certificates.models import Application, Certificate
    from certdesk.suppliers.builtin import builtin_ca

    t, c = TEXTS[lang], CERTIFICATE_TEXTS[lang]
    name = NAMES[lang]
    shot = shots_for(f"e2e_{lang}_certificate")
    register_customer(f"suzuki-{lang}", f"suzuki.{lang}@shop-certdesk.jp", lang)
    page = page_for(lang)

    # ---- sign in and open the apply page from the navigation -----------------------------
    page.goto(live_server.url + "/accounts/login/")
    sign_in(page, live_server, t, f"suzuki-{lang}", PASSWORD)
    page.wait_for_url(live_server.url + "/dashboard/")
    page.locator("header").get_by_role("link", name=c["apply_nav"], exact=True).click()
    page.wait_for_url(live_server.url + "/certificates/apply/")
    assert_page_language(page, lang)
    assert heading(page) == c["apply_h1"]
    assert c["price_single"] in page.locator("main").inner_text()
    assert c["key_never_leaves"] in page.locator("#no-csr").inner_text()
    shot(page, "apply")

    # ---- "No CSR yet?": the openssl command with the customer's names ----------------------
    page.get_by_label(c["helper_names"], exact=True).fill(f"{name} {name.removeprefix('www.')}")
    page.get_by_role("button", name=c["show_command"], exact=True).click()
    page.wait_for_url(re.compile(r".*helper-names=.*"))
    command = page.locator("pre.cert-command").inner_text()
    assert command.startswith("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256")
    assert f'-subj "/CN={name}"' in command
    assert f"subjectAltName=DNS:{name},DNS:{name.removeprefix('www.')}" in command
    shot(page, "apply_openssl_command")

    # ---- apply with a CSR ------------------------------------------------------------------
    product_label = "DV 証明書 (1 ドメイン)" if lang == "ja" else "DV certificate (single name)"
    page.locator("label.cert-product").filter(has_text=product_label).click()
    page.get_by_label(c["csr"], exact=True).fill(make_csr([name]))
    shot(page, "apply_filled")
    page.get_by_role("button", name=c["apply"], exact=True).click()
    page.wait_for_url(re.compile(r".*/certificates/applications/\d+/$"))
    application = Application.objects.get(names=[name])
    assert heading(page) == c["application_h1"].format(number=application.number)
    assert c["received"] in messages_text(page)
    assert c["dns_instructions"] in page.locator("main").inner_text()
    assert c["not_validated"] in page.locator("article.cert-dcv h3").inner_text()
    record_name, value = page.locator("article.cert-dcv code.cert-copy").all_inner_texts()
    assert record_name == f"_pki-validation.{name}"
    assert len(value) == 64
    shot(page, "application_dns_instructions")

    # ---- the customer publishes the record; "Check now" issues the certificate --------------
    dns_zone.add_txt(record_name, value)
    page.get_by_role("button", name=c["check_now"], exact=True).click()
    page.wait_for_url(live_server.url + f"/certificates/applications/{application.pk}/")
    assert c["issued"] in messages_text(page)
    shot(page, "application_issued")
    page.get_by_role("link", name=c["open_certificate"], exact=True).click()
    certificate = Certificate.objects.get(application=application)
    page.wait_for_url(live_server.url + f"/certificates/{certificate.pk}/")
    assert heading(page).startswith(c["certificate_h1"].format(name=name))
    assert page.locator("main h1 .badge").inner_text() == c["valid"]
    assert certificate.serial_colon_hex in page.locator("main").inner_text()
    first_download = page.locator(".cert-downloads li").first
    assert c["recommended"] in first_download.inner_text()
    # The per-server instructions open without scripts (<details>) and name the files.
    for summary in page.locator("details.cert-server summary").all():
        summary.click()
    nginx = page.locator("details.cert-server").filter(has_text="nginx").inner_text()
    assert f"ssl_certificate     /etc/ssl/certs/{name}.fullchain.pem;" in nginx
    tomcat = page.locator("details.cert-server").filter(has_text="Tomcat").inner_text()
    assert f"keytool -importcert -alias tomcat -trustcacerts -file {name}.p7b" in tomcat
    shot(page, "certificate")

    # ---- download the full chain and verify it ------------------------------------------------
    with page.expect_download() as downloading:
        first_download.locator("a").click()
    download = downloading.value
    assert download.suggested_filename == f"{name}.fullchain.pem"
    fullchain = tmp_path / download.suggested_filename
    download.save_as(fullchain)
    ca = builtin_ca()
    (tmp_path / "root.pem").write_text(ca.root.pem)
    (tmp_path / "issuing.pem").write_text(ca.issuing.pem)
    verified = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "issuing.pem"),
            str(fullchain),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == f"{fullchain}: OK"

    # ---- revoke it ---------------------------------------------------------------------------
    page.get_by_role("link", name=c["revoke_link"], exact=True).click()
    page.wait_for_url(live_server.url + f"/certificates/{certificate.pk}/revoke/")
    assert heading(page) == c["revoke_h1"]
    page.get_by_label(c["reason_key_compromise"], exact=True).check()
    page.get_by_label(c["revoke_confirm"], exact=True).check()
    shot(page, "revoke")
    page.get_by_role("button", name=c["revoke_button"], exact=True).click()
    page.wait_for_url(live_server.url + f"/certificates/{certificate.pk}/")
    assert c["revoked_message"] in messages_text(page)
    assert page.locator("main h1 .badge").inner_text() == c["revoked"]
    shot(page, "certificate_revoked")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revocation_reason == 1

    # ---- the application list shows the issued application -----------------------------------
    page.goto(live_server.url + "/certificates/applications/")
    assert heading(page) == c["applications_h1"]
    assert application.number in page.locator("table.list").inner_text()
    shot(page, "applications")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_certificate_pages_fit_a_phone_screen(lang, live_server, page_for, shots_for, products):  # type: ignore[no-untyped-def]
    """The apply, application and certificate pages are no wider than a 375px phone (each
    screenshot checks the page's width)."""
    from django.utils import timezone

    from certdesk.accounts.models import User
    from certdesk.certificates.models import Application
    from certdesk.certificates.services import application_create
    from tests.certdesk.certificates.factories import issue_certificate, product

    t = TEXTS[lang]
    shot = shots_for(f"e2e_{lang}_certificate_phone")
    register_customer(f"ito-{lang}", f"ito.{lang}@shop-certdesk.jp", lang)
    user = User.objects.get(username=f"ito-{lang}")
    certificate = issue_certificate(user, [NAMES[lang]])
    base = NAMES[lang].removeprefix("www.")
    pending = application_create(
        user=user,
        product_id=product("dv-wildcard").pk,
        csr=make_csr([f"*.{base}", base]),
        now=timezone.now(),
    )
    assert pending.status == Application.Status.PENDING

    page = page_for(lang, width=375, height=740)
    page.goto(live_server.url + "/accounts/login/")
    sign_in(page, live_server, t, f"ito-{lang}", PASSWORD)
    page.wait_for_url(live_server.url + "/dashboard/")
    for path, step in (
        (f"/certificates/apply/?helper-names={NAMES[lang]}&helper-key=ec", "apply"),
        (f"/certificates/applications/{pending.pk}/", "application"),
        (f"/certificates/{certificate.pk}/", "certificate"),
    ):
        page.goto(live_server.url + path)
        assert_page_language(page, lang)
        shot(page, step)
