"""The style rules are checked with the tests: ruff over the tree, mypy strict on the core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_finds_nothing():
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--output-format", "concise", "src", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pki_core_is_strictly_typed_and_framework_free():
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "src/pki"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "pki").rglob("*.py")
        if "django" in path.read_text()
    ]
    assert offenders == []
