"""The certificate portal pages: apply, follow the application through domain validation
against the lab DNS and HTTP servers, then look at, download, renew and revoke the certificate.
"""

from __future__ import annotations

import re
import subprocess
from html import escape
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext

from certdesk.accounts.models import User
from certdesk.certificates.models import Application, Certificate
from certdesk.certificates.services import application_create, application_validate
from certdesk.suppliers.builtin import builtin_ca
from certdesk.validation.lookups import MESSAGES
from certdesk.validation.models import DomainValidation
from tests.certdesk.certificates.factories import (
    OrganizationFactory,
    issue_certificate,
    make_csr,
    member_of,
    product,
)

pytestmark = pytest.mark.django_db

SHOP = "shop-certdesk.jp"
WWW = "www.shop-certdesk.jp"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def apply(client, names: list[str], *, code: str = "dv-single", **extra):  # type: ignore[no-untyped-def]
    data = {"product": product(code).pk, "csr": make_csr(names), "method": "dns", **extra}
    return client.post("/certificates/apply/", data)


def applied(owner: User) -> Application:
    return Application.objects.filter(account=owner.account).latest("id")


# --- applying -------------------------------------------------------------------------------


def test_apply_page_shows_products_with_prices_and_the_csr_help(owner, portal_as):
    page = text(portal_as(owner).get("/certificates/apply/"))
    assert "証明書を申請" in page
    assert "DV 証明書 (1 ドメイン)" in page
    assert "3,300 円（税抜）" in page
    assert "CSR をお持ちでない場合" in page
    assert "BR" in page or "6.1.1.3" in page
    assert "IIS" in page and "Complete Certificate Request" in page
    assert 'href="/organizations/"' in page


def test_apply_page_in_english(owner, portal_as):
    owner.language = "en"
    owner.save(update_fields=["language"])
    page = text(portal_as(owner).get("/certificates/apply/"))
    assert "Apply for a certificate" in page
    assert "DV certificate (single name)" in page
    assert "¥3,300 (before tax)" in page


def test_csr_helper_fills_the_openssl_command_with_the_names(owner, portal_as):
    response = portal_as(owner).get(
        "/certificates/apply/", {"helper-names": f"{WWW}, {SHOP}", "helper-key": "ec"}
    )
    page = text(response)
    expected = (
        f"openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        f"-keyout {WWW}.key -out {WWW}.csr -subj &quot;/CN={WWW}&quot; "
        f"-addext &quot;subjectAltName=DNS:{WWW},DNS:{SHOP}&quot;"
    )
    assert expected in page


def test_csr_helper_refuses_a_name_that_is_not_a_domain(owner, portal_as):
    response = portal_as(owner).get(
        "/certificates/apply/", {"helper-names": "server01.local; rm -rf", "helper-key": "ec"}
    )
    assert response.context["command"] is None
    assert response.context["helper"].errors["names"]
    assert "openssl req" not in text(response)


def test_apply_with_a_pasted_csr_shows_the_dns_instructions(owner, portal_as, clock):
    client = portal_as(owner)
    response = apply(client, [WWW])
    application = applied(owner)
    assert response.status_code == 302
    assert response["Location"] == f"/certificates/applications/{application.pk}/"
    page = text(client.get(response["Location"]))
    validation = DomainValidation.objects.get(account=owner.account, name=WWW)
    assert f"_pki-validation.{WWW}" in page
    assert validation.token in page
    assert "TXT" in page
    assert "今すぐ確認" in page
    assert application.number in page


def test_apply_with_an_uploaded_der_csr(owner, portal_as):
    der = x509.load_pem_x509_csr(make_csr([WWW]).encode()).public_bytes(serialization.Encoding.DER)
    response = portal_as(owner).post(
        "/certificates/apply/",
        {
            "product": product("dv-single").pk,
            "csr_file": SimpleUploadedFile("www.csr", der),
            "method": "dns",
        },
    )
    assert response.status_code == 302
    assert applied(owner).names == [WWW]


def test_csr_refused_by_the_core_shows_its_message_next_to_the_field(owner, portal_as):
    response = apply(portal_as(owner), ["intranet.local"])
    assert response.status_code == 422
    errors = response.context["form"].errors["csr"]
    assert errors and ".local" in errors[0]
    assert 'id="id_csr_error"' in text(response)
    assert not Application.objects.exists()


