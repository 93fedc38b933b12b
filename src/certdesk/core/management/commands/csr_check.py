"""``certdesk csr-check FILE``: judge a CSR by the issuance policy (the ``pki`` core's verdict).

Exit 0 and a summary (key, names, profile fit) when the CSR is acceptable; exit 1 and
``refused: <code>: <message>`` when it is not; exit 2 when the file cannot be read. Messages
are in the site's default language unless ``--language`` says otherwise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from pki.cli import add_arguments, csr_check_file


class Command(BaseCommand):
    help = (
        "Judge a certificate signing request (PEM or DER) by certdesk's issuance policy: "
        "exit 0 with a summary when acceptable, non-zero with 'refused: <code>: <message>' "
        "when not."
    )
    # A customer-facing checker: it needs neither the database nor the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        language = "ja" if str(settings.LANGUAGE_CODE).startswith("ja") else "en"
        add_arguments(parser, default_language=language)

    def handle(self, *args: Any, **options: Any) -> None:
        result = csr_check_file(
            options["file"], profile=options["profile"], language=options["language"]
        )
        stream = self.stdout if result.exit_code != 2 else self.stderr
        for line in result.lines:
            stream.write(line)
        if result.exit_code:
            raise SystemExit(result.exit_code)
