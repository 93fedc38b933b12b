"""Periodic issuance of applications that became ready without a customer click: approved
after validation, a name proven through another application, or unblocked after a CAA
change or a supplier outage."""

from __future__ import annotations

from datetime import datetime

from certdesk.certificates.models import Application
from certdesk.certificates.services import application_issue

BATCH = 200


def issue_ready_applications(*, now: datetime, dry_run: bool) -> str:
    """Try the pending applications not waiting for review, least recently tried first;
    issuance is idempotent. Each one tried is stamped, so a backlog larger than one batch is
    worked through in turn rather than the same batch every time."""
    candidates = list(
        Application.objects.filter(status=Application.Status.PENDING)
        .exclude(approval__in=[Application.Approval.WAITING, Application.Approval.REJECTED])
        .order_by("updated_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    if dry_run:
        return f"would try {len(candidates)} applications"
    issued = sum(
        1 for pk in candidates if application_issue(application_id=pk, now=now) is not None
    )
    Application.objects.filter(pk__in=candidates, status=Application.Status.PENDING).update(
        updated_at=now
    )
    return f"tried {len(candidates)} applications, issued {issued}"