def test_missing_product_and_csr_are_reported_per_field(owner, portal_as):
    response = portal_as(owner).post("/certificates/apply/", {"method": "dns"})
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"product", "csr"}


def test_a_pasted_private_key_is_refused_with_a_warning_and_never_shown_back(owner, portal_as):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    body_line = pem.splitlines()[1]
    dv = product("dv-single").pk
    attempts = [
        {"product": dv, "csr": pem},
        # Even with the product missing too, the key is caught and dropped from the form.
        {"csr": pem},
        # A CSR with its key pasted under it: the key still counts as sent.
        {"product": dv, "csr": make_csr([WWW], private_key=key) + pem},
        {"product": dv, "csr_file": SimpleUploadedFile("server.key", der)},
    ]
    for data in attempts:
        response = portal_as(owner).post("/certificates/apply/", {**data, "method": "dns"})
        page = text(response)
        assert response.status_code == 422
        assert "漏えいしたもの" in page
        assert "cert-key-warning" in page
        assert body_line not in page
        assert "PRIVATE KEY" not in page
        assert (
            "CERTIFICATE REQUEST-----\n" not in page.split("<textarea")[1].split("</textarea>")[0]
        )
    assert not Application.objects.exists()


def test_ov_needs_a_verified_organisation_of_the_account(owner, portal_as):
    client = portal_as(owner)
    response = apply(client, [WWW], code="ov-single")
    assert response.status_code == 422
    assert response.context["form"].errors["organization"]

    pending = OrganizationFactory(account=owner.account, status="pending")
    response = apply(client, [WWW], code="ov-single", organization=pending.pk)
    assert response.status_code == 422
    assert response.context["form"].errors["organization"] == [
        gettext(
            "The organisation has not been verified yet. Certificates can be applied for "
            "it once the operator has verified it."
        )
    ]

    others = OrganizationFactory()
    response = apply(client, [WWW], code="ov-single", organization=others.pk)
    assert response.status_code == 422
    assert response.context["form"].errors["organization"]
    assert not Application.objects.exists()


def test_ov_application_waits_for_the_operators_review(owner, portal_as, dns_zone):
    organization = OrganizationFactory(account=owner.account)
    client = portal_as(owner)
    apply(client, [WWW], code="ov-single", organization=organization.pk)
    application = applied(owner)
    validation = DomainValidation.objects.get(account=owner.account, name=WWW)
    dns_zone.add_txt(validation.record_name, validation.token)
    client.post(f"/certificates/applications/{application.pk}/validate/")
    page = text(client.get(f"/certificates/applications/{application.pk}/"))
    assert "オペレーターの審査待ち" in page
    assert not Certificate.objects.exists()


# --- validation and issuance ----------------------------------------------------------------


def test_check_now_twice_issues_one_certificate(owner, portal_as, dns_zone):
    client = portal_as(owner)
    apply(client, [WWW, SHOP], code="dv-multi")
    application = applied(owner)
    url = f"/certificates/applications/{application.pk}/"

    response = client.post(url + "validate/", follow=True)
    assert escape(MESSAGES["dcv_dns_no_record"]) in text(response)
    assert not Certificate.objects.exists()

    for validation in DomainValidation.objects.filter(account=owner.account):
        dns_zone.add_txt(validation.record_name, validation.token)
    client.post(url + "validate/")
    response = client.post(url + "validate/", follow=True)
    certificate = Certificate.objects.get()
    assert certificate.application == application
    assert f'href="/certificates/{certificate.pk}/"' in text(response)
    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED


def test_a_name_can_switch_to_the_http_file_and_be_validated_by_it(owner, portal_as, http_site):
    http_site.add_host(WWW)
    client = portal_as(owner)
    apply(client, [WWW])
    application = applied(owner)
    url = f"/certificates/applications/{application.pk}/"
    response = client.post(url + "method/", {"name": WWW, "method": "http"}, follow=True)
    page = text(response)
    validation = application.dcv.get().validation
    assert validation.method == DomainValidation.Method.HTTP
    assert validation.http_url in page
    assert validation.token in page

    http_site.serve(f"/.well-known/pki-validation/{validation.http_filename}", validation.token)
    client.post(url + "validate/")
    assert Certificate.objects.filter(application=application).exists()


