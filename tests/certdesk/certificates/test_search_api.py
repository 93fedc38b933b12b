"""``GET /api/v1/certificates``: the history search over the REST API."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certdesk.accounts.models import User
from tests.certdesk.certificates.factories import (
    AccountFactory,
    OrganizationFactory,
    member_of,
    token_for,
)
from tests.certdesk.certificates.search_data import many_certificates, stored_certificate
from tests.certdesk.members.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/certificates"


def api_as(user: User, scopes: list[str] | None = None) -> ApiClient:
    """A Bearer client for ``user`` (default scope ``certificates:read``)."""
    return ApiClient(token_for(user, scopes=scopes or ["certificates:read"]).secret)


def test_lists_the_history_newest_first_with_a_cursor(owner, clock):
    many_certificates(owner.account, 5, start=clock() - timedelta(days=5))
    api = api_as(owner, scopes=["certificates:read"])
    first = api.get(URL, data={"limit": 2})
    assert first.status_code == 200
    body = first.json()
    assert [item["common_name"] for item in body["items"]] == [
        "www4.shop-certdesk.jp",
        "www3.shop-certdesk.jp",
    ]
    assert body["interpreted_as"] == ""
    seen = [item["id"] for item in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        page = api.get(URL, data={"limit": 2, "cursor": cursor}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5


def test_an_item_carries_what_a_client_needs(owner, clock):
    organization = OrganizationFactory(account=owner.account, name_ja="株式会社ショップ")
    certificate = stored_certificate(
        owner.account,
        ["www.shop-certdesk.jp", "shop-certdesk.jp"],
        issued_at=clock() - timedelta(days=1),
        code="ov-multi",
        organization=organization,
    )
    item = api_as(owner).get(URL).json()["items"][0]
    assert item["id"] == certificate.pk
    assert item["serial"] == certificate.serial
    assert item["names"] == ["www.shop-certdesk.jp", "shop-certdesk.jp"]
    assert item["status"] == "valid"
    assert item["product"]["code"] == "ov-multi"
    assert item["organization"] == {
        "id": organization.pk,
        "name_ja": "株式会社ショップ",
        "name_en": organization.name_en,
    }
    assert item["revoked_at"] is None and item["renewal_of"] is None
    assert datetime.fromisoformat(item["not_after"]) == certificate.not_after


def test_host_serial_and_text_searches(owner, clock):
    at = clock() - timedelta(days=3)
    wildcard = stored_certificate(owner.account, ["*.shop-certdesk.jp"], issued_at=at)
    www = stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=at)
    api = api_as(owner)

    host = api.get(URL, data={"q": "www.shop-certdesk.jp"}).json()
    assert host["interpreted_as"] == "host"
    assert {i["id"] for i in host["items"]} == {wildcard.pk, www.pk}

    serial = api.get(URL, data={"q": str(www.serial_int)}).json()
    assert serial["interpreted_as"] == "serial"
    assert [i["id"] for i in serial["items"]] == [www.pk]

    text = api.get(URL, data={"q": "www", "match": "text"}).json()
    assert text["interpreted_as"] == "text"
    assert [i["id"] for i in text["items"]] == [www.pk]


def test_status_expiry_and_sort_filters(owner, clock):
    now = clock()
    soon = stored_certificate(
        owner.account, ["a.shop-certdesk.jp"], issued_at=now - timedelta(days=190), days=200
    )
    later = stored_certificate(owner.account, ["b.shop-certdesk.jp"], issued_at=now, days=199)
    stored_certificate(
        owner.account, ["c.shop-certdesk.jp"], issued_at=now - timedelta(days=400), days=200
    )
    stored_certificate(owner.account, ["d.shop-certdesk.jp"], issued_at=now, revoked_at=now)
    api = api_as(owner)
    valid = api.get(URL, data={"status": "valid", "sort": "expiry"}).json()["items"]
    assert [i["id"] for i in valid] == [soon.pk, later.pk]
    window = api.get(
        URL,
        data={
            "expires_after": now.isoformat(),
            "expires_before": (now + timedelta(days=30)).isoformat(),
        },
    ).json()["items"]
    assert [i["id"] for i in window] == [soon.pk]
    revoked = api.get(URL, data={"status": "revoked"}).json()["items"]
    assert [i["status"] for i in revoked] == ["revoked"]


def test_a_date_without_time_means_the_start_of_that_day_in_japan(owner, clock):
    from django.utils import timezone

    jst = timezone.get_default_timezone()
    # Expires at 00:30 JST on 1 March: after the start of that day, before the next.
    expiry = timezone.make_aware(timezone.datetime(2027, 3, 1, 0, 30), jst)
    certificate = stored_certificate(
        owner.account,
        ["a.shop-certdesk.jp"],
        issued_at=clock() - timedelta(days=1),
        not_after=expiry,
    )
    api = api_as(owner)
    on_the_day = {"expires_after": "2027-03-01", "expires_before": "2027-03-02"}
    assert [i["id"] for i in api.get(URL, data=on_the_day).json()["items"]] == [certificate.pk]
    assert api.get(URL, data={"expires_before": "2027-03-01"}).json()["items"] == []


def test_only_the_accounts_own_certificates(owner, clock):
    other = AccountFactory()
    stored_certificate(other, ["www.shop-certdesk.jp"], issued_at=clock())
    api = api_as(owner)
    assert api.get(URL).json()["items"] == []
    assert api.get(URL, data={"q": "www.shop-certdesk.jp"}).json()["items"] == []


def test_a_read_only_member_may_search(owner, clock):
    stored_certificate(owner.account, ["www.shop-certdesk.jp"], issued_at=clock())
    reader = member_of(owner.account, User.Role.READ_ONLY)
    response = api_as(reader, scopes=["certificates:read"]).get(URL)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def test_needs_the_certificates_read_scope(owner):
    response = api_as(owner, scopes=["account:read"]).get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_needs_a_token(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor_invalid", "cursor"),
        ({"q": "sakura", "match": "serial"}, "q_not_serial", "q"),
        ({"q": "no host here", "match": "host"}, "q_not_host", "q"),
        ({"status": "lost"}, "invalid_request", "status"),
        ({"sort": "name"}, "invalid_request", "sort"),
        ({"limit": "0"}, "invalid_request", "limit"),
        ({"limit": "101"}, "invalid_request", "limit"),
        ({"expires_before": "soon"}, "invalid_request", "expires_before"),
        ({"organization": "x"}, "invalid_request", "organization"),
        ({"organization": str(2**64)}, "invalid_request", "organization"),
        ({"product": "dv single"}, "invalid_request", "product"),
        ({"q": "www\x00.shop-certdesk.jp"}, "q_invalid", "q"),
        ({"expires_after": "0001-01-01T00:00:00"}, "date_out_of_range", "expires_after"),
    ],
)
def test_bad_parameters_are_422_problems(owner, params, code, field):
    response = api_as(owner).get(URL, data=params)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["field"] == field
    assert body["messages"]["ja"] and body["messages"]["en"]


def test_a_page_costs_the_same_queries_whatever_its_size(owner, clock):
    organization = OrganizationFactory(account=owner.account)
    for n in range(25):
        stored_certificate(
            owner.account,
            [f"www{n}.shop-certdesk.jp"],
            issued_at=clock() - timedelta(hours=n),
            code="ov-single",
            organization=organization,
        )
    api = api_as(owner)
    api.get(URL, data={"limit": 1})  # the token's first use records last_used_at once
    counts = []
    for limit in (1, 25):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(URL, data={"limit": limit, "q": "shop-certdesk", "match": "text"})
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Authentication, then the search itself (up to three queries for a text on SQLite).
    assert counts[1] <= 6


def test_documented_in_openapi(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/certificates"]["get"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert {
        "q",
        "match",
        "status",
        "expires_before",
        "expires_after",
        "organization",
        "product",
        "sort",
        "cursor",
        "limit",
    } <= parameters
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert "certificates:read" in operation["description"]


def test_the_search_exports_as_csv_that_japanese_excel_opens(owner, clock):
    organization = OrganizationFactory(account=owner.account, name_ja="株式会社ショップ〜本店")
    stored_certificate(
        owner.account,
        ["www.shop-certdesk.jp"],
        issued_at=clock() - timedelta(days=1),
        code="ov-single",
        organization=organization,
    )
    stored_certificate(
        owner.account, ["mail.example-shop.co.jp"], issued_at=clock() - timedelta(days=2)
    )
    api = api_as(owner)
    utf8 = api.get(f"{URL}/export.csv", data={"q": "www.shop-certdesk.jp"})
    assert utf8.status_code == 200
    assert utf8["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in utf8["Content-Disposition"]
    body = b"".join(utf8.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "www.shop-certdesk.jp" in text and "mail.example-shop.co.jp" not in text
    cp932 = api.get(f"{URL}/export.csv", data={"encoding": "cp932"})
    assert cp932["Content-Type"] == "text/csv; charset=Windows-31J"
    decoded = b"".join(cp932.streaming_content).decode("cp932")
    assert "株式会社ショップ" in decoded and "mail.example-shop.co.jp" in decoded
    # Another account's export holds none of these certificates.
    stranger = member_of(AccountFactory(), User.Role.OWNER)
    other = b"".join(api_as(stranger).get(f"{URL}/export.csv").streaming_content)
    assert other.decode("utf-8-sig").count("\r\n") == 1  # the header only


def test_a_bad_export_search_is_refused_before_any_csv_is_sent(owner):
    response = api_as(owner).get(f"{URL}/export.csv", data={"q": "x", "match": "serial"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    response = api_as(owner).get(f"{URL}/export.csv", data={"encoding": "latin-1"})
    assert response.status_code == 422


def test_expiring_gives_the_dashboard_numbers(owner, clock):
    now = clock()
    stored_certificate(owner.account, ["a.shop-certdesk.jp"], issued_at=now, days=10)
    stored_certificate(owner.account, ["b.shop-certdesk.jp"], issued_at=now, days=45)
    stored_certificate(owner.account, ["c.shop-certdesk.jp"], issued_at=now, days=80)
    stored_certificate(
        owner.account, ["d.shop-certdesk.jp"], issued_at=now, days=12, revoked_at=now
    )
    body = api_as(owner).get(f"{URL}/expiring").json()
    assert [(w["days"], w["count"]) for w in body["certificates"]] == [(30, 1), (60, 1), (90, 1)]
    assert body["certificates"][0]["soonest"][0]["common_name"] == "a.shop-certdesk.jp"
    stranger = member_of(AccountFactory(), User.Role.OWNER)
    other = api_as(stranger).get(f"{URL}/expiring").json()
    assert [w["count"] for w in other["certificates"]] == [0, 0, 0]
