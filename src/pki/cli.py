"""``csr-check``: judge a CSR file by the issuance policy and print the verdict.

Framework-free: :func:`csr_check` returns the exit code and the lines to print, so the Django
management command (``certdesk csr-check FILE``) and ``python -m pki.cli FILE`` share it.
Exit 0 with a summary when the CSR is acceptable; exit 1 with ``refused: <code>: <message>``
when it is not; exit 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from pki.csr import CsrPolicy, default_csr_policy, validate_csr
from pki.errors import CsrRejected, PolicyViolation
from pki.profiles import PROFILES, profile_get, profiles_fitting

EXIT_ACCEPTED = 0
EXIT_REFUSED = 1
EXIT_UNREADABLE = 2

_LABELS = {
    "en": {
        "accepted": "accepted",
        "key": "key",
        "signature": "signature",
        "common_name": "common name",
        "names": "names",
        "profiles": "profiles",
        "none": "(none)",
        "unreadable": "cannot read {path}: {error}",
    },
    "ja": {
        "accepted": "受付可能",
        "key": "鍵",
        "signature": "署名",
        "common_name": "コモンネーム",
        "names": "名前",
        "profiles": "適合するプロファイル",
        "none": "（なし）",
        "unreadable": "{path} を読み込めません：{error}",
    },
}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one CSR: the exit code and the lines to print."""

    exit_code: int
    lines: tuple[str, ...]


def csr_check(
    data: bytes | str,
    *,
    profile: str | None = None,
    language: str = "en",
    policy: CsrPolicy | None = None,
) -> CheckResult:
    """Judge ``data`` (PEM or DER), optionally against one ``profile``; never raises a refusal."""
    labels = _LABELS["ja" if language == "ja" else "en"]
    try:
        chosen = profile_get(profile) if profile is not None else None
        csr = validate_csr(data, policy=policy if policy is not None else default_csr_policy())
        if chosen is not None:
            chosen.check(csr)
    except (CsrRejected, PolicyViolation) as refusal:
        return CheckResult(EXIT_REFUSED, (f"refused: {refusal.code}: {refusal.message(language)}",))
    fitting = [chosen] if chosen is not None else list(profiles_fitting(csr))
    lines = (
        labels["accepted"],
        f"  {labels['key']}: {csr.key}",
        f"  {labels['signature']}: {csr.signature_hash}",
        f"  {labels['common_name']}: {csr.common_name or labels['none']}",
        f"  {labels['names']}: {', '.join(csr.dns_names)}",
        f"  {labels['profiles']}: {', '.join(item.key for item in fitting) or labels['none']}",
    )
    return CheckResult(EXIT_ACCEPTED, lines)


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes: enough for the policy to see that a file is too big."""
    return stream.read(limit + 1)


def csr_check_file(
    path: str,
    *,
    profile: str | None = None,
    language: str = "en",
    stdin: BinaryIO | None = None,
) -> CheckResult:
    """Read ``path`` ("-" for standard input) and judge it."""
    policy = default_csr_policy()
    try:
        if path == "-":
            data = read_limited(stdin if stdin is not None else sys.stdin.buffer, policy.max_size)
        else:
            with open(path, "rb") as handle:
                data = read_limited(handle, policy.max_size)
    except OSError as exc:
        labels = _LABELS["ja" if language == "ja" else "en"]
        message = labels["unreadable"].format(path=path, error=exc.strerror or type(exc).__name__)
        return CheckResult(EXIT_UNREADABLE, (message,))
    return csr_check(data, profile=profile, language=language, policy=policy)


def build_parser(prog: str = "csr-check") -> argparse.ArgumentParser:
    """The command-line interface shared with ``certdesk csr-check``."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Judge a CSR (PEM or DER) by certdesk's issuance policy."
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser, *, default_language: str = "en") -> None:
    """Add csr-check's arguments to ``parser``."""
    parser.add_argument("file", help='the CSR file, PEM or DER ("-" reads standard input)')
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), help="also require that the CSR fits this profile"
    )
    parser.add_argument(
        "--language",
        choices=("ja", "en"),
        default=default_language,
        help=f"language of the messages (default: {default_language})",
    )


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run csr-check; return the exit code."""
    arguments = build_parser().parse_args(argv)
    result = csr_check_file(arguments.file, profile=arguments.profile, language=arguments.language)
    out = stdout if stdout is not None else sys.stdout
    for line in result.lines:
        print(line, file=out)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
