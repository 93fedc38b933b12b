"""CSV export of a search (``/certificates/export.csv``): opens in Japanese Excel as it is."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from certdesk.certificates import export
from tests.certdesk.certificates.factories import AccountFactory, OrganizationFactory
from tests.certdesk.certificates.search_data import many_certificates, stored_certificate

pytestmark = pytest.mark.django_db

URL = "/certificates/export.csv"


def download(client, **params) -> tuple[StreamingHttpResponse, bytes]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    return response, b"".join(response.streaming_content)


def rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def test_utf8_starts_with_a_bom_and_uses_excel_line_ends(owner, portal_as, clock):
    organization = OrganizationFactory(account=owner.account, name_ja="株式会社さくら電機")
    certificate = stored_certificate(
        owner.account,
        ["www.shop-certdesk.jp", "shop-certdesk.jp"],
        issued_at=clock() - timedelta(days=1),
        code="ov-multi",
        organization=organization,
    )
    response, body = download(portal_as(owner), encoding="utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="certificates-')
    assert body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in body
    header, row = rows(body.decode("utf-8-sig"))
    assert header[:4] == ["ID", "シリアル番号", "コモンネーム", "名前"]
    assert row[0] == str(certificate.pk)
    assert row[1] == certificate.serial_colon_hex
    assert row[3] == "www.shop-certdesk.jp shop-certdesk.jp"
    assert row[5] == "株式会社さくら電機"
    assert row[6] == "有効"


def test_shift_jis_keeps_japanese_and_never_fails_on_what_cp932_lacks(owner, portal_as, clock):
    at = clock() - timedelta(days=1)
    names = {
        "株式会社ショップ〜未来": "株式会社ショップ～未来",  # wave dash: the CP932 look-alike
        "髙橋商店": "髙橋商店",  # an IBM extension kanji CP932 has
        "Café 🍣 合同会社": "Caf? ? 合同会社",  # no é, no emoji in CP932: replaced, not fatal
    }
    for n, name in enumerate(names):
        stored_certificate(
            owner.account,
            [f"www{n}.shop-certdesk.jp"],
            issued_at=at + timedelta(minutes=n),
            code="ov-single",
            organization=OrganizationFactory(account=owner.account, name_ja=name),
        )
    response, body = download(portal_as(owner), encoding="cp932")
    assert response["Content-Type"] == "text/csv; charset=Windows-31J"
    assert not body.startswith(b"\xef\xbb\xbf")
    header, *data = rows(body.decode("cp932"))
    assert header[5] == "組織"
    assert sorted(row[5] for row in data) == sorted(names.values())


def test_shift_jis_also_accepts_the_names_people_use(owner, portal_as):
    for alias in ("sjis", "Shift_JIS", "windows-31j"):
        response, _body = download(portal_as(owner), encoding=alias)
        assert response["Content-Type"] == "text/csv; charset=Windows-31J"


def test_an_unknown_encoding_is_refused(owner, portal_as):
    response = portal_as(owner).get(URL, {"encoding": "latin-1"})
    assert response.status_code == 422
    assert not isinstance(response, StreamingHttpResponse)


def test_the_export_follows_the_search_and_its_order(owner, portal_as, clock):
    now = clock()
    soon = stored_certificate(
        owner.account, ["a.shop-certdesk.jp"], issued_at=now - timedelta(days=150), days=160
    )
    later = stored_certificate(owner.account, ["b.shop-certdesk.jp"], issued_at=now)
    stored_certificate(owner.account, ["c.hikari-shop.jp"], issued_at=now)
    stored_certificate(owner.account, ["d.shop-certdesk.jp"], issued_at=now, revoked_at=now)
    stored_certificate(AccountFactory(), ["e.shop-certdesk.jp"], issued_at=now)
    _response, body = download(
        portal_as(owner), q="shop-certdesk", match="text", status="valid", sort="expiry"
    )
    ids = [row[0] for row in rows(body.decode("utf-8-sig"))[1:]]
    assert ids == [str(soon.pk), str(later.pk)]


def test_a_large_export_streams_every_row_once(owner, portal_as, clock, monkeypatch):
    monkeypatch.setattr(export, "ROWS_PER_CHUNK", 7)
    certificates = many_certificates(owner.account, 230, start=clock() - timedelta(days=20))
    response = portal_as(owner).get(URL)
    assert isinstance(response, StreamingHttpResponse)
    parts = list(response.streaming_content)
    # Header, then a chunk per seven rows: the rows never sat in memory all at once.
    assert len(parts) >= 230 // 7
    ids = [row[0] for row in rows(b"".join(parts).decode("utf-8-sig"))[1:]]
    assert ids == [str(c.pk) for c in reversed(certificates)]


def test_an_export_reads_the_history_a_page_at_a_time(owner, portal_as, clock, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_BATCH", 100)
    many_certificates(owner.account, 230, start=clock() - timedelta(days=20))
    client = portal_as(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
        body = b"".join(response.streaming_content)
    certificate_reads = [q for q in queries if 'FROM "certificates_certificate"' in q["sql"]]
    # 230 rows in keyset pages of 100: three reads, none of them an OFFSET.
    assert len(certificate_reads) == 3
    assert not any("OFFSET" in q["sql"] for q in certificate_reads)
    assert body.count(b"\r\n") == 231


def test_cells_that_excel_would_run_as_formulas_are_defused(owner, portal_as, clock):
    organization = OrganizationFactory(account=owner.account, name_ja='=HYPERLINK("http://x")')
    stored_certificate(
        owner.account,
        ["www.shop-certdesk.jp"],
        issued_at=clock(),
        code="ov-single",
        organization=organization,
    )
    _response, body = download(portal_as(owner))
    [_header, row] = rows(body.decode("utf-8-sig"))
    assert row[5] == '\'=HYPERLINK("http://x")'


def test_headers_and_labels_follow_the_language(owner, portal_as, clock):
    stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=clock())
    client = portal_as(owner)
    client.post("/language/", {"language": "en", "next": "/"})
    _response, body = download(client)
    header, row = rows(body.decode("utf-8-sig"))
    assert header[1] == "Serial number"
    assert row[6] == "Valid"


def test_sign_in_required(client):
    assert client.get(URL).status_code == 302


def test_cp932_encoding_swaps_lookalikes_and_replaces_the_rest():
    assert export.encode("〜−—", export.CP932).decode("cp932") == "～－―"
    assert export.encode("🍣", export.CP932) == b"?"
    assert export.encode("証明書", export.UTF8) == "証明書".encode()
