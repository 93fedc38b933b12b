"""The DCV and CAA lookups against real DNS and HTTP servers on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from certdesk.validation.lookups import (
    HTTP_PATH_PREFIX,
    MESSAGES,
    caa_check,
    dns_record_name,
    dns_txt_check,
    http_file_check,
)
from tests.certdesk.validation.servers import DnsZone, HttpSite

TOKEN = "3f1c0a9d2b7e4f6a8c5d1e0b9a7f3c2d4e6f8a0b1c3d5e7f9a2b4c6d8e0f1a3b"
RECORD = "_pki-validation.example.com"
FILENAME = "3f1c0a9d2b7e4f6a.txt"
FILE_PATH = HTTP_PATH_PREFIX + FILENAME


@pytest.fixture(autouse=True)
def _our_identity(settings) -> None:
    settings.CAA_IDENTITIES = ["certdesk.jp"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# DNS TXT (BR 3.2.2.4.7) ---------------------------------------------------------------------


def test_dns_record_name_is_under_pki_validation_label():
    assert dns_record_name("example.com") == "_pki-validation.example.com"


def test_dns_txt_with_the_token_passes(dns_zone: DnsZone):
    dns_zone.add_txt(RECORD, f"  {TOKEN} ")

    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert result.ok and result.code == "ok"
    assert result.found == TOKEN
    assert ("_pki-validation.example.com", "TXT") in dns_zone.queries


def test_dns_txt_multi_string_record_is_joined(dns_zone: DnsZone):
    dns_zone.add_txt(RECORD, TOKEN[:20], TOKEN[20:])

    assert dns_txt_check(record_name=RECORD, expected=TOKEN).ok


def test_dns_txt_token_among_other_records_passes(dns_zone: DnsZone):
    dns_zone.add_txt(RECORD, "old-token-from-another-ca").add_txt(RECORD, TOKEN)

    assert dns_txt_check(record_name=RECORD, expected=TOKEN).ok


def test_dns_txt_missing_name_is_no_record(dns_zone: DnsZone):
    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_dns_no_record", False)


def test_dns_txt_name_without_txt_is_no_record(dns_zone: DnsZone):
    dns_zone.add_a(RECORD, "192.0.2.10")

    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert result.code == "dcv_dns_no_record"
    assert not result.transient


def test_dns_txt_other_value_is_a_mismatch_that_shows_what_was_found(dns_zone: DnsZone):
    dns_zone.add_txt(RECORD, "x" * 250, "x" * 250)

    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_dns_mismatch", False)
    assert result.found.startswith("xxxx")
    assert len(result.found) == 200


def test_dns_txt_is_found_through_a_cname(dns_zone: DnsZone):
    dns_zone.add_cname(RECORD, "example-com.dcv.provider.example")
    dns_zone.add_txt("example-com.dcv.provider.example", TOKEN)

    assert dns_txt_check(record_name=RECORD, expected=TOKEN).ok


def test_dns_txt_servfail_is_a_transient_lookup_failure(dns_zone: DnsZone):
    dns_zone.add_txt(RECORD, TOKEN).servfail(RECORD)

    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_dns_lookup_failed", True)


def test_dns_txt_unanswered_query_is_a_transient_lookup_failure(dns_zone: DnsZone, settings):
    settings.DCV_TIMEOUT_SECONDS = 0.5
    dns_zone.drop(RECORD)

    started = time.monotonic()
    result = dns_txt_check(record_name=RECORD, expected=TOKEN)

    assert (result.code, result.transient) == ("dcv_dns_lookup_failed", True)
    assert "timed out" in result.detail
    assert time.monotonic() - started < 3


def test_dns_server_setting_must_be_an_address(dns_zone: DnsZone, settings):
    settings.DCV_DNS_SERVER = "dns.example.net:53"

    with pytest.raises(ImproperlyConfigured):
        dns_txt_check(record_name=RECORD, expected=TOKEN)


# HTTP file (BR 3.2.2.4.18) ------------------------------------------------------------------


def test_http_file_with_the_token_passes_and_names_the_host(http_site: HttpSite):
    http_site.serve(FILE_PATH, TOKEN + "\r\n")

    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert result.ok and result.code == "ok"
    assert [(seen.path, seen.host) for seen in http_site.requests] == [(FILE_PATH, "example.com")]


def test_http_file_whose_first_line_is_the_token_passes(http_site: HttpSite):
    http_site.serve(FILE_PATH, f"{TOKEN}\nsome notes the customer left\n")

    assert http_file_check(name="example.com", filename=FILENAME, expected=TOKEN).ok


def test_http_file_with_other_content_is_a_mismatch(http_site: HttpSite):
    http_site.serve(FILE_PATH, "<html>welcome to our shop</html>")

    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_http_mismatch", False)
    assert result.found == "<html>welcome to our shop</html>"


def test_http_file_larger_than_the_read_limit_does_not_pass(http_site: HttpSite):
    http_site.serve(FILE_PATH, "a" * 200_000 + TOKEN)

    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert result.code == "dcv_http_mismatch"
    assert "65536 bytes read" in result.detail


def test_http_file_missing_is_a_status_failure(http_site: HttpSite):
    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_http_status", False)
    assert result.found == "404"


def test_http_redirect_is_refused_and_not_followed(http_site: HttpSite):
    target = "https://example.com" + FILE_PATH
    http_site.serve(FILE_PATH, "", status=301, headers={"Location": target})
    http_site.serve("/elsewhere", TOKEN)

    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_http_redirect", False)
    assert result.found == target
    assert len(http_site.requests) == 1


def test_http_name_is_resolved_through_the_dns_server(http_site: HttpSite, dns_zone: DnsZone):
    dns_zone.add_a("blog.example.org", "127.0.0.1")
    http_site.serve(FILE_PATH, TOKEN)

    result = http_file_check(name="blog.example.org", filename=FILENAME, expected=TOKEN)

    assert result.ok
    assert ("blog.example.org", "A") in dns_zone.queries
    assert http_site.requests[0].host == "blog.example.org"


def test_http_name_missing_from_dns_is_unreachable(http_site: HttpSite, dns_zone: DnsZone):
    result = http_file_check(name="gone.example.org", filename=FILENAME, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_http_unreachable", True)
    assert http_site.requests == []


def test_http_refused_connection_is_unreachable(http_site: HttpSite, settings):
    settings.DCV_HTTP_PORT = closed_port()

    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert (result.ok, result.code, result.transient) == (False, "dcv_http_unreachable", True)


def test_http_server_that_never_answers_is_unreachable(
    http_site: HttpSite, silent_port: int, settings
):
    settings.DCV_HTTP_PORT = silent_port
    settings.DCV_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    result = http_file_check(name="example.com", filename=FILENAME, expected=TOKEN)

    assert (result.code, result.transient) == ("dcv_http_unreachable", True)
    assert time.monotonic() - started < 3


# CAA (RFC 8659) -----------------------------------------------------------------------------


def test_caa_absent_everywhere_permits_after_climbing_to_the_tld(dns_zone: DnsZone):
    result = caa_check(name="shop.example.com", wildcard=False)

    assert result.ok
    assert dns_zone.queried("CAA") == ["shop.example.com", "example.com", "com"]


def test_caa_naming_us_permits(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "CertDesk.JP; accounturi=https://certdesk.jp/a/1")

    assert caa_check(name="example.com", wildcard=False).ok


def test_caa_for_another_ca_forbids_and_names_the_domain(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "letsencrypt.org")

    result = caa_check(name="example.com", wildcard=False)

    assert (result.ok, result.code, result.transient) == (False, "caa_forbidden", False)
    assert result.found.startswith("example.com:")
    assert "letsencrypt.org" in result.detail


def test_caa_at_the_parent_domain_applies(dns_zone: DnsZone):
    dns_zone.add_a("www.shop.example.com", "192.0.2.1")
    dns_zone.add_caa("example.com", "issue", "letsencrypt.org")

    result = caa_check(name="www.shop.example.com", wildcard=False)

    assert result.code == "caa_forbidden"
    assert result.found.startswith("example.com:")


def test_caa_closest_record_set_wins_over_the_parent(dns_zone: DnsZone):
    dns_zone.add_caa("shop.example.com", "issue", "certdesk.jp")
    dns_zone.add_caa("example.com", "issue", "letsencrypt.org")

    assert caa_check(name="shop.example.com", wildcard=False).ok
    assert dns_zone.queried("CAA") == ["shop.example.com"]


def test_caa_issuewild_takes_precedence_for_wildcards(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "certdesk.jp")
    dns_zone.add_caa("example.com", "issuewild", "letsencrypt.org")

    assert caa_check(name="example.com", wildcard=False).ok
    assert caa_check(name="example.com", wildcard=True).code == "caa_forbidden"
    assert caa_check(name="*.example.com", wildcard=False).code == "caa_forbidden"


def test_caa_issuewild_for_us_permits_only_wildcards(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "letsencrypt.org")
    dns_zone.add_caa("example.com", "issuewild", "certdesk.jp")

    assert caa_check(name="*.example.com", wildcard=True).ok
    assert caa_check(name="example.com", wildcard=False).code == "caa_forbidden"


def test_caa_issue_applies_to_wildcards_without_issuewild(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "letsencrypt.org")

    assert caa_check(name="*.example.com", wildcard=True).code == "caa_forbidden"


def test_caa_empty_issue_value_forbids_everyone(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", ";")

    result = caa_check(name="example.com", wildcard=False)

    assert result.code == "caa_forbidden"
    assert "no CA" in result.detail


def test_caa_unknown_critical_tag_forbids(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "issue", "certdesk.jp")
    dns_zone.add_caa("example.com", "futuretag", "something", flags=128)

    result = caa_check(name="example.com", wildcard=False)

    assert result.code == "caa_forbidden"
    assert "futuretag" in result.detail


def test_caa_unknown_non_critical_tag_and_iodef_are_ignored(dns_zone: DnsZone):
    dns_zone.add_caa("example.com", "futuretag", "something")
    dns_zone.add_caa("example.com", "iodef", "mailto:security@example.com", flags=128)

    assert caa_check(name="example.com", wildcard=False).ok


def test_caa_is_followed_through_a_cname(dns_zone: DnsZone):
    dns_zone.add_cname("shop.example.com", "shops.hosting.example")
    dns_zone.add_caa("shops.hosting.example", "issue", "letsencrypt.org")

    result = caa_check(name="shop.example.com", wildcard=False)

    assert result.code == "caa_forbidden"
    assert "letsencrypt.org" in result.found


def test_caa_servfail_is_not_permission(dns_zone: DnsZone):
    dns_zone.servfail("example.com")

    result = caa_check(name="shop.example.com", wildcard=False)

    assert (result.ok, result.code, result.transient) == (False, "caa_lookup_failed", True)


def test_caa_timeout_is_not_permission(dns_zone: DnsZone, settings):
    settings.DCV_TIMEOUT_SECONDS = 0.5
    dns_zone.drop("example.com")

    started = time.monotonic()
    result = caa_check(name="example.com", wildcard=False)

    assert (result.ok, result.code, result.transient) == (False, "caa_lookup_failed", True)
    assert time.monotonic() - started < 3


# Messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "ok",
        "dcv_dns_no_record",
        "dcv_dns_mismatch",
        "dcv_dns_lookup_failed",
        "dcv_http_unreachable",
        "dcv_http_status",
        "dcv_http_redirect",
        "dcv_http_mismatch",
        "caa_forbidden",
        "caa_lookup_failed",
    ],
)
def test_every_code_has_a_message_for_the_customer(code: str):
    assert str(MESSAGES[code])
