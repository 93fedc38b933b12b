"""The certificate history search: what each kind of query finds, filters, orders and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from certdesk.certificates import selectors, trigram
from certdesk.certificates.models import Certificate, CertificateName
from certdesk.certificates.selectors import (
    CertificateQuery,
    Match,
    Sort,
    Status,
    certificate_search,
    certificate_walk,
    covering_names,
    query_interpret,
)
from certdesk.core.errors import InvalidInput
from tests.certdesk.certificates.factories import (
    AccountFactory,
    OrganizationFactory,
    UserFactory,
    issue_certificate,
)
from tests.certdesk.certificates.search_data import many_certificates, stored_certificate

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def found(account, now=NOW, **query) -> list[Certificate]:
    items, _cursor = certificate_search(
        account=account, query=CertificateQuery(**query), now=now, limit=100
    )
    return items


def ids(certificates) -> set[int]:
    return {c.pk for c in certificates}


# --- host coverage --------------------------------------------------------------------------


def test_host_search_finds_exact_names_and_the_covering_wildcard_only():
    account = AccountFactory()
    at = NOW - timedelta(days=10)
    exact = stored_certificate(account, ["shop.example-shop.co.jp"], issued_at=at)
    wildcard = stored_certificate(
        account, ["*.example-shop.co.jp", "example-shop.co.jp"], issued_at=at
    )
    deeper = stored_certificate(account, ["*.b.example-shop.co.jp"], issued_at=at)
    other = stored_certificate(account, ["shop.example-shop.co.jp.evil-shop.jp"], issued_at=at)

    assert ids(found(account, q="shop.example-shop.co.jp")) == {exact.pk, wildcard.pk}
    # A wildcard covers exactly one label: not two levels down, not the apex.
    assert ids(found(account, q="a.b.example-shop.co.jp")) == {deeper.pk}
    assert ids(found(account, q="x.y.example-shop.co.jp")) == set()
    assert ids(found(account, q="example-shop.co.jp")) == {wildcard.pk}
    assert other.pk not in ids(found(account, q="shop.example-shop.co.jp"))


def test_host_search_accepts_what_people_paste():
    account = AccountFactory()
    certificate = stored_certificate(
        account, ["www.xn--eckwd4c7c.jp"], issued_at=NOW - timedelta(days=1)
    )
    for typed in (
        "WWW.xn--eckwd4c7c.JP",
        "https://www.xn--eckwd4c7c.jp/cart?item=1",
        "www.xn--eckwd4c7c.jp.",
        "www.ドメイン.jp",
    ):
        assert ids(found(account, q=typed)) == {certificate.pk}, typed


def test_host_search_includes_expired_and_revoked_certificates():
    account = AccountFactory()
    names = ["www.shop-certdesk.jp"]
    old = stored_certificate(account, names, issued_at=NOW - timedelta(days=500), days=398)
    revoked = stored_certificate(
        account, names, issued_at=NOW - timedelta(days=30), revoked_at=NOW - timedelta(days=2)
    )
    current = stored_certificate(account, names, issued_at=NOW - timedelta(days=1))
    result = found(account, q="www.shop-certdesk.jp")
    assert [c.pk for c in result] == [current.pk, revoked.pk, old.pk]
    assert [c.status_at(NOW) for c in result] == ["valid", "revoked", "expired"]


def test_a_wildcard_query_finds_that_wildcard_name():
    account = AccountFactory()
    wildcard = stored_certificate(account, ["*.shop-certdesk.jp"], issued_at=NOW)
    stored_certificate(account, ["www.shop-certdesk.jp"], issued_at=NOW)
    assert ids(found(account, q="*.shop-certdesk.jp")) == {wildcard.pk}


def test_covering_names():
    assert covering_names("shop.example.co.jp") == ["shop.example.co.jp", "*.example.co.jp"]
    assert covering_names("example.jp") == ["example.jp"]
    assert covering_names("*.example.co.jp") == ["*.example.co.jp"]


# --- serial lookup --------------------------------------------------------------------------


def test_serial_lookup_in_hex_with_or_without_colons_and_in_decimal():
    account = AccountFactory()
    serial = 0x0A1B2C3D4E5F60718293A4B5C6D7E8F901234567
    certificate = stored_certificate(
        account, ["www.shop-certdesk.jp"], issued_at=NOW, serial=serial
    )
    stored_certificate(account, ["shop.shop-certdesk.jp"], issued_at=NOW)
    spellings = [
        certificate.serial,
        certificate.serial.upper(),
        certificate.serial_colon_hex,
        certificate.serial_colon_hex.lower(),
        "00" + certificate.serial,
        "0x" + certificate.serial,
        str(serial),
    ]
    for spelling in spellings:
        assert ids(found(account, q=spelling)) == {certificate.pk}, spelling


def test_a_serial_of_digits_only_is_read_as_decimal_and_as_hex():
    account = AccountFactory()
    as_hex = stored_certificate(account, ["a.shop-certdesk.jp"], issued_at=NOW, serial=0x12345678)
    as_decimal = stored_certificate(account, ["b.shop-certdesk.jp"], issued_at=NOW, serial=12345678)
    assert ids(found(account, q="12345678")) == {as_hex.pk, as_decimal.pk}


def test_an_issued_certificate_is_found_by_its_serial_and_its_names(settings):
    user = UserFactory()
    certificate = issue_certificate(
        user, ["www.shop-certdesk.jp", "shop-certdesk.jp"], code="dv-multi"
    )
    account = user.account
    now = certificate.issued_at
    assert ids(found(account, now=now, q=str(certificate.serial_int))) == {certificate.pk}
    assert ids(found(account, now=now, q=certificate.serial_colon_hex)) == {certificate.pk}
    assert ids(found(account, now=now, q="shop-certdesk.jp")) == {certificate.pk}
    assert ids(found(account, now=now, q="www.shop-certdesk.jp")) == {certificate.pk}
    assert ids(found(account, now=now, q="certdesk", match=Match.TEXT)) == {certificate.pk}


# --- substring ------------------------------------------------------------------------------


def test_substring_search_matches_any_name_of_a_certificate(trigram_first):
    account = AccountFactory()
    multi = stored_certificate(
        account, ["www.shop-certdesk.jp", "mail.sakura-denki.co.jp"], issued_at=NOW
    )
    stored_certificate(account, ["www.hikari-shop.jp"], issued_at=NOW)
    assert ids(found(account, q="sakura")) == {multi.pk}
    assert ids(found(account, q="SAKURA-den")) == {multi.pk}
    # One certificate once, even when several of its names match.
    assert [c.pk for c in found(account, q="co.jp")].count(multi.pk) == 1


def test_substring_search_treats_like_wildcards_literally(trigram_first):
    account = AccountFactory()
    stored_certificate(account, ["www.shop-certdesk.jp"], issued_at=NOW)
    assert found(account, q="%", match=Match.TEXT) == []
    assert found(account, q="w_w", match=Match.TEXT) == []


def test_a_unicode_label_is_searched_as_its_a_label():
    account = AccountFactory()
    certificate = stored_certificate(account, ["www.xn--eckwd4c7c.jp"], issued_at=NOW)
    assert ids(found(account, q="ドメイン")) == {certificate.pk}


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("shop.example.co.jp", "host"),
        ("*.example.co.jp", "host"),
        ("https://shop.example.co.jp/", "host"),
        ("7E:62:EB:B4", "serial"),
        ("0x7e62", "serial"),
        ("7e62ebb421e54fff", "serial"),
        ("123456789012345678901234567890", "serial"),
        ("sakura", "text"),
        ("cafe", "text"),
        ("2024", "text"),
        ("co.jp", "text"),  # a public suffix is no host anyone certifies
        ("shop.example", "text"),  # no such top-level domain: a fragment
        ("", ""),
    ],
)
def test_the_search_box_is_read_by_its_shape(typed, kind):
    assert query_interpret(typed).kind == kind


def test_a_forced_reading_that_does_not_fit_is_refused():
    with pytest.raises(InvalidInput) as serial:
        query_interpret("sakura", Match.SERIAL)
    assert serial.value.code == "q_not_serial" and serial.value.field == "q"
    with pytest.raises(InvalidInput) as host:
        query_interpret("not a host", Match.HOST)
    assert host.value.code == "q_not_host"
    assert query_interpret("shop.example.co.jp", Match.TEXT).kind == "text"


# --- filters --------------------------------------------------------------------------------


def test_status_is_judged_at_now():
    account = AccountFactory()
    valid = stored_certificate(account, ["a.shop-certdesk.jp"], issued_at=NOW - timedelta(days=5))
    expired = stored_certificate(
        account, ["b.shop-certdesk.jp"], issued_at=NOW - timedelta(days=300), days=200
    )
    revoked = stored_certificate(
        account, ["c.shop-certdesk.jp"], issued_at=NOW - timedelta(days=5), revoked_at=NOW
    )
    assert ids(found(account, status=Status.VALID)) == {valid.pk}
    assert ids(found(account, status=Status.EXPIRED)) == {expired.pk}
    assert ids(found(account, status=Status.REVOKED)) == {revoked.pk}
    # Two hundred days on, the valid one has expired too: nothing was stored, nothing to sweep.
    later = NOW + timedelta(days=200)
    assert ids(found(account, now=later, status=Status.EXPIRED)) == {valid.pk, expired.pk}


def test_expiry_range_is_inclusive_after_and_exclusive_before():
    account = AccountFactory()
    boundary = NOW + timedelta(days=30)
    on = stored_certificate(account, ["a.shop-certdesk.jp"], issued_at=NOW, not_after=boundary)
    later = stored_certificate(
        account, ["b.shop-certdesk.jp"], issued_at=NOW, not_after=boundary + timedelta(days=1)
    )
    assert ids(found(account, expires_after=boundary)) == {on.pk, later.pk}
    assert ids(found(account, expires_before=boundary)) == set()
    assert ids(found(account, expires_before=boundary + timedelta(seconds=1))) == {on.pk}


def test_organization_and_product_filters():
    account = AccountFactory()
    organization = OrganizationFactory(account=account)
    ov = stored_certificate(
        account, ["a.shop-certdesk.jp"], issued_at=NOW, code="ov-single", organization=organization
    )
    dv = stored_certificate(account, ["b.shop-certdesk.jp"], issued_at=NOW, code="dv-single")
    assert ids(found(account, organization_id=organization.pk)) == {ov.pk}
    assert ids(found(account, product_code="dv-single")) == {dv.pk}
    assert ids(found(account, product_code="ov-single", q="a.shop-certdesk.jp")) == {ov.pk}


def test_another_accounts_certificates_are_never_found():
    mine, theirs = AccountFactory(), AccountFactory()
    stored_certificate(theirs, ["www.shop-certdesk.jp"], issued_at=NOW, serial=0xABCDEF0123)
    organization = OrganizationFactory(account=theirs)
    stored_certificate(
        theirs, ["ov.shop-certdesk.jp"], issued_at=NOW, code="ov-single", organization=organization
    )
    assert found(mine) == []
    assert found(mine, q="www.shop-certdesk.jp") == []
    assert found(mine, q="abcdef0123") == []
    assert found(mine, q="shop", match=Match.TEXT) == []
    assert found(mine, organization_id=organization.pk) == []


# --- order and pages ------------------------------------------------------------------------


def walk_pages(account, query, limit) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        items, cursor = certificate_search(
            account=account, query=query, now=NOW, cursor=cursor, limit=limit
        )
        pages.append([c.pk for c in items])
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", list(Sort))
def test_pages_visit_every_certificate_once_in_order_even_with_equal_keys(sort):
    account = AccountFactory()
    start = NOW - timedelta(days=100)
    # Pairs of certificates share both their issuance and their expiry moment.
    certificates = [
        stored_certificate(
            account, [f"h{n}.shop-certdesk.jp"], issued_at=start + timedelta(hours=n // 2)
        )
        for n in range(11)
    ]
    pages = walk_pages(account, CertificateQuery(sort=sort), limit=3)
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    flat = [pk for page in pages for pk in page]
    key = {
        "-issued": "issued_at",
        "issued": "issued_at",
        "expiry": "not_after",
        "-expiry": "not_after",
    }[sort]
    descending = sort.startswith("-")
    expected = sorted(certificates, key=lambda c: (getattr(c, key), c.pk), reverse=descending)
    assert flat == [c.pk for c in expected]


def test_the_default_order_is_newest_issued_first():
    account = AccountFactory()
    certificates = many_certificates(account, 4, start=NOW - timedelta(days=3))
    assert [c.pk for c in found(account)] == [c.pk for c in reversed(certificates)]


def test_the_last_page_has_no_cursor_and_an_exact_fit_needs_no_empty_page():
    account = AccountFactory()
    many_certificates(account, 4, start=NOW - timedelta(days=3))
    assert [len(p) for p in walk_pages(account, CertificateQuery(), limit=2)] == [2, 2]


def test_pages_follow_the_filters():
    account = AccountFactory()
    start = NOW - timedelta(days=10)
    for n in range(7):
        stored_certificate(
            account, [f"shop{n}.shop-certdesk.jp"], issued_at=start + timedelta(hours=n)
        )
        stored_certificate(
            account, [f"mail{n}.hikari-shop.jp"], issued_at=start + timedelta(hours=n)
        )
    pages = walk_pages(account, CertificateQuery(q="shop-certdesk", match=Match.TEXT), limit=3)
    assert sum(len(p) for p in pages) == 7


def test_certificate_walk_yields_everything_across_batches():
    account = AccountFactory()
    certificates = many_certificates(account, 7, start=NOW - timedelta(days=3))
    walked = list(certificate_walk(account=account, query=CertificateQuery(), now=NOW, batch=3))
    assert [c.pk for c in walked] == [c.pk for c in reversed(certificates)]


@pytest.mark.parametrize(
    "cursor", ["garbage", "e30", "WyJ4IiwxLDJd", "WyItaXNzdWVkIiwiMSIsMl0", "!!!"]
)
def test_a_cursor_that_this_search_did_not_make_is_refused(cursor):
    account = AccountFactory()
    with pytest.raises(InvalidInput) as error:
        certificate_search(account=account, query=CertificateQuery(), now=NOW, cursor=cursor)
    assert error.value.code == "cursor_invalid"
    assert error.value.field == "cursor"


def test_a_cursor_of_another_sort_is_refused():
    account = AccountFactory()
    many_certificates(account, 3, start=NOW - timedelta(days=3))
    _items, cursor = certificate_search(account=account, query=CertificateQuery(), now=NOW, limit=1)
    with pytest.raises(InvalidInput) as error:
        certificate_search(
            account=account, query=CertificateQuery(sort=Sort.EXPIRY), now=NOW, cursor=cursor
        )
    assert error.value.code == "cursor_invalid"


@pytest.mark.parametrize("limit", [0, 101])
def test_a_page_size_out_of_range_is_refused(limit):
    with pytest.raises(InvalidInput) as error:
        certificate_search(account=AccountFactory(), query=CertificateQuery(), now=NOW, limit=limit)
    assert error.value.code == "limit_invalid"


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        CertificateQuery(),
        CertificateQuery(q="shop.shop-certdesk.jp"),
        CertificateQuery(q="shop", status=Status.VALID, sort=Sort.EXPIRY),
        CertificateQuery(q="1f00000000000001"),
    ],
)
def test_a_page_is_one_query_whatever_its_size(django_assert_num_queries, query):
    account = AccountFactory()
    organization = OrganizationFactory(account=account)
    for n in range(30):
        stored_certificate(
            account,
            [f"shop{n}.shop-certdesk.jp", "shop.shop-certdesk.jp"],
            issued_at=NOW - timedelta(hours=n),
            code="ov-multi",
            organization=organization,
        )
    # A text search first asks which names contain the text (on SQLite the FTS table, then
    # the names): up to three queries; every other page is one.
    expected = (3 if connection.vendor == "sqlite" else 2) if query.q == "shop" else 1
    certificate_search(account=account, query=query, now=NOW)  # index presence is cached
    for limit in (2, 30):
        with django_assert_num_queries(expected):
            items, _cursor = certificate_search(account=account, query=query, now=NOW, limit=limit)
            for certificate in items:
                # What a list shows: reading it must not query again.
                certificate.product.display_name("ja")
                certificate.organization.name_ja  # noqa: B018


# --- the two plans behind "names containing" ------------------------------------------------


@pytest.fixture(params=[False, True], ids=["scan-names", "trigram-index-first"])
def trigram_first(request, monkeypatch) -> bool:
    """Run a test both ways SQLite may find names containing a text: scanning the account's
    names (small accounts) and asking the FTS trigram table first (large ones)."""
    if request.param:
        monkeypatch.setattr(trigram, "SQLITE_SMALL_ACCOUNT", 1)
    return request.param


@pytest.mark.parametrize("cap", [1, 2000], ids=["walk-in-page-order", "fetch-by-id"])
def test_both_plans_for_names_containing_find_the_same_pages(monkeypatch, cap, trigram_first):
    monkeypatch.setattr(selectors, "TEXT_CANDIDATE_CAP", cap)
    account = AccountFactory()
    start = NOW - timedelta(days=10)
    expected = []
    for n in range(8):
        expected.append(
            stored_certificate(
                account,
                [f"shop{n}.sakura-denki.co.jp", f"www{n}.shop-certdesk.jp"],
                issued_at=start + timedelta(hours=n),
            )
        )
        stored_certificate(account, [f"mail{n}.hikari-shop.jp"], issued_at=start)
    stored_certificate(AccountFactory(), ["www.sakura-denki.co.jp"], issued_at=start)
    pages = walk_pages(account, CertificateQuery(q="sakura-denki", match=Match.TEXT), limit=3)
    assert [pk for page in pages for pk in page] == [c.pk for c in reversed(expected)]


def test_names_containing_without_the_trigram_index(monkeypatch):
    monkeypatch.setattr(trigram, "_available", {"default": False})
    account = AccountFactory()
    certificate = stored_certificate(account, ["www.sakura-denki.co.jp"], issued_at=NOW)
    stored_certificate(account, ["www.hikari-shop.jp"], issued_at=NOW)
    assert ids(found(account, q="sakura")) == {certificate.pk}


def test_the_trigram_index_follows_changed_and_removed_names(trigram_first):
    account = AccountFactory()
    certificate = stored_certificate(account, ["www.sakura-denki.co.jp"], issued_at=NOW)
    gone = stored_certificate(account, ["www.hikari-shop.jp"], issued_at=NOW)
    CertificateName.objects.filter(certificate=certificate).update(name="www.midori-shop.jp")
    CertificateName.objects.filter(certificate=gone).delete()
    assert found(account, q="sakura") == []
    assert ids(found(account, q="midori")) == {certificate.pk}
    assert found(account, q="hikari") == []


@pytest.mark.parametrize("cap", [1, 2000], ids=["walk-in-page-order", "fetch-by-id"])
def test_a_text_across_dots_and_hyphens_matches_literally(monkeypatch, cap, trigram_first):
    monkeypatch.setattr(selectors, "TEXT_CANDIDATE_CAP", cap)
    account = AccountFactory()
    dotted = stored_certificate(account, ["www.sakura-denki.co.jp"], issued_at=NOW)
    stored_certificate(account, ["denki-co.shop-certdesk.jp", "co.denki.jp"], issued_at=NOW)
    assert ids(found(account, q="denki.co", match=Match.TEXT)) == {dotted.pk}
    assert ids(found(account, q="a-denki.co.j", match=Match.TEXT)) == {dotted.pk}
    assert found(account, q="o.d", match=Match.TEXT) != []
