"""The audit log is a hash chain per account: any altered or removed event is detected, and
``certdesk audit-verify`` exits non-zero naming it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from certdesk.audit.models import AuditChain, AuditEvent
from certdesk.audit.services import audit_record, audit_verify
from tests.certdesk.terms.factories import AccountFactory, OperatorFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
JST = timezone(timedelta(hours=9))


def append(account=None, n=3, **kw):
    return [
        audit_record(
            action=kw.get("action", "test.event"),
            account=account,
            actor=kw.get("actor"),
            data={"i": i, "note": "監査"},
            ip=kw.get("ip", "192.0.2.10"),
            now=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]


def raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_command():
    """Run ``audit_verify``; return (ok, stdout+stderr)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


def test_events_of_one_account_form_a_numbered_chain():
    account = AccountFactory()
    events = append(account)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    head = AuditChain.objects.get(key=account.pk)
    assert (head.seq, head.head) == (3, events[2].hash)


def test_accounts_have_separate_chains_and_events_without_account_go_to_the_global_one():
    a, b = AccountFactory(), AccountFactory()
    append(a, 2)
    append(b, 1)
    append(None, 1)
    assert set(AuditEvent.objects.values_list("chain", "seq")) == {
        (a.pk, 1),
        (a.pk, 2),
        (b.pk, 1),
        (0, 1),
    }


def test_an_intact_log_verifies():
    append(AccountFactory())
    append(None, 2, actor=OperatorFactory())
    assert audit_verify() == []
    ok, output = verify_command()
    assert ok
    assert "audit log intact: 5 events in 2 chains" in output


def test_events_recorded_with_a_local_time_and_odd_values_still_verify():
    """The hash must cover what the database gives back: aware times in any zone, IPv6
    in any spelling, non-ASCII and nested data."""
    account = AccountFactory()
    audit_record(
        action="test.local_time",
        account=account,
        now=datetime(2026, 3, 1, 18, 0, 0, 123456, JST),
        ip="2001:DB8:0:0::1",
        data={"組織": "株式会社テスト", "n": [1, 2.5, None], "ok": True},
    )
    assert audit_verify() == []


def test_altered_content_is_detected_and_named(db):
    account = AccountFactory()
    events = append(account)
    raw("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["forged.action", events[1].pk])
    problems = audit_verify()
    assert problems == [f"chain {account.pk} event 2: content altered (hash mismatch)"]
    ok, output = verify_command()
    assert not ok
    assert f"chain {account.pk} event 2: content altered" in output
    assert "tampered: 1 problem" in output


def test_altered_data_and_a_recomputed_hash_still_break_the_next_link():
    account = AccountFactory()
    events = append(account)
    raw(
        "UPDATE audit_auditevent SET hash = %s WHERE id = %s",
        ["f" * 64, events[0].pk],
    )
    problems = audit_verify()
    assert f"chain {account.pk} event 1: content altered (hash mismatch)" in problems
    assert f"chain {account.pk} event 2: link to previous event broken" in problems


def test_a_deleted_event_in_the_middle_is_detected():
    account = AccountFactory()
    events = append(account, 4)
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    problems = audit_verify()
    assert f"chain {account.pk} event 3: expected sequence 2 (event missing)" in problems
    assert f"chain {account.pk} event 3: link to previous event broken" in problems
    ok, output = verify_command()
    assert not ok and f"chain {account.pk} event 3" in output


def test_a_deleted_last_event_is_detected():
    account = AccountFactory()
    events = append(account)
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    assert audit_verify() == [f"chain {account.pk}: head does not match its last event (truncated)"]


def test_a_deleted_chain_head_does_not_hide_the_chain():
    account = AccountFactory()
    append(account)
    raw(
        "UPDATE audit_auditevent SET data = %s WHERE chain = %s AND seq = 1",
        ['{"i": 99}', account.pk],
    )
    raw("DELETE FROM audit_auditchain WHERE key = %s", [account.pk])
    problems = audit_verify()
    assert f"chain {account.pk} event 1: content altered (hash mismatch)" in problems
    assert f"chain {account.pk}: head missing" in " ".join(problems)


def test_an_event_is_not_saved_when_the_change_it_records_rolls_back():
    from django.db import transaction

    account = AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.rolled_back", account=account, now=T0)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    append(account, 1)
    assert audit_verify() == []


def test_a_chain_emptied_entirely_is_detected():
    account = AccountFactory()
    append(account)
    raw("DELETE FROM audit_auditevent WHERE chain = %s", [account.pk])
    assert audit_verify() == [f"chain {account.pk}: head does not match its last event (truncated)"]
