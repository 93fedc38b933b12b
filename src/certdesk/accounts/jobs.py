"""Periodic housekeeping of sign-in records (run by the worker and ``certdesk sweep``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from certdesk.accounts.models import EmailToken, LoginFailure, LoginThrottle

# Spent or expired links are kept a while so that a late click still gets "this link was
# used" / "this link has expired" rather than "unknown link".
EMAIL_TOKEN_KEEP = timedelta(days=30)


def purge_sign_in_records(*, now: datetime, dry_run: bool) -> str:
    """Delete failed-sign-in rows that can no longer count toward a lockout, and old links."""
    window = timedelta(seconds=settings.CERTDESK_LOGIN_FAILURE_WINDOW)
    failures = LoginFailure.objects.filter(created_at__lt=now - window)
    throttles = LoginThrottle.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    ).exclude(
        username__in=LoginFailure.objects.filter(created_at__gte=now - window).values("username")
    )
    tokens = EmailToken.objects.filter(expires_at__lt=now - EMAIL_TOKEN_KEEP)
    if dry_run:
        return (
            f"would delete {failures.count()} failed sign-ins, {throttles.count()} idle "
            f"lockout counters, {tokens.count()} old email links"
        )
    with transaction.atomic():
        n_failures = failures.delete()[0]
        n_throttles = throttles.delete()[0]
        n_tokens = tokens.delete()[0]
    return (
        f"deleted {n_failures} failed sign-ins, {n_throttles} idle lockout counters, "
        f"{n_tokens} old email links"
    )
