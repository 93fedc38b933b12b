"""The built-in CA's first start: ``certdesk serve`` creates the hierarchy in a fresh ``var/``
and serves it under ``/pki/``; later starts load the same one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from certdesk.suppliers.builtin import builtin_ca, ensure_builtin_ca
from tests.conftest import free_port


def test_first_start_creates_the_ca_and_later_starts_load_it(
    settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.CA_DIR = tmp_path / "ca"

    ensure_builtin_ca()
    first = builtin_ca()
    created = capsys.readouterr().out
    builtin_ca.cache_clear()  # as in a new process
    ensure_builtin_ca()
    again = builtin_ca()

    assert f"Created the built-in CA in {tmp_path / 'ca'}" in created
    assert capsys.readouterr().out == ""
    assert (tmp_path / "ca" / "ca.json").exists()
    assert again.root.certificate == first.root.certificate
    assert again.issuing.certificate == first.issuing.certificate


@pytest.mark.slow
def test_serve_on_a_fresh_var_publishes_a_new_ca(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CERTDESK_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "certdesk.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-worker",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                assert time.monotonic() < deadline, "certdesk serve did not answer within 90 s"
                time.sleep(0.2)
        store = json.loads((tmp_path / "ca" / "ca.json").read_text())
        slugs = {entry["role"]: entry["slug"] for entry in store["authorities"]}
        stored = {
            entry["role"]: x509.load_pem_x509_certificate(entry["certificate"].encode())
            for entry in store["authorities"]
        }
        with urllib.request.urlopen(f"{base}/pki/ca/{slugs['issuing']}.pem") as response:  # noqa: S310
            chain = x509.load_pem_x509_certificates(response.read())
        with urllib.request.urlopen(f"{base}/pki/crl/{slugs['issuing']}.crl") as response:  # noqa: S310
            crl = x509.load_der_x509_crl(response.read())
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)

    assert f"Created the built-in CA in {tmp_path / 'ca'}" in output
    assert chain == [stored["issuing"], stored["root"]]
    chain[0].verify_directly_issued_by(chain[1])
    assert crl.issuer == chain[0].subject
    assert crl.is_signature_valid(chain[0].public_key())  # type: ignore[arg-type]
