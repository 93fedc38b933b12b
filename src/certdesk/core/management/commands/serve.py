from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Serve certdesk with gunicorn and run the background worker in one process tree. "
        "The embedded SQLite database is migrated first. Ctrl-C stops both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("CERTDESK_WEB_WORKERS", "3"))
        )
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            call_command("migrate", interactive=False, verbosity=1)
        for hook in getattr(settings, "CERTDESK_STARTUP_HOOKS", []):
            import_string(hook)()
        python = sys.executable
        web = [
            python,
            "-m",
            "gunicorn",
            "certdesk.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        children = [subprocess.Popen(web)]  # noqa: S603 - fixed argv
        if not options["no_worker"]:
            children.append(subprocess.Popen([python, "-m", "certdesk.cli", "worker"]))  # noqa: S603
        self.stdout.write(
            f"certdesk serving http://{options['host']}:{options['port']}/ (Ctrl-C to stop)"
        )
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise SystemExit(1)
