"""Fill a certdesk database with N certificates across many accounts, fast, for benchmarks.

    .venv/bin/python bench/seed.py --database sqlite:////work/main/var/bench/search.sqlite3
    .venv/bin/python bench/seed.py --database postgresql://postgres@127.0.0.1:5432/certdesk_bench

Options: ``--certificates`` (default 1,000,000), ``--accounts`` (1,000), ``--zipf`` (the
exponent of the power law that sizes accounts: the k-th largest gets a share proportional to
1/k^s), ``--seed`` (the random seed; the same seed gives the same data).

The database is migrated first; rows are appended (ids continue after the largest present).
What is made, and how realistic it is:

* accounts with Japanese organisation names, 1-3 organisations each (for OV products);
* per account a set of "sites" (the name sets it certifies) under its own registrable domains
  (``sakura-denki3.co.jp``, ``hikari.tokyo``, IDN ``xn--`` labels among them), single names,
  multi-name sets and wildcards (``*.example`` with its apex); each site is certified again
  and again over the three years, as renewals do, so a host is covered by several
  certificates, most of them expired;
* issuance dates spread evenly over the three years before ``NOW`` (ids grow with issuance
  time, as they do in a real database), validity one day under the Baseline Requirements cap
  of the issuance date, 3% revoked with an RFC 5280 reason;
* random 159-bit serials (lower-case hex, as certdesk stores them), random SHA-256
  fingerprints;
* ``pem``/``chain_pem``: real certificates and a real chain from a throwaway built-in CA, but
  a pool of 64 reused across rows so that rows have their real size without signing a million
  certificates. They do not match the row's names or serial: this is search data, not a CA
  history.

Rows go in with PostgreSQL ``COPY`` or SQLite ``executemany`` in large batches while the
tables' secondary indexes (and SQLite's FTS triggers) are set aside; they are built again
after the load (the FTS table rebuilt), all in one transaction, then the tables are
analysed. No application rows are made (``application_id`` stays empty, as for imported
certificates).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# The moment the data is "as of": bench/search.py judges status and expiry against it.
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
REVOKED_SHARE = 0.03
BATCH = 20_000

WORDS = (
    "sakura fuji yamato kaze hikari midori asahi minato ginza akiba kobe sendai fukuoka naha "
    "osaka nagoya kyoto sapporo yokohama chiba saitama hiroshima okayama niigata kanazawa "
    "denki shokai gakuen clinic hotel ryokan kobo shoken hoken unyu kensetsu fudosan seiyaku "
    "foods travel systems tech soft data cloud labo design market mall style works books "
    "music sports motors energy umi sora hoshi tsuki mori kawa yama hana kumo nishi higashi "
    "kita minami shin dai nihon zen ai tomo kizuna"
).split()
TLDS = ("co.jp", "co.jp", "co.jp", "jp", "jp", "com", "net", "ne.jp", "or.jp", "tokyo", "shop")
IDN_LABELS = ("xn--eckwd4c7c", "xn--wgv71a119e", "xn--zckzah", "xn--1qqw23a")
HOSTS = (
    "www www www shop mail api app portal m cdn static img blog news login secure dev stg "
    "admin support store booking members my auth vpn gw"
).split()
ORG_WORDS = (
    "さくら 富士 大和 光 みどり 旭 港 銀座 神戸 仙台 福岡 那覇 大阪 名古屋 京都 札幌 横浜 "
    "電機 商会 学園 クリニック ホテル 旅館 工房 証券 保険 運輸 建設 不動産 製薬 食品 トラベル "
    "システムズ テック ソフト データ クラウド ラボ デザイン マーケット 〜未来〜 ①番館"
).split()
ORG_FORMS = ("株式会社{}", "{}株式会社", "有限会社{}", "一般社団法人{}", "合同会社{}")
# (product code, share of sites)
PRODUCT_MIX = (
    ("dv-single", 0.55),
    ("dv-multi", 0.15),
    ("dv-wildcard", 0.12),
    ("ov-single", 0.10),
    ("ov-multi", 0.05),
    ("ov-wildcard", 0.03),
)
REVOCATION_REASONS = (0, 1, 3, 4, 4, 5, 5)


@dataclass
class Site:
    account_id: int
    product_id: int
    organization_id: int | None
    names: list[str]
    key_description: str


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="sqlite:////abs/path or postgresql://…")
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--zipf", type=float, default=1.0, help="power-law exponent of sizes")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument(
        "--var-dir", default=str(ROOT / "var" / "bench"), help="CERTDESK_VAR_DIR for the run"
    )
    return parser.parse_args()


def django_setup(database: str, var_dir: str) -> None:
    os.environ["CERTDESK_DATABASE_URL"] = database
    os.environ.setdefault("CERTDESK_VAR_DIR", var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certdesk.settings")
    Path(os.environ["CERTDESK_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def api_owner(account: Any, *, scopes: list[str], now: datetime) -> str:
    """An owner of ``account`` who has accepted the current terms, and a new API token of
    theirs with ``scopes``: returns the token's secret (for the API benchmarks)."""
    from django.utils import timezone

    from certdesk.accounts.models import User
    from certdesk.terms.selectors import terms_current
    from certdesk.terms.services import terms_accept
    from certdesk.tokens.services import token_create

    user = User.objects.filter(account=account, role=User.Role.OWNER, is_active=True).first()
    if user is None:
        user = User.objects.create_user(
            username=f"bench-owner-{account.pk}",
            password=None,
            account=account,
            role=User.Role.OWNER,
            full_name="ベンチ 太郎",
            email=f"bench{account.pk}@shop-certdesk.jp",
            email_verified_at=timezone.now(),
        )
    version = terms_current(now=now)
    if version is not None:
        terms_accept(user=user, version=version, ip="127.0.0.1", now=now)
    created = token_create(user=user, name="benchmark", scopes=scopes, expires_in_days=1, now=now)
    return created.secret