def test_a_wildcard_is_not_offered_the_http_file(owner, portal_as):
    client = portal_as(owner)
    apply(client, [f"*.{SHOP}", WWW], code="dv-wildcard", method="http")
    application = applied(owner)
    response = client.get(f"/certificates/applications/{application.pk}/")
    # The wildcard is validated by DNS whatever was asked; the other name by the HTTP file.
    groups = {tuple(group.names): group for group in response.context["groups"]}
    wildcard, www = groups[(f"*.{SHOP}",)], groups[(WWW,)]
    assert wildcard.validation.method == "dns" and not wildcard.can_switch
    assert www.validation.method == "http" and www.can_switch
    refused = client.post(
        f"/certificates/applications/{application.pk}/method/",
        {"name": f"*.{SHOP}", "method": "http"},
        follow=True,
    )
    assert gettext("A wildcard name can only be validated with a DNS TXT record.") in text(refused)
    assert application.dcv.get(name=f"*.{SHOP}").validation.method == "dns"


def test_caa_refusal_is_explained_on_the_application(owner, portal_as, dns_zone):
    dns_zone.add_caa(SHOP, "issue", "other-ca.example.net")
    client = portal_as(owner)
    apply(client, [WWW])
    application = applied(owner)
    validation = application.dcv.get().validation
    dns_zone.add_txt(validation.record_name, validation.token)
    response = client.post(f"/certificates/applications/{application.pk}/validate/", follow=True)
    assert response.context["blocked_message"] == str(MESSAGES["caa_forbidden"])
    assert escape(MESSAGES["caa_forbidden"]) in text(response)
    assert "other-ca.example.net" in text(response)
    assert not Certificate.objects.exists()


def test_cancel_needs_the_confirmation_box(owner, portal_as):
    client = portal_as(owner)
    apply(client, [WWW])
    application = applied(owner)
    url = f"/certificates/applications/{application.pk}/cancel/"
    response = client.post(url)
    assert response.status_code == 422
    assert response.context["cancel_form"].errors["confirm"]
    application.refresh_from_db()
    assert application.is_pending

    response = client.post(url, {"confirm": "on"}, follow=True)
    application.refresh_from_db()
    assert application.status == Application.Status.CANCELLED
    assert "取り消しました" in text(response)


