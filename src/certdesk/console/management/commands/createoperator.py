"""``certdesk createoperator``: create an operator (console user) from the command line."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certdesk.console.services import operator_create
from certdesk.core import clock
from certdesk.core.errors import CertdeskError

PASSWORD_ENV = "CERTDESK_OPERATOR_PASSWORD"


class Command(BaseCommand):
    # ``stdin`` lets callers (and tests) hand the command a stream instead of sys.stdin.
    stealth_options = ("stdin",)
    help = (
        "Create an operator who signs in to the console. The password comes from "
        f"--password-stdin, the {PASSWORD_ENV} environment variable, or a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="the operator's sign-in ID")
        parser.add_argument("--email", required=True, help="the operator's email address")
        parser.add_argument("--name", required=True, help="the operator's full name")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            stdin = options.get("stdin") or sys.stdin
            return stdin.readline().rstrip("\r\n")
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV]
        if not sys.stdin.isatty():
            raise CommandError(
                f"no password: use --password-stdin, set {PASSWORD_ENV}, or run interactively"
            )
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("the passwords do not match")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options)
        try:
            user = operator_create(
                username=options["username"],
                email=options["email"],
                full_name=options["name"],
                password=password,
                now=clock.now(),
            )
        except CertdeskError as exc:
            where = f"{exc.field}: " if exc.field else ""
            raise CommandError(f"refused: {exc.code}: {where}{exc.message}") from None
        self.stdout.write(f"operator {user.username} created")
