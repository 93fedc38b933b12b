"""The audit log browser: filters, keyset pages newest first, chain positions, verify."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from certdesk.audit.models import AuditEvent
from certdesk.audit.services import audit_record
from certdesk.console.selectors import AuditFilter, audit_event_list
from tests.certdesk.terms.factories import AccountFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 31, 14, 0, tzinfo=UTC)  # 2026-05-31 23:00 in Japan


def rows(body: str) -> list[str]:
    return re.findall(r"<code>([a-z_.]+)</code>", body)


@pytest.fixture
def events():
    a, b = AccountFactory(), AccountFactory()
    for i in range(4):
        audit_record(action="test.a", account=a, now=T0 + timedelta(hours=i))
    audit_record(action="test.b", account=b, now=T0 + timedelta(hours=5))
    audit_record(action="other.thing", account=b, now=T0 + timedelta(hours=6))
    return a, b


def test_newest_first_with_chain_position_and_hash(console, events):
    body = console.get("/console/audit/").content.decode()
    assert rows(body)[:3] == ["other.thing", "test.b", "test.a"]
    last = AuditEvent.objects.get(action="other.thing")
    assert f"{last.chain}/2" in body
    assert last.hash[:16] in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"account": "A{a:06d}"}, ["test.a"] * 4),
        ({"action": "test.b"}, ["test.b"]),
        ({"action": "test.*"}, ["test.b"] + ["test.a"] * 4),
        ({"date_from": "2026-06-01"}, ["other.thing", "test.b", "test.a", "test.a", "test.a"]),
        ({"date_to": "2026-05-31"}, ["test.a"]),
    ],
)
def test_filters(console, events, query, expected):
    a, _ = events
    params = {k: v.format(a=a.pk) for k, v in query.items()}
    body = console.get("/console/audit/", params).content.decode()
    assert [r for r in rows(body) if r.startswith(("test.", "other."))] == expected


def test_a_bad_filter_is_explained_not_a_crash(console, events):
    response = console.get("/console/audit/", {"account": "XYZ", "date_from": "2026-13-01"})
    assert response.status_code == 422
    assert "A000042 のような形式" in response.content.decode()


def test_keyset_pages_newest_first_without_offset(console, events, django_assert_max_num_queries):
    seen: list[int] = []
    before = None
    while True:
        with django_assert_max_num_queries(1) as captured:
            page = audit_event_list(filters=AuditFilter(), before=before, size=2)
        assert "OFFSET" not in captured.captured_queries[0]["sql"].upper()
        seen += [e.pk for e in page.items]
        if page.next_cursor is None:
            break
        before = page.next_cursor
    assert seen == sorted(AuditEvent.objects.values_list("pk", flat=True), reverse=True)


def test_verify_button_reports_intact_then_tampering(console, events, operator):
    body = console.post("/console/audit/verify/").content.decode()
    assert "すべてのチェーンは正常です" in body
    assert AuditEvent.objects.filter(action="audit.verified", actor=operator).exists()
    target = AuditEvent.objects.get(action="test.b")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s WHERE id = %s", ['{"x": 1}', target.pk]
        )
    body = console.post("/console/audit/verify/").content.decode()
    assert "監査ログが改ざんされています" in body
    assert f"chain {target.chain} event {target.seq}: content altered" in body
