"""``certdesk csr-check FILE``: the verdict a customer sees before applying."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from pki import cli
from tests.pki.helpers import VECTORS

ROOT = Path(__file__).resolve().parents[2]


def _run(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("csr_check", *arguments, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_acceptable_csr_exits_zero_with_a_summary() -> None:
    code, out, _ = _run(str(VECTORS / "accepted--rsa-2048-multi.csr.pem"), "--language", "en")
    assert code == 0
    assert out.splitlines() == [
        "accepted",
        "  key: RSA 2048",
        "  signature: SHA-256",
        "  common name: www.shop-certdesk.jp",
        "  names: www.shop-certdesk.jp, shop-certdesk.jp",
        "  profiles: dv-multi, ov-multi",
    ]


def test_summary_is_in_japanese_by_default() -> None:
    code, out, _ = _run(str(VECTORS / "accepted--ecdsa-p256-wildcard.csr.pem"))
    assert code == 0
    assert out.splitlines()[0] == "受付可能"
    assert "  鍵: ECDSA P-256" in out.splitlines()
    assert "  適合するプロファイル: dv-wildcard, ov-wildcard" in out.splitlines()


def test_der_csr_is_read_too() -> None:
    code, out, _ = _run(str(VECTORS / "accepted--rsa-4096-single.csr.der"), "--language", "en")
    assert code == 0
    assert "  key: RSA 4096" in out.splitlines()


def test_refused_csr_exits_non_zero_with_code_and_message() -> None:
    code, out, _ = _run(
        str(VECTORS / "refused--weak_key_fermat--close-primes.csr.pem"), "--language", "en"
    )
    assert code == 1
    assert out.strip() == (
        "refused: weak_key_fermat: This RSA key's two primes are too close together; it was "
        "factored with Fermat's method. Treat it as compromised and create a new key."
    )


def test_refusal_in_japanese() -> None:
    code, out, _ = _run(str(VECTORS / "refused--name_internal--dot-local.csr.pem"))
    assert code == 1
    assert out.strip() == (
        "refused: name_internal: 「printer.local」は内部名または予約名（「local」）であり、"
        "証明書を発行できません。"
    )


def test_private_key_is_refused_without_echoing_it() -> None:
    path = VECTORS / "refused--csr_private_key--pkcs8.pem"
    code, out, err = _run(str(path), "--language", "en")
    assert code == 1
    assert out.startswith("refused: csr_private_key: ")
    assert "compromised" in out
    body = path.read_text().splitlines()[1]
    assert body not in out + err


def test_profile_option_requires_a_fit() -> None:
    path = str(VECTORS / "accepted--rsa-2048-multi.csr.pem")
    code, out, _ = _run(path, "--profile", "dv-single", "--language", "en")
    assert code == 1
    assert out.startswith("refused: profile_single_name: ")
    code, out, _ = _run(path, "--profile", "ov-multi", "--language", "en")
    assert code == 0
    assert "  profiles: ov-multi" in out.splitlines()


def test_unreadable_file_exits_two(tmp_path: Path) -> None:
    code, out, err = _run(str(tmp_path / "missing.csr"), "--language", "en")
    assert code == 2
    assert out == ""
    assert "cannot read" in err and "missing.csr" in err


def test_framework_free_entry_point_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = (VECTORS / "accepted--ecdsa-p256-single.csr.pem").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = io.StringIO()
    assert cli.main(["-", "--language", "en"], stdout=out) == 0
    assert out.getvalue().startswith("accepted\n")


def test_certdesk_console_script_judges_a_file() -> None:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.django_settings",
        "PYTHONPATH": str(ROOT),
    }
    script = Path(sys.executable).with_name("certdesk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "certdesk.cli"]
    done = subprocess.run(
        [
            *command,
            "csr-check",
            "--language",
            "en",
            str(VECTORS / "refused--name_underscore--san.csr.pem"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("refused: name_underscore: ")
    accepted = subprocess.run(
        [*command, "csr-check", str(VECTORS / "accepted--idn-a-label.csr.pem")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "xn--r8jz45g.jp" in accepted.stdout
