"""Periodic re-checks of pending domain validations (the background retry with backoff)."""

from __future__ import annotations

import time
from datetime import datetime

from certdesk.certificates.models import Application, ApplicationName
from certdesk.certificates.services import application_issue
from certdesk.validation.models import DomainValidation
from certdesk.validation.services import validation_check

BATCH = 200
# Lookups of dead names can each take the full DNS/HTTP timeout; stop starting new ones after
# this many seconds so a run ends within the minute and the rest wait for the next run
# (they are taken in order of when they were due, so none is starved).
TIME_BUDGET_SECONDS = 40.0


def recheck_pending_validations(*, now: datetime, dry_run: bool) -> str:
    """Look again for every pending validation whose next check is due, then issue whatever
    became ready. Tokens past their 30 days expire here."""
    due = list(
        DomainValidation.objects.filter(
            status=DomainValidation.Status.PENDING, next_check_at__lte=now
        )
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    if dry_run:
        return f"would check {len(due)} pending domain validations"
    became_valid = []
    checked = 0
    started = time.monotonic()
    for pk in due:
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            break
        checked += 1
        if validation_check(validation_id=pk, now=now).status == DomainValidation.Status.VALID:
            became_valid.append(pk)
    issued = 0
    applications = set(
        ApplicationName.objects.filter(
            validation_id__in=became_valid, application__status=Application.Status.PENDING
        ).values_list("application_id", flat=True)
    )
    for application_id in sorted(applications):
        if application_issue(application_id=application_id, now=now) is not None:
            issued += 1
    return f"checked {checked} domain validations, {len(became_valid)} now valid, issued {issued}"
