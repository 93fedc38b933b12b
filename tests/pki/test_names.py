"""DNS name rules: what a customer may put in a certificate, and the refusal code otherwise."""

from __future__ import annotations

import pytest

import pki


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("shop-certdesk.jp", "shop-certdesk.jp"),
        ("WWW.Shop-Certdesk.JP", "www.shop-certdesk.jp"),
        ("*.shop-certdesk.jp", "*.shop-certdesk.jp"),
        ("xn--r8jz45g.jp", "xn--r8jz45g.jp"),
        ("a.b.c.shop-certdesk.co.jp", "a.b.c.shop-certdesk.co.jp"),
        ("www.city.kawasaki.jp", "www.city.kawasaki.jp"),
        ("1password.com", "1password.com"),
        ("a" * 63 + ".jp", "a" * 63 + ".jp"),
        # Private-section PSL entries are ordinary domains (BR 3.2.2.6: ICANN section only).
        ("*.github.io", "*.github.io"),
    ],
)
def test_valid_names_are_accepted_in_lower_case(name: str, normalised: str) -> None:
    assert pki.normalize_dns_name(name) == normalised


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "name_empty"),
        ("203.0.113.7", "name_ip_address"),
        ("2001:db8::1", "name_ip_address"),
        ("www.shop-certdesk.jp.", "name_trailing_dot"),
        ("www..shop-certdesk.jp", "name_empty_label"),
        (".shop-certdesk.jp", "name_empty_label"),
        ("a" * 64 + ".shop-certdesk.jp", "name_label_too_long"),
        (".".join(["a" * 63] * 3 + ["a" * 59]) + ".jp", "name_too_long"),
        ("_acme-challenge.shop-certdesk.jp", "name_underscore"),
        ("www shop.jp", "name_invalid_character"),
        ("shop!.jp", "name_invalid_character"),
        ("-www.shop-certdesk.jp", "name_label_hyphen"),
        ("www-.shop-certdesk.jp", "name_label_hyphen"),
        ("ab--cd.shop-certdesk.jp", "name_label_reserved"),
        ("xn--abc.jp", "name_idn_invalid"),
        ("xn--ls8h.jp", "name_idn_invalid"),  # an emoji: punycode, but not IDNA 2008
        ("例え.jp", "name_idn_unicode"),
        ("www.*.shop-certdesk.jp", "name_wildcard_position"),
        ("w*.shop-certdesk.jp", "name_wildcard_position"),
        ("*.*.shop-certdesk.jp", "name_wildcard_position"),
        ("*", "name_single_label"),
        ("*.co.jp", "name_wildcard_public_suffix"),
        ("*.jp", "name_wildcard_public_suffix"),
        ("*.com", "name_wildcard_public_suffix"),
        ("*.foo.kawasaki.jp", "name_wildcard_public_suffix"),
        ("co.jp", "name_public_suffix"),
        ("com", "name_public_suffix"),
        ("fileserver", "name_single_label"),
        ("localhost", "name_internal"),
        ("app.localhost", "name_internal"),
        ("printer.local", "name_internal"),
        ("git.corp.internal", "name_internal"),
        ("www.shop.test", "name_internal"),
        ("www.example.com", "name_internal"),
        ("shop.example", "name_internal"),
        ("nothing.invalid", "name_internal"),
        ("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", "name_internal"),
        ("router.home.arpa", "name_internal"),
        ("1.0.0.127.in-addr.arpa", "name_internal"),
        ("intranet.corp", "name_internal"),
        ("nas.lan", "name_internal"),
        ("shop.xn--zckzah", "name_internal"),
        ("shop.certdesk", "name_tld_unknown"),
    ],
)
def test_invalid_names_are_refused_with_their_code(name: str, code: str) -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.normalize_dns_name(name, field="subjectAltName")
    assert refused.value.code == code
    assert refused.value.field == "subjectAltName"
    assert refused.value.value == name


def test_refusal_explains_itself_in_japanese_and_english() -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.normalize_dns_name("printer.local")
    assert refused.value.message_en == (
        '"printer.local" is an internal or reserved name ("local") and cannot be certified.'
    )
    assert refused.value.message_ja == (
        "「printer.local」は内部名または予約名（「local」）であり、証明書を発行できません。"
    )
    assert refused.value.message("ja") == refused.value.message_ja
    assert refused.value.as_dict()["code"] == "name_internal"


def test_unicode_name_refusal_suggests_the_a_label() -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.normalize_dns_name("例え.jp")
    assert "xn--r8jz45g.jp" in refused.value.message_en
    assert "xn--r8jz45g.jp" in refused.value.message_ja


def test_duplicates_collapse_keeping_first_occurrence() -> None:
    names = pki.normalize_dns_names(
        ["WWW.shop-certdesk.jp", "shop-certdesk.jp", "www.SHOP-certdesk.jp"]
    )
    assert names == ("www.shop-certdesk.jp", "shop-certdesk.jp")


def test_name_count_is_limited_after_collapsing_duplicates() -> None:
    hosts = [f"host{index}.shop-certdesk.jp" for index in range(100)]
    assert len(pki.normalize_dns_names(hosts + hosts)) == 100
    with pytest.raises(pki.CsrRejected) as refused:
        pki.normalize_dns_names([*hosts, "one-more.shop-certdesk.jp"])
    assert refused.value.code == "name_too_many"
    assert refused.value.value == "101"
    assert "100" in refused.value.message_en


@pytest.mark.parametrize(
    ("pattern", "host", "covered"),
    [
        ("*.shop-certdesk.jp", "www.shop-certdesk.jp", True),
        ("*.shop-certdesk.jp", "WWW.Shop-Certdesk.jp", True),
        ("*.shop-certdesk.jp", "shop-certdesk.jp", False),
        ("*.shop-certdesk.jp", "a.b.shop-certdesk.jp", False),
        ("www.shop-certdesk.jp", "www.shop-certdesk.jp", True),
        ("www.shop-certdesk.jp", "api.shop-certdesk.jp", False),
    ],
)
def test_wildcard_covers_exactly_one_label(pattern: str, host: str, covered: bool) -> None:
    assert pki.name_matches(pattern, host) is covered


def test_domains_to_validate_drop_the_wildcard_label() -> None:
    assert pki.base_domain("*.shop-certdesk.jp") == "shop-certdesk.jp"
    assert pki.registrable_domain("*.www.shop-certdesk.co.jp") == "shop-certdesk.co.jp"
    assert pki.registrable_domain("co.jp") is None
