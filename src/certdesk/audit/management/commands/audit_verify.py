from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from certdesk.audit.models import AuditChain, AuditEvent
from certdesk.audit.services import audit_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chains; exits non-zero if any event was altered or removed."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = audit_verify()
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"audit log tampered: {len(problems)} problem(s)")
        self.stdout.write(
            f"audit log intact: {AuditEvent.objects.count()} events in "
            f"{AuditChain.objects.count()} chains"
        )
