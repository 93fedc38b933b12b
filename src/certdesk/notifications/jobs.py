from __future__ import annotations

from datetime import datetime

from certdesk.notifications.models import OutboundEmail
from certdesk.notifications.services import email_deliver_due


def deliver_due_email(*, now: datetime, dry_run: bool) -> str:
    """Deliver queued mail whose retry time has come."""
    if dry_run:
        due = OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now
        ).count()
        return f"{due} message(s) due"
    return f"{email_deliver_due(now=now)} message(s) sent"
