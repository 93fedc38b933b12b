"""The portal's certificate history page, ``/certificates/``: search form, table, pages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certdesk.accounts.models import User
from tests.certdesk.certificates.factories import AccountFactory, OrganizationFactory, member_of
from tests.certdesk.certificates.search_data import many_certificates, stored_certificate

pytestmark = pytest.mark.django_db

URL = "/certificates/"


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="certificate-(\d+)"', response.content.decode())]


def links(response, text: str) -> list[str]:
    html = response.content.decode()
    return [
        unescape(href)
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
        if label.strip() == text
    ]


def test_the_history_shows_every_certificate_with_its_status(owner, portal_as, clock):
    now = clock()
    organization = OrganizationFactory(account=owner.account, name_ja="株式会社さくら電機")
    valid = stored_certificate(
        owner.account,
        ["www.shop-certdesk.jp", "shop-certdesk.jp"],
        issued_at=now - timedelta(days=1),
        not_after=timezone.make_aware(
            timezone.datetime(2030, 1, 1, 15, 0), timezone.get_fixed_timezone(0)
        ),
        code="ov-multi",
        organization=organization,
    )
    expired = stored_certificate(
        owner.account, ["old.shop-certdesk.jp"], issued_at=now - timedelta(days=500), days=398
    )
    revoked = stored_certificate(
        owner.account, ["gone.shop-certdesk.jp"], issued_at=now - timedelta(days=3), revoked_at=now
    )
    response = portal_as(owner).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert row_ids(response) == [valid.pk, revoked.pk, expired.pk]
    assert f'href="/certificates/{valid.pk}/"' in html
    assert valid.serial_colon_hex in html
    assert "株式会社さくら電機" in html
    # 15:00 UTC on 1 January is midnight of 2 January in Japan.
    assert "2030-01-02 00:00" in html
    for label in ("有効", "期限切れ", "失効"):
        assert label in html


def test_searching_by_host_shows_how_the_query_was_read(owner, portal_as, clock):
    at = clock() - timedelta(days=1)
    wildcard = stored_certificate(owner.account, ["*.shop-certdesk.jp"], issued_at=at)
    stored_certificate(owner.account, ["a.b.shop-certdesk.jp"], issued_at=at)
    client = portal_as(owner)
    response = client.get(URL, {"q": "www.shop-certdesk.jp"})
    assert row_ids(response) == [wildcard.pk]
    html = response.content.decode()
    assert "www.shop-certdesk.jp" in html and "ワイルドカード" in html
    # One click reads the same text as part of names instead.
    [other_reading] = links(response, "この文字列を含む名前を検索する")
    assert "match=text" in other_reading
    assert len(row_ids(client.get(other_reading))) == 0


def test_searching_by_serial(owner, portal_as, clock):
    certificate = stored_certificate(
        owner.account, ["www.shop-certdesk.jp"], issued_at=clock(), serial=0xC0FFEE123456789
    )
    stored_certificate(owner.account, ["shop.shop-certdesk.jp"], issued_at=clock())
    response = portal_as(owner).get(URL, {"q": certificate.serial_colon_hex})
    assert row_ids(response) == [certificate.pk]


def test_filters_in_the_form(owner, portal_as, clock):
    now = clock()
    organization = OrganizationFactory(account=owner.account)
    ov = stored_certificate(
        owner.account,
        ["a.shop-certdesk.jp"],
        issued_at=now,
        code="ov-single",
        organization=organization,
    )
    stored_certificate(owner.account, ["b.shop-certdesk.jp"], issued_at=now)
    stored_certificate(owner.account, ["c.shop-certdesk.jp"], issued_at=now, revoked_at=now)
    client = portal_as(owner)
    assert row_ids(client.get(URL, {"organization": organization.pk})) == [ov.pk]
    assert row_ids(client.get(URL, {"product": "ov-single"})) == [ov.pk]
    assert len(row_ids(client.get(URL, {"status": "revoked"}))) == 1
    today = timezone.localdate(now, timezone.get_default_timezone())
    expiring = client.get(URL, {"expires_after": today.isoformat(), "expires_before": "2099-12-31"})
    assert len(row_ids(expiring)) == 3


def test_an_inverted_expiry_range_is_a_form_error(owner, portal_as):
    response = portal_as(owner).get(
        URL, {"expires_after": "2027-02-01", "expires_before": "2027-01-01"}
    )
    assert response.status_code == 422
    assert "有効期限の範囲の終わりが始まりより前です。" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_a_form_error(owner, portal_as, day):
    response = portal_as(owner).get(URL, {"expires_before": day, "expires_after": day})
    assert response.status_code == 422
    assert "1970 年から 9998 年までの日付を入力してください。" in response.content.decode()


def test_a_forced_serial_reading_of_a_name_is_a_form_error(owner, portal_as):
    response = portal_as(owner).get(URL, {"q": "sakura", "match": "serial"})
    assert response.status_code == 422
    assert "シリアル番号" in response.content.decode()


def test_next_page_and_sort_links(owner, portal_as, clock):
    certificates = many_certificates(owner.account, 55, start=clock() - timedelta(days=60))
    client = portal_as(owner)
    first = client.get(URL, {"q": "shop-certdesk", "match": "text"})
    assert row_ids(first) == [c.pk for c in reversed(certificates)][:50]
    [next_url] = links(first, "次のページ")
    assert "q=shop-certdesk" in next_url and "cursor=" in next_url
    second = client.get(next_url)
    assert row_ids(second) == [c.pk for c in reversed(certificates)][50:]
    assert links(second, "次のページ") == []
    assert links(second, "最初のページ")

    [by_expiry] = links(first, "有効期限")
    assert "sort=expiry" in by_expiry and "cursor" not in by_expiry
    assert row_ids(client.get(by_expiry))[:3] == [c.pk for c in certificates[:3]]


def test_csv_links_carry_the_current_search(owner, portal_as, clock):
    stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=clock())
    response = portal_as(owner).get(URL, {"q": "shop", "status": "valid"})
    html = unescape(response.content.decode())
    assert "/certificates/export.csv?q=shop&status=valid" in html
    assert "encoding=utf-8" in html and "encoding=cp932" in html


def test_an_empty_history_invites_to_apply(owner, portal_as):
    response = portal_as(owner).get(URL)
    assert response.status_code == 200
    assert 'href="/certificates/apply/"' in response.content.decode()


def test_another_accounts_certificates_never_show(owner, portal_as, clock):
    other = AccountFactory()
    stored_certificate(other, ["www.shop-certdesk.jp"], issued_at=clock())
    response = portal_as(owner).get(URL, {"q": "www.shop-certdesk.jp"})
    assert row_ids(response) == []


def test_a_read_only_member_sees_the_history(owner, portal_as, clock):
    certificate = stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=clock())
    reader = member_of(owner.account, User.Role.READ_ONLY)
    assert row_ids(portal_as(reader).get(URL)) == [certificate.pk]


def test_sign_in_required(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_in_english(owner, portal_as, clock):
    stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=clock())
    client = portal_as(owner)
    client.post("/language/", {"language": "en", "next": URL})
    html = client.get(URL).content.decode()
    assert "Certificates" in html and "Valid" in html and "Download this search as CSV" in html


def test_a_page_costs_the_same_queries_whatever_its_length(owner, portal_as, clock):
    organization = OrganizationFactory(account=owner.account)
    for n in range(60):
        stored_certificate(
            owner.account,
            [f"www{n}.shop-certdesk.jp", f"shop{n}.shop-certdesk.jp"],
            issued_at=clock() - timedelta(hours=n),
            code="ov-multi",
            organization=organization,
        )
    client = portal_as(owner)
    client.get(URL)  # sessions, terms and the like settle on the first request
    counts = []
    for params in ({"q": "www59", "match": "text"}, {"q": "shop-certdesk", "match": "text"}):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)
        counts.append((len(row_ids(response)), len(queries)))
    assert [rows for rows, _queries in counts] == [1, 50]
    assert counts[0][1] == counts[1][1]
