"""Periodic job: send the terms-change emails whose time has come."""

from __future__ import annotations

from datetime import datetime

from certdesk.terms.services import terms_notice_send_due


def send_terms_notices(*, now: datetime, dry_run: bool) -> str:
    """Email due notices of new terms versions; idempotent, catches up after a missed run."""
    accounts, emails = terms_notice_send_due(now=now, dry_run=dry_run)
    verb = "would be emailed" if dry_run else "emailed"
    return f"{emails} user(s) in {accounts} account(s) {verb}"
