"""The ``certdesk`` console script: Django's management commands under certdesk's settings.

certdesk's own commands (``serve``, ``worker``, ``sweep``, ``createoperator``, ``csr-check``,
``audit-verify``) are management commands of its apps, so ``certdesk help`` lists them all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certdesk.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["certdesk", *argv])
    # Dashed names are the public spelling; management command modules use underscores.
    if len(args) > 1 and args[1] in {"csr-check", "audit-verify"}:
        args[1] = args[1].replace("-", "_")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
