"""Housekeeping of sign-in records keeps what can still matter and drops the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from certdesk.accounts.jobs import purge_sign_in_records
from certdesk.accounts.models import LoginFailure, LoginThrottle

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_old_failures_are_purged_and_recent_ones_still_count(settings):
    window = timedelta(seconds=settings.CERTDESK_LOGIN_FAILURE_WINDOW)
    LoginFailure.objects.create(username="old-id", created_at=NOW - window - timedelta(minutes=1))
    LoginFailure.objects.create(username="recent-id", created_at=NOW - timedelta(minutes=1))
    LoginThrottle.objects.create(username="old-id")
    LoginThrottle.objects.create(username="recent-id")
    LoginThrottle.objects.create(username="locked-id", locked_until=NOW + timedelta(minutes=5))

    summary = purge_sign_in_records(now=NOW, dry_run=True)
    assert "would delete 1 failed sign-ins, 1 idle lockout counters" in summary
    assert LoginFailure.objects.count() == 2

    summary = purge_sign_in_records(now=NOW, dry_run=False)
    assert "deleted 1 failed sign-ins, 1 idle lockout counters" in summary
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["recent-id"]
    assert set(LoginThrottle.objects.values_list("username", flat=True)) == {
        "recent-id",
        "locked-id",
    }