def test_application_list_pages_by_cursor_without_offset_or_count(
    owner, portal_as, django_assert_max_num_queries
):
    client = portal_as(owner)
    csr = make_csr([WWW])
    for _ in range(27):
        client.post(
            "/certificates/apply/",
            {"product": product("dv-single").pk, "csr": csr, "method": "dns"},
        )
    ids = list(
        Application.objects.filter(account=owner.account)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/certificates/applications/")
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql and "COUNT(" not in sql
    shown = [row["application"].pk for row in first.context["rows"]]
    assert shown == ids[:25]
    assert first.context["next_cursor"] == ids[24]
    assert "ドメイン認証待ち" in text(first)

    with django_assert_max_num_queries(10):
        second = client.get("/certificates/applications/", {"cursor": ids[24]})
    assert [row["application"].pk for row in second.context["rows"]] == ids[25:]
    assert second.context["next_cursor"] is None


# --- the certificate ------------------------------------------------------------------------


def test_certificate_page_shows_what_a_person_needs(owner, portal_as):
    certificate = issue_certificate(owner, [WWW, SHOP], code="dv-multi")
    page = text(portal_as(owner).get(f"/certificates/{certificate.pk}/"))
    assert certificate.serial_colon_hex in page
    assert str(int(certificate.serial, 16)) in page
    fingerprint = ":".join(
        certificate.fingerprint_sha256[i : i + 2] for i in range(0, 64, 2)
    ).upper()
    assert fingerprint in page
    assert "ECDSA P-256" in page
    assert "有効" in page
    assert certificate.application.number in page
    # The full chain comes first and is marked as the recommended download.
    downloads = re.findall(r'href="/certificates/\d+/download/\?format=(\w+)"', page)
    assert downloads[0] == "fullchain"
    assert set(downloads) == {"fullchain", "pem", "chain", "der", "p7b"}
    assert "推奨" in page
    for server_text in ("SSLCertificateFile", "ssl_certificate", "Complete Certificate Request"):
        assert server_text in page
    assert "keytool -importcert -alias" in page and "-trustcacerts" in page
    assert f'href="/certificates/{certificate.pk}/renew/"' in page
    assert f'href="/certificates/{certificate.pk}/revoke/"' in page


CONTENT_TYPES = {
    "fullchain": "application/pem-certificate-chain",
    "pem": "application/x-pem-file",
    "chain": "application/pem-certificate-chain",
    "der": "application/pkix-cert",
    "p7b": "application/x-pkcs7-certificates",
}


def test_downloads_have_their_content_types_and_the_full_chain_verifies(
    owner, portal_as, tmp_path: Path
):
    certificate = issue_certificate(owner, [WWW])
    client = portal_as(owner)
    bodies = {}
    for fmt, content_type in CONTENT_TYPES.items():
        response = client.get(f"/certificates/{certificate.pk}/download/", {"format": fmt})
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment; filename=")
        bodies[fmt] = response.content
    default = client.get(f"/certificates/{certificate.pk}/download/")
    assert default.content == bodies["fullchain"]
    assert 'filename="www.shop-certdesk.jp.fullchain.pem"' in default["Content-Disposition"]
    assert x509.load_der_x509_certificate(bodies["der"]).serial_number == int(
        certificate.serial, 16
    )
    assert len(pkcs7.load_der_pkcs7_certificates(bodies["p7b"])) == 2

    ca = builtin_ca()
    (tmp_path / "root.pem").write_text(ca.root.pem)
    (tmp_path / "issuing.pem").write_text(ca.issuing.pem)
    (tmp_path / "fullchain.pem").write_bytes(bodies["fullchain"])
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "issuing.pem"),
            str(tmp_path / "fullchain.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": OK")


def test_unknown_download_format_is_refused_not_a_500(owner, portal_as):
    certificate = issue_certificate(owner, [WWW])
    response = portal_as(owner).get(f"/certificates/{certificate.pk}/download/?format=zip")
    assert response.status_code == 422
    assert "download_format_unknown" in text(response)


def test_revoke_explains_the_reasons_and_needs_confirmation(owner, portal_as):
    certificate = issue_certificate(owner, [WWW])
    client = portal_as(owner)
    url = f"/certificates/{certificate.pk}/revoke/"
    page = text(client.get(url))
    for code in (
        "keyCompromise",
        "superseded",
        "cessationOfOperation",
        "affiliationChanged",
        "unspecified",
    ):
        assert f'value="{code}"' in page
    assert "privilegeWithdrawn" not in page

    response = client.post(url, {"reason": "superseded"})
    assert response.status_code == 422
    assert response.context["form"].errors["confirm"]
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    response = client.post(url, {"reason": "keyCompromise", "confirm": "on"}, follow=True)
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revocation_reason == 1
    assert response.redirect_chain == [(f"/certificates/{certificate.pk}/", 302)]
    page = text(response)
    assert "失効" in page
    assert "秘密鍵が漏えいした" in page


def test_renewal_is_prefilled_and_links_the_new_certificate_to_the_old(owner, portal_as, clock):
    old = issue_certificate(owner, [WWW, SHOP], code="dv-multi")
    client = portal_as(owner)
    response = client.get(f"/certificates/{old.pk}/renew/")
    form = response.context["form"]
    assert form["product"].value() == old.product_id
    assert response.context["command"] is not None
    assert f"subjectAltName=DNS:{WWW},DNS:{SHOP}" in response.context["command"]["command"]
    assert "新しい" in text(response)

    response = client.post(
        f"/certificates/{old.pk}/renew/",
        {"product": old.product_id, "csr": make_csr([WWW, SHOP]), "method": "dns"},
    )
    # The names were validated moments ago: the renewal is issued at once.
    new = Certificate.objects.exclude(pk=old.pk).get()
    assert response["Location"] == f"/certificates/{new.pk}/"
    assert new.renewal_of == old
    assert f'href="/certificates/{new.pk}/"' in text(client.get(f"/certificates/{old.pk}/"))
    assert f'href="/certificates/{old.pk}/"' in text(client.get(f"/certificates/{new.pk}/"))
    page = text(client.get(f"/certificates/applications/{new.application.pk}/"))
    assert "鍵を再利用" not in page


def test_renewal_with_the_old_key_is_warned_about(owner, portal_as, dns_zone):
    key = ec.generate_private_key(ec.SECP256R1())
    now = timezone.now()
    application = application_create(
        user=owner,
        product_id=product("dv-single").pk,
        csr=make_csr([WWW], private_key=key),
        now=now,
    )
    validation = application.dcv.get().validation
    dns_zone.add_txt(validation.record_name, validation.token)
    old = application_validate(user=owner, application_id=application.pk, now=now).certificate
    client = portal_as(owner)
    response = client.post(
        f"/certificates/{old.pk}/renew/",
        {"product": old.product_id, "csr": make_csr([WWW], private_key=key), "method": "dns"},
        follow=True,
    )
    # Validated a moment ago: issued at once, and the warning comes along to the certificate.
    renewal = Application.objects.get(renewal_of=old)
    assert response.redirect_chain == [(f"/certificates/{renewal.certificate.pk}/", 302)]
    assert "鍵を再利用" in text(response)
    page = text(client.get(f"/certificates/applications/{renewal.pk}/"))
    assert "鍵を再利用" in page


def test_an_expired_token_can_be_replaced_by_a_new_value(owner, portal_as, clock):
    client = portal_as(owner)
    apply(client, [WWW])
    application = applied(owner)
    url = f"/certificates/applications/{application.pk}/"
    old_token = application.dcv.get().validation.token
    clock.tick(days=31)
    page = text(client.post(url + "validate/", follow=True))
    assert "認証用の値の期限切れ" in page
    assert f"{WWW} の新しい値を取得" in page

    page = text(client.post(url + "method/", {"name": WWW, "method": "dns"}, follow=True))
    fresh = application.dcv.get().validation
    assert fresh.status == DomainValidation.Status.PENDING
    assert fresh.token != old_token
    assert fresh.token in page and old_token not in page


# --- who may see and do what ----------------------------------------------------------------


def _routes(certificate: Certificate, application: Application) -> list[tuple[str, str]]:
    a, c = application.pk, certificate.pk
    return [
        ("get", f"/certificates/applications/{a}/"),
        ("post", f"/certificates/applications/{a}/validate/"),
        ("post", f"/certificates/applications/{a}/method/"),
        ("post", f"/certificates/applications/{a}/cancel/"),
        ("get", f"/certificates/{c}/"),
        ("get", f"/certificates/{c}/download/"),
        ("get", f"/certificates/{c}/renew/"),
        ("post", f"/certificates/{c}/renew/"),
        ("get", f"/certificates/{c}/revoke/"),
        ("post", f"/certificates/{c}/revoke/"),
    ]


def test_every_id_route_is_404_for_another_account(owner, portal_as):
    certificate = issue_certificate(owner, [WWW])
    stranger = portal_as(member_of(OrganizationFactory().account, "owner"))
    routes = _routes(certificate, certificate.application)
    # The URL table is the source of truth: a new id route must join the list above.
    from certdesk.certificates.urls import urlpatterns

    with_ids = [p for p in urlpatterns if "<int:" in str(p.pattern)]
    assert len(with_ids) == len({path for _method, path in routes})
    for method, path in routes:
        response = getattr(stranger, method)(path, {"reason": "superseded", "confirm": "on"})
        assert response.status_code == 404, (method, path)
        missing = path.replace(f"/{certificate.pk}/", "/999999/").replace(
            f"/{certificate.application.pk}/", "/999999/"
        )
        assert getattr(stranger, method)(missing).status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_read_only_member_can_view_and_download_but_not_apply_or_revoke(owner, portal_as):
    certificate = issue_certificate(owner, [WWW])
    reader = portal_as(member_of(owner.account, "read_only"))
    page = text(reader.get(f"/certificates/{certificate.pk}/"))
    assert certificate.serial_colon_hex in page
    assert "/revoke/" not in page
    assert reader.get(f"/certificates/{certificate.pk}/download/").status_code == 200
    assert (
        reader.get(f"/certificates/applications/{certificate.application.pk}/").status_code == 200
    )

    refused = reader.get("/certificates/apply/")
    assert refused.status_code == 403
    assert gettext("Read-only members cannot apply for, renew or revoke certificates.") in text(
        refused
    )
    assert apply(reader, [WWW]).status_code == 403
    response = reader.post(
        f"/certificates/{certificate.pk}/revoke/", {"reason": "superseded", "confirm": "on"}
    )
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_pages_need_a_signed_in_member(client):
    for path in ("/certificates/apply/", "/certificates/applications/", "/certificates/1/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
