"""Issuance throughput of the PKI core against a bare pyca/cryptography loop, in one run.

    .venv/bin/python bench/issue_core.py [--seconds 3] [--algorithm ecdsa|rsa] [--csrs 200]

The core loop is what the product does per certificate: judge the CSR by the policy (parse,
self-signature, key and weak-key checks, names against the Public Suffix List), fit the
profile, build every extension, sign with the issuing CA and encode DER and PEM. The bare loop
is the physical limit: parse the CSR, verify its signature, build a certificate with the same
extensions from prepared objects, sign and encode. Both loops take the same distinct CSRs
(ECDSA P-256 keys, two names each) and run interleaved, so that machine noise hits both.
Goal: the core keeps at least 70% of the bare loop's rate. Rates are certificates per
CPU-second of this single-threaded process (one core), measured in alternating batches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pki  # noqa: E402
from pki import keys  # noqa: E402

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def make_csrs(count: int, key_kind: str) -> list[bytes]:
    """``count`` PEM CSRs, each with its own key and two names."""
    csrs = []
    for index in range(count):
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if key_kind == "rsa":
            key = rsa.generate_private_key(65537, 2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
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
            .sign(key, hashes.SHA256())
        )
        csrs.append(csr.public_bytes(serialization.Encoding.PEM))
    return csrs


def core_loop(ca: pki.BuiltinCA, csrs: list[bytes]) -> Callable[[], int]:
    profile = pki.profile_get("dv-multi")

    def run() -> int:
        # Each CSR comes round once per batch: empty the weak-key verdict cache (meant for
        # renewals with the same key) so that every batch pays for every check.
        keys._weak_key_check.cache_clear()
        for data in csrs:
            csr = pki.validate_csr(data)
            issued = ca.issue(csr=csr, profile=profile, now=NOW)
            issued.der  # noqa: B018 - encoding is part of the work measured
            issued.pem  # noqa: B018
        return len(csrs)

    return run


def bare_loop(ca: pki.BuiltinCA, csrs: list[bytes]) -> Callable[[], int]:
    issuing = ca.issuing
    key = issuing.signer.private_key
    assert key is not None
    algorithm = issuing.signer.spec.hash_algorithm()
    endpoints = ca.endpoints
    static = [
        x509.Extension(
            x509.AuthorityKeyIdentifier.oid,
            False,
            x509.AuthorityKeyIdentifier(issuing.key_identifier, None, None),
        ),
        x509.Extension(
            x509.AuthorityInformationAccess.oid,
            False,
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(endpoints.ocsp_url or ""),
                    ),
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(endpoints.ca_issuers_url),
                    ),
                ]
            ),
        ),
        x509.Extension(
            x509.CertificatePolicies.oid,
            False,
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier("2.23.140.1.2.1"), None)]
            ),
        ),
        x509.Extension(
            x509.ExtendedKeyUsage.oid,
            False,
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
        ),
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(False, None)),
        x509.Extension(
            x509.KeyUsage.oid,
            True,
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
        ),
        x509.Extension(
            x509.CRLDistributionPoints.oid,
            False,
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(endpoints.crl_url)], None, None, None
                    )
                ]
            ),
        ),
    ]
    not_before = NOW
    not_after = NOW + timedelta(days=199) - timedelta(seconds=1)

    def run() -> int:
        for data in csrs:
            csr = x509.load_pem_x509_csr(data)
            if not csr.is_signature_valid:
                raise AssertionError("bad CSR")
            names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            certificate = x509.CertificateBuilder(
                issuer_name=issuing.subject,
                subject_name=csr.subject,
                public_key=csr.public_key(),
                serial_number=x509.random_serial_number(),
                not_valid_before=not_before,
                not_valid_after=not_after,
                extensions=[*static, names],
            ).sign(key, algorithm)
            certificate.public_bytes(serialization.Encoding.DER)
            certificate.public_bytes(serialization.Encoding.PEM)
        return len(csrs)

    return run


def paired_rates(
    core: Callable[[], int], bare: Callable[[], int], seconds: float, rounds: int
) -> tuple[list[float], list[float]]:
    """Rates (per CPU-second of this process) of alternating batches of both loops.

    Short alternating batches and process CPU time keep other load on the machine from
    favouring either loop; each round runs both loops for about ``seconds`` each.
    """
    core_rates: list[float] = []
    bare_rates: list[float] = []
    for _ in range(rounds):
        spent = {"core": 0.0, "bare": 0.0}
        done = {"core": 0, "bare": 0}
        while min(spent.values()) < seconds:
            for name, loop in (("bare", bare), ("core", core)):
                start = time.process_time()
                done[name] += loop()
                spent[name] += time.process_time() - start
        core_rates.append(done["core"] / spent["core"])
        bare_rates.append(done["bare"] / spent["bare"])
    return core_rates, bare_rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds per round and loop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--csrs", type=int, default=200, help="distinct CSRs in the pool")
    parser.add_argument("--algorithm", choices=["ecdsa", "rsa"], default="ecdsa", help="CA keys")
    parser.add_argument("--subscriber-keys", choices=["ecdsa", "rsa"], default="ecdsa")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        ca = pki.BuiltinCA.load_or_create(
            directory=folder,
            keys=pki.FileKeyStore(Path(folder) / "keys", secret="bench-secret-0123456789"),
            config=pki.CaConfig(
                base_url="http://pki.shop-certdesk.jp",
                algorithm=pki.CaAlgorithm(arguments.algorithm),
            ),
            now=NOW - timedelta(days=1),
        )
        csrs = make_csrs(arguments.csrs, arguments.subscriber_keys)
        core, bare = core_loop(ca, csrs), bare_loop(ca, csrs)
        core(), bare()  # warm up: PSL load, stand-in keys, caches
        core_rates, bare_rates = paired_rates(core, bare, arguments.seconds, arguments.rounds)
    core_rate, bare_rate = statistics.median(core_rates), statistics.median(bare_rates)
    ratios = sorted(c / b for c, b in zip(core_rates, bare_rates, strict=True))
    print(
        f"CA {arguments.algorithm}, subscriber keys {arguments.subscriber_keys}, "
        f"{arguments.csrs} distinct CSRs, {arguments.rounds} rounds of {arguments.seconds:g} s"
    )
    print(
        f"bare cryptography loop (parse+verify+build+sign+encode): {bare_rate:7.0f} certificates/s"
    )
    print(
        f"pki core (policy+profile+build+sign+encode):            {core_rate:7.0f} certificates/s"
    )
    print(
        f"ratio core/bare: {core_rate / bare_rate:.1%} (goal >= 70%); "
        f"per round {ratios[0]:.1%} .. {ratios[-1]:.1%}"
    )


if __name__ == "__main__":
    main()
