from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certdesk.core import clock
from certdesk.core.sweep import sweep_run


def parse_now(value: str) -> datetime:
    """An ISO 8601 moment; one without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO 8601 date-time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


class Command(BaseCommand):
    help = "Run every periodic job once, as if it were --now (default: the current time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="ISO 8601 moment to run the jobs as of")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be done, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"]) if options["now"] else clock.now()
        self.stdout.write(
            f"sweep as of {now.isoformat()}{' (dry run)' if options['dry_run'] else ''}"
        )
        for job, summary in sweep_run(now=now, dry_run=options["dry_run"]):
            self.stdout.write(f"  {job}: {summary}")