def account_sizes(total: int, accounts: int, exponent: float) -> list[int]:
    """Sizes following 1/k^s that add up to ``total``, every account at least one."""
    weights = [1.0 / (k**exponent) for k in range(1, accounts + 1)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[0] += total - sum(sizes)
    return sizes


def pem_pool(count: int) -> tuple[list[str], str, str]:
    """``count`` real leaf PEMs, the chain PEM and the issuer slug of a throwaway CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    import pki

    with tempfile.TemporaryDirectory() as folder:
        ca = pki.BuiltinCA.load_or_create(
            directory=folder,
            keys=pki.FileKeyStore(Path(folder) / "keys", secret="bench-seed-secret-0123456789"),
            config=pki.CaConfig(base_url="http://pki.shop-certdesk.jp"),
            now=NOW - timedelta(days=1),
        )
        profile = pki.profile_get("dv-multi")
        leaves = []
        chain = ""
        for index in range(count):
            host = f"www{index}.shop-certdesk.jp"
            csr = (
                x509.CertificateSigningRequestBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .add_extension(
                    x509.SubjectAlternativeName(
                        [x509.DNSName(host), x509.DNSName(f"shop{index}.shop-certdesk.jp")]
                    ),
                    critical=False,
                )
                .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
            )
            issued = ca.issue(
                csr=pki.validate_csr(csr.public_bytes(_pem())), profile=profile, now=NOW
            )
            leaves.append(issued.pem)
            chain = issued.chain_pem
        return leaves, chain, ca.issuing.slug


def _pem() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM


class Namer:
    """Registrable domains and host names, unique per account."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = itertools.count(1)

    def domain(self) -> str:
        rng = self.rng
        if rng.random() < 0.04:
            first = rng.choice(IDN_LABELS)
        else:
            first = rng.choice(WORDS)
            if rng.random() < 0.5:
                first += "-" + rng.choice(WORDS)
        return f"{first}{next(self.counter)}.{rng.choice(TLDS)}"

    def host(self, domain: str) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            return domain
        if roll < 0.25:
            return f"{rng.choice(HOSTS)}{rng.randint(1, 40):02d}.{domain}"
        return f"{rng.choice(HOSTS)}.{domain}"


def make_sites(
    rng: random.Random,
    account_ids: Sequence[int],
    sizes: Sequence[int],
    organizations: dict[int, list[int]],
    products: dict[str, int],
) -> list[list[Site]]:
    """Each account's sites: about one per four certificates, so sites are renewed ~4 times."""
    codes = [code for code, _share in PRODUCT_MIX]
    shares = [share for _code, share in PRODUCT_MIX]
    namer = Namer(rng)
    result = []
    for account_id, size in zip(account_ids, sizes, strict=True):
        count = max(1, round(size / 4))
        domains = [namer.domain() for _ in range(max(1, count // 6))]
        sites = []
        for _ in range(count):
            code = rng.choices(codes, shares)[0]
            domain = rng.choice(domains)
            if code.endswith("wildcard"):
                if rng.random() < 0.8:
                    names = [f"*.{domain}", domain]
                else:
                    names = [f"*.{rng.choice(HOSTS)}.{domain}"]
            elif code.endswith("multi"):
                names = list(
                    dict.fromkeys(namer.host(rng.choice(domains)) for _ in range(rng.randint(2, 6)))
                )
            else:
                names = [namer.host(domain)]
            organization = rng.choice(organizations[account_id]) if code.startswith("ov") else None
            key = rng.choices(("ECDSA P-256", "RSA 2048", "RSA 3072", "ECDSA P-384"), (5, 4, 1, 1))
            sites.append(Site(account_id, products[code], organization, names, key[0]))
        result.append(sites)
    return result


def validity_days(issued: datetime) -> int:
    import pki

    return pki.validity_cap_days(issued) - 1


def certificate_rows(
    rng: random.Random,
    first_id: int,
    first_name_id: int,
    count: int,
    sizes: Sequence[int],
    sites: Sequence[Sequence[Site]],
    pems: Sequence[str],
    chain: str,
    issuer: str,
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of (certificate rows, name rows), ids increasing with issuance time."""
    cumulative = list(itertools.accumulate(sizes))
    total = cumulative[-1]
    start = NOW - SPAN
    moments = sorted(rng.random() for _ in range(count))
    cert_id, name_id = first_id, first_name_id
    certs: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    validity_cache: dict[int, int] = {}
    for fraction in moments:
        account_index = bisect.bisect_right(cumulative, rng.randrange(total))
        site = rng.choice(sites[account_index])
        issued = start + SPAN * fraction
        days = validity_cache.get(issued.toordinal())
        if days is None:
            days = validity_cache[issued.toordinal()] = validity_days(issued)
        not_after = issued + timedelta(days=days) - timedelta(seconds=1)
        revoked_at = None
        reason = None
        if rng.random() < REVOKED_SHARE:
            until = min(not_after, NOW)
            revoked_at = issued + (until - issued) * rng.random()
            reason = rng.choice(REVOCATION_REASONS)
        certs.append(
            {
                "id": cert_id,
                "account_id": site.account_id,
                "application_id": None,
                "product_id": site.product_id,
                "organization_id": site.organization_id,
                "renewal_of_id": None,
                "supplier": "builtin",
                "issuer": issuer,
                "serial": format(rng.getrandbits(159) | (1 << 150), "x"),
                "common_name": site.names[0],
                "names": json.dumps(site.names),
                "key_description": site.key_description,
                "key_fingerprint": format(rng.getrandbits(256), "064x"),
                "fingerprint_sha256": format(rng.getrandbits(256), "064x"),
                "not_before": issued,
                "not_after": not_after,
                "pem": pems[cert_id % len(pems)],
                "chain_pem": chain,
                "issued_at": issued,
                "revoked_at": revoked_at,
                "revocation_reason": reason,
                "revoked_by_id": None,
            }
        )
        for name in site.names:
            names.append(
                {
                    "id": name_id,
                    "certificate_id": cert_id,
                    "account_id": site.account_id,
                    "name": name,
                }
            )
            name_id += 1
        cert_id += 1
        if len(certs) >= BATCH:
            yield certs, names
            certs, names = [], []
    if certs:
        yield certs, names


class Writer:
    """Bulk row writer: PostgreSQL COPY, or SQLite executemany inside one transaction."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor

    def columns(self, model: Any) -> tuple[str, list[str], list[str]]:
        fields = model._meta.concrete_fields
        return model._meta.db_table, [f.attname for f in fields], [f.column for f in fields]

    def write(self, model: Any, rows: Iterable[dict[str, Any]]) -> None:
        table, attnames, columns = self.columns(model)
        quoted = ", ".join(f'"{c}"' for c in columns)
        raw = self.connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor:
                with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([row[a] for a in attnames])
            return
        adapt = self.connection.ops.adapt_datetimefield_value
        values = [
            [adapt(v) if isinstance(v, datetime) else v for v in (row[a] for a in attnames)]
            for row in rows
        ]
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', values)

    def suspend_indexes(self, models: Sequence[Any]) -> list[str]:
        """Drop the secondary indexes (and SQLite's FTS triggers) of ``models``' tables and
        return the statements that make them again: building an index once after the load
        is much faster than keeping it up to date row by row. Inside the seeding transaction,
        so a failed run leaves them in place."""
        tables = [model._meta.db_table for model in models]
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "JOIN pg_class t ON t.oid = x.indrelid "
                    "WHERE t.relname = ANY(%s) AND NOT x.indisprimary AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                    [tables],
                )
                found = cursor.fetchall()
                for name, _definition in found:
                    cursor.execute(f'DROP INDEX "{name}"')
                return [definition for _name, definition in found]
            marks = ", ".join("%s" for _ in tables)
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
                tables,
            )
            found = cursor.fetchall()
            for kind, name, _sql in found:
                cursor.execute(f'DROP {kind.upper()} "{name}"')
            again = [sql for _kind, _name, sql in found]
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE %s",
                ["%USING fts5%"],
            )
            for (fts,) in cursor.fetchall():
                # The triggers were off during the load: index every name afresh.
                again.append(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
            return again

    def restore(self, statements: Sequence[str]) -> None:
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # Django's foreign keys are checked at commit; CREATE INDEX refuses to run
                # while those checks are pending, so run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in statements:
                cursor.execute(statement)

    def next_id(self, model: Any) -> int:
        from django.db.models import Max

        return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    def finish(self, models: Sequence[Any]) -> None:
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for model in models:
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'(SELECT MAX(id) FROM "{table}"))'
                    )
                    # VACUUM too: index-only scans need the visibility map it writes.
                    cursor.execute(f'VACUUM ANALYZE "{table}"')
            else:
                cursor.execute("ANALYZE")


def main() -> None:
    arguments = parse_arguments()
    django_setup(arguments.database, arguments.var_dir)
    from django.core.management import call_command
    from django.db import connection, transaction

    from certdesk.accounts.models import Account
    from certdesk.certificates.models import Certificate, CertificateName, Product
    from certdesk.organizations.models import Organization

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(arguments.seed)
    sizes = account_sizes(arguments.certificates, arguments.accounts, arguments.zipf)
    pems, chain, issuer = pem_pool(64)
    products = {p.code: p.pk for p in Product.objects.all()}
    missing = {code for code, _share in PRODUCT_MIX} - set(products)
    if missing:
        raise SystemExit(f"products missing from the database: {sorted(missing)}")

    writer = Writer()
    with transaction.atomic():
        if connection.vendor == "sqlite":
            connection.cursor().execute("PRAGMA cache_size = -1000000")
        first_account = writer.next_id(Account)
        accounts = Account.objects.bulk_create(
            [
                Account(
                    id=first_account + index,
                    organization_name=rng.choice(ORG_FORMS).format(
                        rng.choice(ORG_WORDS) + rng.choice(ORG_WORDS)
                    ),
                    postal_code="100-0005",
                    address="東京都千代田区丸の内1-1-1",
                    phone="03-1234-5678",
                    email=f"pki{first_account + index}@shop-certdesk.jp",
                    created_at=NOW - SPAN - timedelta(days=30),
                )
                for index in range(arguments.accounts)
            ]
        )
        account_ids = [a.pk for a in accounts]
        first_org = writer.next_id(Organization)
        org_rows = []
        organizations: dict[int, list[int]] = {}
        for account in accounts:
            organizations[account.pk] = []
            for _ in range(rng.randint(1, 3)):
                org_id = first_org + len(org_rows)
                organizations[account.pk].append(org_id)
                org_rows.append(
                    Organization(
                        id=org_id,
                        account_id=account.pk,
                        name_ja=account.organization_name,
                        name_en=f"Bench Organisation {org_id} K.K.",
                        corporate_number=str(1_000_000_000_000 + org_id),
                        prefecture="Tokyo",
                        locality="Chiyoda-ku",
                        address=account.address,
                        phone=account.phone,
                        status=Organization.Status.VERIFIED,
                        verified_at=NOW - SPAN,
                        created_at=NOW - SPAN,
                        updated_at=NOW - SPAN,
                    )
                )
        Organization.objects.bulk_create(org_rows)
        sites = make_sites(rng, account_ids, sizes, organizations, products)
        prepared = time.perf_counter()
        print(
            f"{len(accounts)} accounts (largest {sizes[0]:,} certificates, smallest "
            f"{sizes[-1]:,}), {len(org_rows)} organisations, "
            f"{sum(len(s) for s in sites):,} sites; prepared in {prepared - started:.1f} s"
        )
        indexes = writer.suspend_indexes([Certificate, CertificateName])
        written = 0
        name_count = 0
        for certs, names in certificate_rows(
            rng,
            writer.next_id(Certificate),
            writer.next_id(CertificateName),
            arguments.certificates,
            sizes,
            sites,
            pems,
            chain,
            issuer,
        ):
            writer.write(Certificate, certs)
            writer.write(CertificateName, names)
            written += len(certs)
            name_count += len(names)
            if written % 100_000 < BATCH:
                elapsed = time.perf_counter() - prepared
                print(f"  {written:>9,} certificates, {name_count:,} names, {elapsed:6.1f} s")
        loaded = time.perf_counter()
        writer.restore(indexes)
        rebuilt = time.perf_counter() - loaded
        print(f"  {len(indexes)} indexes and triggers made again in {rebuilt:.0f} s")
    writer.finish([Account, Organization, Certificate, CertificateName])
    elapsed = time.perf_counter() - started
    print(
        f"done: {written:,} certificates and {name_count:,} names in {elapsed:.0f} s "
        f"({written / elapsed:,.0f} certificates/s) into {connection.vendor}"
    )


if __name__ == "__main__":
    main()
