"""Latency of the certificate history search on a seeded database (see bench/seed.py).

    .venv/bin/python bench/search.py --database sqlite:////work/main/var/bench/search.sqlite3
    .venv/bin/python bench/search.py --database postgresql://postgres@127.0.0.1:5432/certdesk_bench

What is timed: ``certdesk.certificates.selectors.certificate_search`` — the query and the
model objects of one page (50 rows, product and organisation joined), exactly what the
portal list, the CSV export and ``GET /api/v1/certificates`` call — for:

* host coverage: "which certificates cover <host>" for a name of a random certificate (for a
  wildcard, a host one label below it), which also finds the wildcards covering it;
* serial lookup: the serial of a random certificate, spelled as browsers show it
  (``7E:62:…``) or in decimal, alternately;
* substring ("names containing"), with texts taken from a name of the account: a whole label
  (``fukuoka1166``, ``www``), part of a label (``kuoka``, ``sakura``), any four to six
  characters across labels (``a1166.co``, the hardest for trigram indexes), and texts found
  nowhere;
* list pages: the first page (newest first; by expiry; valid only by expiry; revoked only)
  and deep pages, reached with the cursor of a random certificate of the account as a client
  paging through would hold it.

Accounts are picked by picking a random certificate, so large accounts are asked as often as
their size says; the largest account (the worst case) is also measured on its own. Each
kind runs ``--samples`` times after a warm-up; the data is warm in the page cache (this
measures the queries, not the disk). With ``--api`` the same kinds also go through the whole
Django stack in-process (``GET /api/v1/certificates`` with a Bearer token: authentication,
query, JSON), which needs the search router mounted.

Targets (PRODUCT.md, at 1,000,000 certificates): host and serial p95 <= 10 ms, substring p95
<= 50 ms, every list page p95 <= 10 ms. Netflix Lemur's published figures at 100,000
certificates: substring search 200-240 ms, SAN lookup 260 ms; the ratio columns divide
Lemur's figure (its best case, 200 ms, for substring) by ours.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import NOW, ROOT, WORDS, api_owner, django_setup  # noqa: E402

LEMUR_SUBSTRING_MS = 200.0
LEMUR_SAN_MS = 260.0


@dataclass
class Result:
    label: str
    samples: list[float]
    target_ms: float | None
    lemur_ms: float | None

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000

    @property
    def missed(self) -> bool:
        return self.target_ms is not None and self.p95_ms > self.target_ms

    def line(self) -> str:
        p50 = statistics.median(self.samples) * 1000
        p95 = self.p95_ms
        worst = max(self.samples) * 1000
        verdict = ""
        if self.target_ms is not None:
            met = "MISSED" if self.missed else "met"
            verdict = f"target p95 <= {self.target_ms:g} ms: {met}"
        lemur = f"Lemur/ours {self.lemur_ms / p95:6.0f}x" if self.lemur_ms else " " * 17
        return (
            f"{self.label:<46} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  max {worst:7.2f} ms  "
            f"{lemur}  {verdict}"
        )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--api", action="store_true", help="also time GET /api/v1/certificates")
    parser.add_argument(
        "--no-prewarm", action="store_true", help="skip reading the tables into the OS cache"
    )
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench"))
    return parser.parse_args()


def timed(samples: int, make: Callable[[], Callable[[], Any]]) -> list[float]:
    """Run ``samples`` prepared calls (preparation is not timed); a tenth more as warm-up."""
    for _ in range(max(3, samples // 10)):
        make()()
    durations = []
    for _ in range(samples):
        call = make()
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return durations


def prewarm() -> str:
    """Read the search's tables and indexes once, so that the run measures queries rather
    than the first read of each page from disk (pg_prewarm on PostgreSQL; a sequential read
    of the database file on SQLite)."""
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cursor.execute(
                "SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                "AND c.relkind IN ('r', 'i') AND (c.relname LIKE 'certificates_%' "
                "OR c.relname LIKE 'cert%' OR c.relname LIKE 'organizations_%')"
            )
            blocks = cursor.fetchone()[0] or 0
        return f"prewarmed {blocks * 8 / 1024:,.0f} MB in {time.perf_counter() - started:.0f} s"
    path = Path(connection.settings_dict["NAME"])
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(16 << 20):
            size += len(chunk)
    return f"prewarmed {size / 2**20:,.0f} MB in {time.perf_counter() - started:.0f} s"


def main() -> None:
    arguments = parse_arguments()
    django_setup(arguments.database, arguments.var_dir)
    if not arguments.no_prewarm:
        print(prewarm(), flush=True)
    from django.db import connection
    from django.db.models import Count, Max, Min

    from certdesk.accounts.models import Account
    from certdesk.certificates import selectors
    from certdesk.certificates.models import Certificate
    from certdesk.certificates.selectors import CertificateQuery, Sort, Status

    rng = random.Random(arguments.seed)
    bounds = Certificate.objects.aggregate(low=Min("id"), high=Max("id"), n=Count("id"))
    if not bounds["n"]:
        raise SystemExit("no certificates: run bench/seed.py first")
    largest_id = (
        Certificate.objects.values("account_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("account_id", "n")
        .first()
    )
    assert largest_id is not None
    largest = Account.objects.get(pk=largest_id[0])
    accounts: dict[int, Account] = {largest.pk: largest}

    def random_certificate(account: Account | None = None) -> Certificate:
        while True:
            qs = Certificate.objects.defer("pem", "chain_pem")
            if account is not None:
                qs = qs.filter(account=account)
            found = qs.filter(id__gte=rng.randint(bounds["low"], bounds["high"])).order_by("id")
            certificate = found.first()
            if certificate is not None:
                return certificate

    def account_of(certificate: Certificate) -> Account:
        account = accounts.get(certificate.account_id)
        if account is None:
            account = accounts[certificate.account_id] = Account.objects.get(
                pk=certificate.account_id
            )
        return account

    def search(
        account: Account, query: CertificateQuery, cursor: str | None = None
    ) -> Callable[[], Any]:
        return lambda: selectors.certificate_search(
            account=account, query=query, now=NOW, cursor=cursor, limit=50
        )

    def host_of(certificate: Certificate) -> str:
        name = rng.choice(certificate.names)
        return f"{rng.choice(['www', 'shop', 'x1'])}.{name[2:]}" if name.startswith("*.") else name

    def serial_of(certificate: Certificate) -> str:
        if rng.random() < 0.5:
            return certificate.serial_colon_hex
        return str(certificate.serial_int)

    def label_of(certificate: Certificate) -> str:
        """A whole label of one of its names: ``fukuoka1166``, ``www``, ``sakura-denki3``."""
        labels = [x for x in rng.choice(certificate.names).split(".") if x != "*"]
        return rng.choice(labels[:-1] or labels)

    def label_part_of(certificate: Certificate) -> str:
        """Four to six characters inside one label (``kuoka``), or a word of it (``sakura``)."""
        label = label_of(certificate)
        words = [w for w in WORDS if w in label]
        if words and rng.random() < 0.5:
            return rng.choice(words)
        size = min(len(label), rng.randint(4, 6))
        start = rng.randint(0, len(label) - size)
        return label[start : start + size]

    def window_of(certificate: Certificate) -> str:
        """Any four to six characters of a name, dots included (``a1166.co``): the worst case
        for trigram indexes, which PostgreSQL's pg_trgm splits at the punctuation."""
        name = rng.choice(certificate.names).lstrip("*.")
        size = rng.randint(4, 6)
        start = rng.randint(0, max(0, len(name) - size))
        return name[start : start + size]

    def text(
        fragment: Callable[[Certificate], str],
    ) -> Callable[[Account, Certificate], Callable[[], Any]]:
        return lambda a, c: search(a, CertificateQuery(q=fragment(c), match=selectors.Match.TEXT))

    def deep_cursor(account: Account, sort: Sort) -> str:
        certificate = random_certificate(account)
        key = (
            certificate.issued_at
            if sort in (Sort.ISSUED, Sort.ISSUED_DESC)
            else certificate.not_after
        )
        return selectors._cursor_encode(sort, key, certificate.pk)

    def any_account(
        kind: Callable[[Account, Certificate], Callable[[], Any]],
    ) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            certificate = random_certificate()
            return kind(account_of(certificate), certificate)

        return make

    def largest_account(
        kind: Callable[[Account, Certificate], Callable[[], Any]],
    ) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            return kind(largest, random_certificate(largest))

        return make

    kinds: list[
        tuple[str, Callable[[Account, Certificate], Callable[[], Any]], float | None, float | None]
    ] = [
        ("host coverage", lambda a, c: search(a, CertificateQuery(q=host_of(c))), 10, LEMUR_SAN_MS),
        ("serial lookup", lambda a, c: search(a, CertificateQuery(q=serial_of(c))), 10, None),
        ("substring: a whole label", text(label_of), 50, LEMUR_SUBSTRING_MS),
        ("substring: part of a label", text(label_part_of), 50, LEMUR_SUBSTRING_MS),
        ("substring: any 4-6 characters", text(window_of), 50, LEMUR_SUBSTRING_MS),
        (
            "substring (found nowhere)",
            lambda a, c: search(
                a, CertificateQuery(q=f"zq{rng.randint(100, 999)}x", match=selectors.Match.TEXT)
            ),
            50,
            LEMUR_SUBSTRING_MS,
        ),
        ("list: first page, newest first", lambda a, c: search(a, CertificateQuery()), 10, None),
        (
            "list: first page, by expiry",
            lambda a, c: search(a, CertificateQuery(sort=Sort.EXPIRY)),
            10,
            None,
        ),
        (
            "list: valid only, by expiry",
            lambda a, c: search(a, CertificateQuery(status=Status.VALID, sort=Sort.EXPIRY)),
            10,
            None,
        ),
        (
            "list: revoked only, newest first",
            lambda a, c: search(a, CertificateQuery(status=Status.REVOKED)),
            10,
            None,
        ),
        (
            "list: deep page (cursor), newest first",
            lambda a, c: search(a, CertificateQuery(), deep_cursor(a, Sort.ISSUED_DESC)),
            10,
            None,
        ),
        (
            "list: deep page (cursor), by expiry",
            lambda a, c: search(a, CertificateQuery(sort=Sort.EXPIRY), deep_cursor(a, Sort.EXPIRY)),
            10,
            None,
        ),
    ]

    print(
        f"{connection.vendor}: {bounds['n']:,} certificates; largest account "
        f"{largest.pk} with {largest_id[1]:,}; {arguments.samples} samples per line; "
        f"now={NOW:%Y-%m-%d}"
    )
    results: list[Result] = []
    for scope, picker in (("any account", any_account), ("largest account", largest_account)):
        print(f"-- {scope}")
        for label, kind, target, lemur in kinds:
            result = Result(f"{label}", timed(arguments.samples, picker(kind)), target, lemur)
            results.append(result)
            print(result.line(), flush=True)

    if arguments.api:
        api_lines(
            arguments.samples, largest, rng, random_certificate, host_of, serial_of, label_part_of
        )
    missed = [r for r in results if r.missed]
    print("all targets met" if not missed else f"targets missed: {len(missed)}")


