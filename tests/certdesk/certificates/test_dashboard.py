"""The dashboard's expiry panel: certificates expiring in the next 30/60/90 days and domain
validations whose reuse period ends soon."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pki
from certdesk.certificates.selectors import certificate_expiry_windows, validation_expiry_list
from certdesk.validation.models import DomainValidation
from tests.certdesk.certificates.factories import AccountFactory
from tests.certdesk.certificates.search_data import stored_certificate

pytestmark = pytest.mark.django_db

# 12:00 in Japan on 20 November 2026.
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
JST = ZoneInfo("Asia/Tokyo")
_hosts = itertools.count()


def expiring(account, days_from_now: float, **kwargs):
    return stored_certificate(
        account,
        [f"e{next(_hosts)}.shop-certdesk.jp"],
        issued_at=NOW - timedelta(days=100),
        not_after=NOW + timedelta(days=days_from_now),
        **kwargs,
    )


def validation(account, name: str, validated_at: datetime, **kwargs) -> DomainValidation:
    return DomainValidation.objects.create(
        account=account,
        name=name,
        method=DomainValidation.Method.DNS,
        token="0" * 64,
        status=kwargs.pop("status", DomainValidation.Status.VALID),
        created_at=validated_at,
        validated_at=validated_at,
        **kwargs,
    )


def test_windows_split_what_expires_by_whole_days_in_japan():
    account = AccountFactory()
    tomorrow = expiring(account, 1)
    # 20 Dec 14:59 UTC is 23:59 JST on day 30: still "within 30 days".
    day_30 = stored_certificate(
        account,
        ["d30.shop-certdesk.jp"],
        issued_at=NOW - timedelta(days=100),
        not_after=datetime(2026, 12, 20, 14, 59, tzinfo=UTC),
    )
    # 20 Dec 15:00 UTC is midnight JST on day 31: the next window.
    day_31 = stored_certificate(
        account,
        ["d31.shop-certdesk.jp"],
        issued_at=NOW - timedelta(days=100),
        not_after=datetime(2026, 12, 20, 15, 0, tzinfo=UTC),
    )
    in_75 = expiring(account, 75)
    expiring(account, 120)  # beyond the panel
    expiring(account, -1)  # already expired
    expiring(account, 5, revoked_at=NOW - timedelta(days=1))  # revoked: nothing to renew
    expiring(AccountFactory(), 3)  # another account's

    windows = certificate_expiry_windows(account=account, now=NOW)
    assert [w.days for w in windows] == [30, 60, 90]
    assert [w.count for w in windows] == [2, 1, 1]
    assert [c.pk for c in windows[0].soonest] == [tomorrow.pk, day_30.pk]
    assert [c.pk for c in windows[1].soonest] == [day_31.pk]
    assert [c.pk for c in windows[2].soonest] == [in_75.pk]
    assert windows[0].first_day is None
    assert str(windows[0].last_day) == "2026-12-20"
    assert str(windows[1].first_day) == "2026-12-21"
    assert str(windows[2].last_day) == "2027-02-18"


def test_a_window_previews_the_soonest_few_but_counts_all():
    account = AccountFactory()
    for day in range(1, 9):
        expiring(account, day)
    [first, *_rest] = certificate_expiry_windows(account=account, now=NOW)
    assert first.count == 8
    assert [c.not_after for c in first.soonest] == sorted(c.not_after for c in first.soonest)
    assert len(first.soonest) == 5


def test_validations_due_are_the_latest_per_name_ending_within_30_days():
    account = AccountFactory()
    reuse = timedelta(days=pki.dcv_reuse_days(NOW))
    ends_in_10 = validation(account, "shop-certdesk.jp", NOW - reuse + timedelta(days=10))
    validation(account, "hikari-shop.jp", NOW - reuse + timedelta(days=45))  # not yet
    validation(account, "lapsed-shop.jp", NOW - reuse - timedelta(days=1))  # already over
    # Renewed: the old proof ends in 5 days, but a newer one of the same name holds.
    validation(account, "renewed-shop.jp", NOW - reuse + timedelta(days=5))
    validation(account, "renewed-shop.jp", NOW - timedelta(days=1))
    validation(
        account,
        "pending-shop.jp",
        NOW - reuse + timedelta(days=3),
        status=DomainValidation.Status.PENDING,
    )
    validation(AccountFactory(), "shop-certdesk.jp", NOW - reuse + timedelta(days=2))

    due = validation_expiry_list(account=account, now=NOW)
    assert due.count == 1
    assert [v.pk for v in due.soonest] == [ends_in_10.pk]
    assert due.soonest[0].reusable_until(NOW) == NOW + timedelta(days=10)


def row_texts(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_the_dashboard_shows_the_panel_with_links_to_the_search(owner, portal_as, clock):
    clock.set(NOW)
    soon = expiring(owner.account, 3)
    expiring(owner.account, 45)
    reuse = timedelta(days=pki.dcv_reuse_days(NOW))
    validation(owner.account, "shop-certdesk.jp", NOW - reuse + timedelta(days=10))
    client = portal_as(owner)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    within_30 = row_texts(html, "expiry-30")
    assert f'href="/certificates/{soon.pk}/"' in within_30
    assert "2026-12-20" in within_30  # the last day the window covers, in Japan time
    # The "show all" link opens the search that lists exactly the window's certificates.
    [search] = re.findall(r'href="(/certificates/\?[^"]+)"', within_30)
    assert "status=valid" in search and "expires_before=2026-12-20" in search
    listed = re.findall(r'<tr id="certificate-(\d+)"', client.get(search).content.decode())
    assert listed == [str(soon.pk)]
    # The validation row says by when the name must be validated again (JST).
    assert "shop-certdesk.jp" in html
    assert f"{(NOW + timedelta(days=10)).astimezone(JST):%Y-%m-%d %H:%M}" in html


def test_the_dashboard_panel_costs_a_fixed_number_of_queries(owner, portal_as, clock):
    clock.set(NOW)
    client = portal_as(owner)
    client.get("/dashboard/")
    counts = []
    for days in (3, 40, 70):
        for _ in range(6):
            expiring(owner.account, days)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/dashboard/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]


def test_operators_are_sent_to_the_console(portal_as):
    from tests.certdesk.terms.factories import OperatorFactory

    response = portal_as(OperatorFactory()).get("/dashboard/")
    assert response.status_code == 302
