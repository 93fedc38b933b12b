"""Benchmark the candidate production WSGI servers for certdesk: gunicorn vs granian.

The spec leaves the production server as "gunicorn or granian, chosen by benchmark"; this
script is that benchmark. It is not a test and is never collected by pytest.

What it measures
    Each candidate serves ``certdesk.wsgi:application`` on a free 127.0.0.1 port with the same
    number of processes (``--workers``, default 2, one per core):

    * ``gunicorn-sync``     ``gunicorn -w 2`` (sync workers)
    * ``gunicorn-gthread``  ``gunicorn -w 2 --threads 4``
    * ``granian``           ``python -m granian --interface wsgi --workers 2``, only when
      ``--granian-python`` names a Python that can import granian (otherwise skipped).

    The app runs against a throwaway ``CERTDESK_VAR_DIR`` (SQLite, migrated with the
    project's ``certdesk migrate``). For every server and path the script warms up, then
    drives ``wrk`` (2 threads, 16 connections, ``--duration`` seconds) and reports
    requests/s, p50 and p99 latency, and the throughput ratio to gunicorn-sync measured in
    the same run. Paths default to ``/`` (a rendered template page) and
    ``/api/v1/no-such-thing`` (a JSON problem response). A path that answers 5xx during the
    preflight (for instance while URL modules are still being written) is replaced by
    ``--fallback-path`` (``/static/certdesk/site.css``) and the substitution is printed.

    All traffic goes to 127.0.0.1 only; every server started is stopped again, also on
    Ctrl-C; every step has a timeout, so the run is bounded (about
    servers x paths x (warm-up + duration) plus start-up).

How to run
    ``wrk`` must be on PATH (Debian: ``apt-get install -y wrk``). gunicorn comes from the
    project venv; granian lives in a separate, benchmark-only venv::

        python3 -m venv /tmp/benchvenv
        /tmp/benchvenv/bin/pip install -r requirements/lock.txt granian
        /tmp/benchvenv/bin/pip install --no-deps -e .
        .venv/bin/python bench/wsgi_server.py --granian-python /tmp/benchvenv/bin/python

    Note the machine running both wrk and the servers: on a small box wrk competes with the
    workers for CPU, so compare ratios within one run rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO_ROOT / ".venv"
APP = "certdesk.wsgi:application"
HOST = "127.0.0.1"
DEFAULT_PATHS = ("/", "/api/v1/no-such-thing")
FALLBACK_PATH = "/static/certdesk/site.css"
BASELINE = "gunicorn-sync"


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


@dataclass(frozen=True)
class Candidate:
    name: str
    argv: list[str]  # "{port}" in an item is replaced by the port the server gets

    def command(self, port: int) -> list[str]:
        return [a.replace("{port}", str(port)) for a in self.argv]


@dataclass(frozen=True)
class Result:
    server: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def can_import(python: str, module: str) -> bool:
    try:
        proc = subprocess.run(
            [python, "-c", f"import {module}"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def candidates(args: argparse.Namespace, project_python: str) -> list[Candidate]:
    bind = f"{HOST}:{{port}}"
    workers = str(args.workers)
    gunicorn = [project_python, "-m", "gunicorn", "-b", bind, "-w", workers]
    found = [
        Candidate(BASELINE, [*gunicorn, "-k", "sync", APP]),
        Candidate("gunicorn-gthread", [*gunicorn, "-k", "gthread", "--threads", "4", APP]),
    ]
    if args.granian_python is None:
        print("granian: skipped (pass --granian-python PYTHON to include it)")
    elif not can_import(args.granian_python, "granian"):
        print(f"granian: skipped ({args.granian_python} cannot import granian)")
    else:
        found.append(
            Candidate(
                "granian",
                [
                    args.granian_python,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--workers",
                    workers,
                    "--host",
                    HOST,
                    "--port",
                    "{port}",
                    APP,
                ],
            )
        )
    return found


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a server and all its workers (its own process group): TERM, then KILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def running(
    cand: Candidate, port: int, env: dict[str, str], workdir: Path, timeout: float
) -> Iterator[None]:
    log_path = workdir / f"{cand.name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cand.command(port),
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(proc, port, timeout, log_path)
            yield
        finally:
            stop(proc)


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise BenchError(f"server exited with {proc.returncode} before answering:\n{tail}")
        try:
            http_get(port, DEFAULT_PATHS[-1], timeout=2.0)
        except OSError:
            time.sleep(0.2)
        else:
            return
    raise BenchError(f"server did not answer on {HOST}:{port} within {timeout:.0f}s")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not m:
        raise BenchError(f"unparseable wrk latency {value!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def run_wrk(wrk: str, port: int, path: str, seconds: int, threads: int, connections: int) -> str:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        f"http://{HOST}:{port}{path}",
    ]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(argv)}") from exc
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def parse_wrk(server: str, path: str, out: str) -> Result:
    def grab(pattern: str, default: str | None = None) -> str:
        m = re.search(pattern, out, re.MULTILINE)
        if m:
            return m.group(1)
        if default is None:
            raise BenchError(f"no {pattern!r} in wrk output:\n{out}")
        return default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        server=server,
        path=path,
        rps=float(grab(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=to_ms(grab(r"^\s+50%\s+(\S+)")),
        p99_ms=to_ms(grab(r"^\s+99%\s+(\S+)")),
        requests=int(grab(r"^\s+(\d+) requests in")),
        non_2xx_3xx=int(grab(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def preflight(port: int, paths: list[str], fallback: str) -> list[str]:
    """Check every path once; replace any that 5xx by the fallback (and say so)."""
    chosen: list[str] = []
    for path in paths:
        status, _ = http_get(port, path)
        print(f"preflight: GET {path} -> {status}")
        if status >= 500:
            print(f"preflight: {path} answers {status}; benchmarking {fallback} instead")
            path = fallback
            status, _ = http_get(port, path)
            print(f"preflight: GET {path} -> {status}")
            if status >= 500:
                raise BenchError(f"fallback path {path} answers {status} too")
        if path not in chosen:
            chosen.append(path)
    return chosen


def print_table(results: list[Result]) -> None:
    base = {r.path: r.rps for r in results if r.server == BASELINE}
    header = (
        f"{'server':<17} {'path':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs sync':>8} {'non2xx/3xx':>10} {'sockerr':>7}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.rps / base[r.path]:.2f}x" if base.get(r.path) else "n/a"
        print(
            f"{r.server:<17} {r.path:<26} {r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{ratio:>8} {r.non_2xx_3xx:>10} {r.socket_errors:>7}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="measured seconds per path")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per path")
    p.add_argument("--workers", type=int, default=2, help="processes per server")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument(
        "--granian-python",
        default=None,
        help="a Python that can import granian and certdesk (default: skip granian)",
    )
    p.add_argument(
        "--venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"project venv providing certdesk and gunicorn (default {DEFAULT_VENV})",
    )
    p.add_argument("--path", dest="paths", action="append", help="path to measure (repeatable)")
    p.add_argument("--fallback-path", default=FALLBACK_PATH, help="used for a path that 5xx")
    p.add_argument("--start-timeout", type=float, default=30.0, help="seconds to wait per server")
    return p.parse_args(argv)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def bench(args: argparse.Namespace) -> int:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk not found on PATH; install it (Debian: apt-get install -y wrk)")
    project_python = str(args.venv / "bin" / "python")
    certdesk = str(args.venv / "bin" / "certdesk")
    for exe in (project_python, certdesk):
        if not os.access(exe, os.X_OK):
            raise BenchError(f"{exe} not found; create the project venv first")

    with tempfile.TemporaryDirectory(prefix="certdesk-bench-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "CERTDESK_VAR_DIR": str(workdir / "var"), "PYTHONUNBUFFERED": "1"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        print(f"var dir: {env['CERTDESK_VAR_DIR']}; migrating ...")
        mig = subprocess.run(
            [certdesk, "migrate", "--no-input", "-v0"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if mig.returncode != 0:
            raise BenchError(f"certdesk migrate failed:\n{mig.stdout}{mig.stderr}")

        paths: list[str] = list(args.paths or DEFAULT_PATHS)
        checked = False
        results: list[Result] = []
        for cand in candidates(args, project_python):
            # A fresh port per server, so a lingering socket never blocks the next one.
            port = free_port()
            print(f"\n== {cand.name}: {' '.join(cand.command(port))}")
            with running(cand, port, env, workdir, args.start_timeout):
                if not checked:
                    paths = preflight(port, paths, args.fallback_path)
                    checked = True
                for path in paths:
                    run_wrk(wrk, port, path, args.warmup, args.threads, args.connections)
                    out = run_wrk(wrk, port, path, args.duration, args.threads, args.connections)
                    res = parse_wrk(cand.name, path, out)
                    results.append(res)
                    print(
                        f"   {path}: {res.rps:.1f} req/s, p50 {res.p50_ms:.2f} ms, "
                        f"p99 {res.p99_ms:.2f} ms"
                    )
        print_table(results)
        print(
            f"\n{args.workers} processes per server; wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s after {args.warmup}s warm-up; "
            f"ratio = req/s / {BASELINE} req/s for the same path."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM both unwind through the ``finally`` that stops the servers (SIGINT is
    # re-armed explicitly: a parent shell may have started us with it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return bench(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
