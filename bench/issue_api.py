"""Issuance over the REST API on PostgreSQL, against the bare pyca/cryptography loop.

    .venv/bin/python bench/issue_api.py [--clients 1,8] [--requests 400] [--workers 4]

What runs, all on 127.0.0.1 of this machine:

* a real server: gunicorn with ``--workers`` sync workers serving ``certdesk.wsgi`` (what
  ``certdesk serve`` starts), on PostgreSQL (``--database``, default a database
  ``certdesk_issue`` that the script creates), Huey on Redis (``--redis-url``, a database
  of its own: its Huey keys are deleted at the end) for the mail the issuance queues; the
  background worker is not started, so queued mail waits (in the outbox table);
* a DNS server on loopback (the test suite's dnslib lab server, with an empty zone) that
  answers the CAA lookups every issuance makes (RFC 8659: no CAA record anywhere permits);
* clients: ``N`` processes, each sending ``POST /api/v1/applications`` one after another
  with a new CSR (its own P-256 key, names ``h<i>.bench-shop.jp`` and ``w<i>.bench-shop.jp``,
  product ``dv-multi``) and a Bearer token — each client for an account of its own
  (``--same-account``: all for one; the audit chain is per account, so one account's
  issuances queue behind each other's audit write). The names are already validated (a DNS
  validation of ``bench-shop.jp`` within the reuse period), so each request files the
  application, reuses the validation, checks CAA, signs with the built-in ECDSA CA, stores
  the certificate, audits, queues the email and answers 201 ``issued``.

Reported per client count: certificates/s (requests / wall time) and latency p50/p95/p99 as
the clients saw it. In the same run, the bare loop of ``bench/issue_core.py`` (parse and
verify the CSR, build and sign a certificate with the same extensions, encode) gives the
physical limit of one core; the server has ``os.cpu_count()`` cores, shared with the
clients, the DNS server and PostgreSQL.

Goals (PRODUCT.md): >= 1,000 certificates/s with 8 clients, p50 <= 5 ms with one. Netflix
Lemur on this kind of machine: 17.9 certificates/s with one client (p50 54 ms), 34/s with
four.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import ROOT, api_owner, django_setup  # noqa: E402

LEMUR_ONE_CLIENT_PER_S = 17.9
LEMUR_ONE_CLIENT_P50_MS = 54.0
LEMUR_FOUR_CLIENTS_PER_S = 34.0
DOMAIN = "bench-shop.jp"
DNS_SERVER = (
    "import sys, time\n"
    "sys.path.insert(0, {root!r})\n"
    "from tests.certdesk.validation.servers import LabDnsServer\n"
    "with LabDnsServer() as server:\n"
    "    print(server.address, flush=True)\n"
    "    while True:\n"
    "        time.sleep(3600)\n"
)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/certdesk_issue")
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=400, help="per client count")
    parser.add_argument("--warmup", type=int, default=40, help="untimed requests first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench-issue"))
    parser.add_argument("--bare-seconds", type=float, default=3.0)
    parser.add_argument(
        "--same-account",
        action="store_true",
        help="all clients act for one account (default: each client its own account)",
    )
    return parser.parse_args()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(now_label: str, accounts: int) -> list[str]:
    """Migrate, create the CA and ``accounts`` accounts whose domain is validated; return a
    token of each."""
    from django.core.management import call_command

    from certdesk.accounts.models import Account
    from certdesk.core import clock
    from certdesk.suppliers.builtin import ensure_builtin_ca
    from certdesk.validation.models import DomainValidation

    call_command("migrate", verbosity=0)
    ensure_builtin_ca()
    now = clock.now()
    secrets = []
    for index in range(accounts):
        account = Account.objects.create(
            organization_name=f"株式会社ベンチ発行{index} {now_label}",
            address="東京都千代田区丸の内1-1-1",
            phone="03-1234-5678",
            email=f"issue-bench{index}@shop-certdesk.jp",
        )
        DomainValidation.objects.create(
            account=account,
            name=DOMAIN,
            method=DomainValidation.Method.DNS,
            token="0" * 64,
            status=DomainValidation.Status.VALID,
            created_at=now - timedelta(minutes=5),
            validated_at=now - timedelta(minutes=5),
        )
        secrets.append(api_owner(account, scopes=["certificates:write"], now=now))
    return secrets


def make_csrs(count: int, offset: int) -> list[str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    csrs = []
    for index in range(offset, offset + count):
        names = [f"h{index}.{DOMAIN}", f"w{index}.{DOMAIN}"]
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
            .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
        )
        csrs.append(csr.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return csrs


@contextmanager
def process(argv: list[str], env: dict[str, str], *, first_line: bool = False) -> Iterator[str]:
    """Run ``argv`` for the duration of the block; yields its first output line if asked."""
    child = subprocess.Popen(  # noqa: S603 - fixed argv
        argv,
        env=env,
        stdout=subprocess.PIPE if first_line else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = child.stdout.readline().strip() if first_line and child.stdout else ""
        yield line
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_until_serving(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/products")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def post_application(port: int, secret: str, csr: str) -> float:
    """One issuance; returns its latency in seconds. Raises on anything but 201 issued."""
    body = json.dumps({"product": "dv-multi", "csr": csr}).encode()
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/api/v1/applications",
        body=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status != 201 or json.loads(payload).get("status") != "issued":
        raise RuntimeError(f"{response.status}: {payload[:400]!r}")
    return elapsed


def client_run(
    port: int, secret: str, csrs: list[str], start_at: float
) -> tuple[float, float, list[float]]:
    """One client's requests, back to back from ``start_at`` (wall clock); returns its first
    start, last end and latencies."""
    while time.time() < start_at:
        time.sleep(0.0005)
    began = time.time()
    latencies = [post_application(port, secret, csr) for csr in csrs]
    return began, time.time(), latencies


def run_clients(
    port: int, secrets: list[str], csrs: list[str], clients: int
) -> tuple[float, list[float]]:
    """Send ``csrs`` split across ``clients`` processes starting together, client ``i`` as
    the owner of account ``i % len(secrets)``; returns the wall time from the first request
    to the last answer, and every latency."""
    shares = [
        (port, secrets[i % len(secrets)], csrs[i::clients], time.time() + 0.5)
        for i in range(clients)
    ]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.starmap(client_run, shares)
    wall = max(end for _began, end, _l in results) - min(began for began, _e, _l in results)
    return wall, [latency for _b, _e, latencies in results for latency in latencies]


def forget_queued_mail(url: str) -> int:
    """Delete the Huey keys of the benchmark's own Redis database (the mail it queued)."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match="huey.*"))
    if keys:
        client.delete(*keys)
    return len(keys)