def api_lines(
    samples: int,
    account: Any,
    rng: random.Random,
    random_certificate: Callable[..., Any],
    host_of: Callable[[Any], str],
    serial_of: Callable[[Any], str],
    fragment_of: Callable[[Any], str],
) -> None:
    """The same searches through ``GET /api/v1/certificates`` in-process, largest account."""
    from urllib.parse import urlencode

    from django.test import Client

    from certdesk.core import clock

    secret = api_owner(account, scopes=["certificates:read"], now=clock.now())
    client = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Bearer {secret}"})

    def get(params: dict[str, str]) -> Callable[[], Any]:
        url = "/api/v1/certificates?" + urlencode(params)

        def call() -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
            return response

        return call

    print("-- through the API in-process (largest account; auth + query + JSON)")
    lines = [
        ("API host coverage", lambda c: get({"q": host_of(c)}), 10),
        ("API serial lookup", lambda c: get({"q": serial_of(c)}), 10),
        ("API substring", lambda c: get({"q": fragment_of(c), "match": "text"}), 50),
        ("API first page", lambda c: get({}), 10),
    ]
    for label, kind, target in lines:
        durations = timed(samples, lambda kind=kind: kind(random_certificate(account)))
        print(Result(label, durations, target, None).line(), flush=True)


if __name__ == "__main__":
    main()
