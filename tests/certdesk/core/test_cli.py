"""The certdesk console script and its periodic-job sweep."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_sweep_runs_every_job_as_of_the_given_moment(capsys):
    call_command("sweep", "--now", "2027-03-15T00:00:00+09:00")
    out = capsys.readouterr().out
    assert "sweep as of 2027-03-15T00:00:00+09:00" in out
    assert "certdesk.notifications.jobs.deliver_due_email" in out


@pytest.mark.django_db
def test_sweep_dry_run_says_so(capsys):
    call_command("sweep", "--now", "2027-01-01T00:00:00", "--dry-run")
    out = capsys.readouterr().out
    assert "(dry run)" in out
    assert "due" in out


def test_sweep_refuses_a_malformed_moment():
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("sweep", "--now", "next tuesday")


def test_console_script_lists_certdesk_commands(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "certdesk.cli", "help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CERTDESK_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "sweep", "createoperator", "csr_check", "audit_verify"):
        assert command in result.stdout
    # The secret key was generated into var/ because none was configured.
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