def bare_rate(seconds: float) -> float:
    """The bare cryptography loop of bench/issue_core.py, certificates per CPU-second."""
    from datetime import UTC, datetime

    import issue_core
    import pki

    with tempfile.TemporaryDirectory() as folder:
        ca = pki.BuiltinCA.load_or_create(
            directory=folder,
            keys=pki.FileKeyStore(Path(folder) / "keys", secret="bench-secret-0123456789"),
            config=pki.CaConfig(base_url="http://pki.shop-certdesk.jp"),
            now=datetime.now(UTC) - timedelta(days=1),
        )
        loop = issue_core.bare_loop(ca, issue_core.make_csrs(200, "ecdsa"))
        loop()
        done, spent = 0, 0.0
        while spent < seconds:
            start = time.process_time()
            done += loop()
            spent += time.process_time() - start
    return done / spent


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * fraction) - 1))]


def main() -> None:
    arguments = parse_arguments()
    if not arguments.database.startswith(("postgresql://", "postgres://")):
        raise SystemExit("this benchmark is for PostgreSQL (--database postgresql://…)")
    ensure_database(arguments.database)
    Path(arguments.var_dir).mkdir(parents=True, exist_ok=True)
    os.environ["CERTDESK_REDIS_URL"] = arguments.redis_url
    django_setup(arguments.database, arguments.var_dir)
    from django.db import connections

    counts = [int(c) for c in arguments.clients.split(",") if c.strip()]
    secrets = prepare(time.strftime("%Y%m%d-%H%M%S"), 1 if arguments.same_account else max(counts))
    total = sum(arguments.requests + arguments.warmup for _ in counts)
    csrs = make_csrs(total, offset=int(time.time()) % 1_000_000 * 1000)
    connections.close_all()  # the client processes are forked: no shared connection

    port = free_port()
    env = {
        **os.environ,
        "CERTDESK_DATABASE_URL": arguments.database,
        "CERTDESK_VAR_DIR": os.environ["CERTDESK_VAR_DIR"],
        "CERTDESK_REDIS_URL": arguments.redis_url,
        "CERTDESK_ALLOWED_HOSTS": "127.0.0.1",
        "CERTDESK_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }
    dns_code = DNS_SERVER.format(root=str(ROOT))
    with process([sys.executable, "-c", dns_code], env, first_line=True) as dns_address:
        env["CERTDESK_DCV_DNS_SERVER"] = dns_address
        server = [
            sys.executable,
            "-m",
            "gunicorn",
            "certdesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(arguments.workers),
        ]
        with process(server, env):
            wait_until_serving(port, time.monotonic() + 60)
            print(
                f"gunicorn {arguments.workers} sync workers on 127.0.0.1:{port}, PostgreSQL, "
                f"Redis queue, CAA via lab DNS {dns_address}; {os.cpu_count()} cores shared "
                "with the clients; "
                + ("all clients in one account" if arguments.same_account else "one account each"),
                flush=True,
            )
            offset = 0
            results = []
            for clients in counts:
                warm = csrs[offset : offset + arguments.warmup]
                offset += arguments.warmup
                run_clients(port, secrets, warm, clients)
                timed = csrs[offset : offset + arguments.requests]
                offset += arguments.requests
                wall, latencies = run_clients(port, secrets, timed, clients)
                results.append((clients, len(timed) / wall, latencies))
                print(
                    f"{clients} client(s): {len(timed) / wall:7.1f} certificates/s, "
                    f"p50 {statistics.median(latencies) * 1000:6.1f} ms, "
                    f"p95 {percentile(latencies, 0.95) * 1000:6.1f} ms, "
                    f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms "
                    f"({len(timed)} issuances)",
                    flush=True,
                )
    print(f"removed {forget_queued_mail(arguments.redis_url)} Huey keys from {arguments.redis_url}")
    bare = bare_rate(arguments.bare_seconds)
    print(f"bare cryptography loop (one core): {bare:7.0f} certificates/s")
    for clients, rate, latencies in results:
        p50 = statistics.median(latencies) * 1000
        line = (
            f"{clients} client(s): {rate / bare:6.1%} of one core's bare loop, "
            f"{rate / (bare * (os.cpu_count() or 1)):6.1%} of all cores'"
        )
        if clients == 1:
            line += (
                f"; vs Lemur {rate / LEMUR_ONE_CLIENT_PER_S:5.1f}x the rate, "
                f"{LEMUR_ONE_CLIENT_P50_MS / p50:5.1f}x lower p50; goal p50 <= 5 ms: "
                f"{'met' if p50 <= 5 else 'MISSED'}"
            )
        else:
            line += (
                f"; vs Lemur's 4 clients {rate / LEMUR_FOUR_CLIENTS_PER_S:5.1f}x; "
                f"goal >= 1,000/s with 8: {'met' if clients >= 8 and rate >= 1000 else 'MISSED'}"
            )
        print(line)


if __name__ == "__main__":
    main()
