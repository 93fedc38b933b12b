"""Generate the CSR test vectors in this folder (run once; the files are committed).

    .venv/bin/python tests/vectors/make_vectors.py

Each file is named for what it exercises and what the policy must answer:
``accepted--<what>.<ext>`` or ``refused--<code>--<what>.<ext>``. Weak keys are genuine: the
ROCA key has the Infineon prime structure, the Fermat key two primes 2^300 apart, the
small-factor key a 16-bit prime factor, the shared-prime key the factors badkeys recovers from
a published certificate's modulus, the pattern and polynomial keys moduli shaped the way those
checks look for. ``blocklist/`` holds a badkeys-format blocklist naming two of its CSRs' keys.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import secrets
import subprocess
import tempfile
from pathlib import Path

import gmpy2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
DOMAIN = "shop-certdesk.jp"
E = 65537

# A 2048-bit RSA modulus from a public certificate (crt.sh id 5534506057) that shares a prime
# with other published keys; badkeys ships it as its shared-primes test key. badkeys' own
# sharedprimes check recovers both factors, from which a signing key is rebuilt here.
SHARED_PRIME_PUBLIC_KEY = b"""-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAtQS720djHoBY2eXEDsMNGi6GWY/B37TyGO6tAgQJnweAvk5ABi3A
KaOJzHQLmqpkzzh92z2FHzZpKoOiy4Eq0tt4J20zgFPiYdAG5mffTcgtMhymCXBc
AaUjuZCcyYIIDdENnaP3wTPo0FEdWozb0/4+SNJ1IhlwyQGUu77mAHgr3Q2j/GqY
0RSIbikmgV7NUpf6PA8JAlm2+lQQj9YjurMI5K9BQZPRGm84E2nSe4zT2NkaKrzO
bH+mFd5dRlzi00FXaMF06ViYiwKgW27ef1ZCD3Z0yFZ7uaNaGAnflsOUsoaMutSk
QPs0JEAVmnVkjCfpTKylM9D/B0ZjutZspQIDAQAB
-----END RSA PUBLIC KEY-----
"""


def rsa_from_primes(p: int, q: int, e: int = E) -> rsa.RSAPrivateKey:
    """An RSA private key with the given primes."""
    p, q = int(p), int(q)
    n = p * q
    d = pow(e, -1, (p - 1) * (q - 1) // int(gmpy2.gcd(p - 1, q - 1)))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e=e, n=n),
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def random_prime(bits: int) -> int:
    """A prime of exactly ``bits`` bits with the top two bits set (so p*q has 2*bits bits)."""
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if gmpy2.is_prime(candidate, 50):
            return candidate


def roca_key() -> rsa.RSAPrivateKey:
    """Primes p = k*M + (65537^a mod M), M the primorial of the first 126 primes (Infineon)."""
    primorial, prime = 1, 2
    for _ in range(126):
        primorial *= prime
        prime = int(gmpy2.next_prime(prime))
    primes = []
    while len(primes) < 2:
        a = secrets.randbelow(2**62)
        # k*M in [3 * 2^1022, 2^1024): 1024-bit primes with the top two bits set.
        lower, upper = -(-(3 << 1022) // primorial), (1 << 1024) // primorial
        k = lower + secrets.randbelow(upper - lower - 1)
        candidate = k * primorial + pow(65537, a, primorial)
        if candidate.bit_length() == 1024 and gmpy2.is_prime(candidate, 50):
            primes.append(candidate)
    assert (primes[0] * primes[1]).bit_length() == 2048
    return rsa_from_primes(*primes)


def fermat_key() -> rsa.RSAPrivateKey:
    """Two primes 2^300 apart: Fermat's method factors the modulus at once."""
    p = random_prime(1024)
    q = int(gmpy2.next_prime(p + 2**300))
    return rsa_from_primes(p, q)


def small_factor_key() -> rsa.RSAPrivateKey:
    """A 2048-bit modulus with the 16-bit prime factor 65521."""
    p = 65521
    q = int(gmpy2.next_prime(3 * 2**2046 // p))
    assert (p * q).bit_length() == 2048
    return rsa_from_primes(p, q)


def shared_prime_key() -> rsa.RSAPrivateKey:
    """The published modulus above, factored by badkeys' shared-prime check."""
    from badkeys.rsakeys import sharedprimes

    public = serialization.load_pem_public_key(SHARED_PRIME_PUBLIC_KEY)
    assert isinstance(public, rsa.RSAPublicKey)
    numbers = public.public_numbers()
    found = sharedprimes(numbers.n)
    assert found and "p" in found, "badkeys no longer factors the shared-prime test key"
    return rsa_from_primes(found["p"], found["q"], numbers.e)


def pattern_key() -> rsa.RSAPrivateKey:
    """A modulus whose top 20 bytes repeat one byte (the product keeps the target's top)."""
    target = int.from_bytes(b"\xc5" * 20 + secrets.token_bytes(236), "big")
    while True:
        p = random_prime(1024)
        q = int(gmpy2.next_prime(target // p))
        n = p * q
        if n.bit_length() == 2048 and n.to_bytes(256, "big").startswith(b"\xc5" * 16):
            return rsa_from_primes(p, q)


def polynomial_key() -> rsa.RSAPrivateKey:
    """Primes made of 6-bit coefficients at 32-bit steps: a sparse, polynomial modulus."""

    def sparse_prime() -> int:
        while True:
            value = 3 << 1022
            for index in range(31):
                value += secrets.randbits(6) << (32 * index)
            value |= 1
            if gmpy2.is_prime(value, 50):
                return value

    return rsa_from_primes(sparse_prime(), sparse_prime())


def name(cn: str | None = None, **extra: str) -> x509.Name:
    attributes = []
    for key, value in extra.items():
        attributes.append(x509.NameAttribute(getattr(NameOID, key), value))
    if cn is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def csr(
    key: object,
    *,
    cn: str | None = None,
    sans: list[x509.GeneralName] | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
    subject: x509.Name | None = None,
) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        subject if subject is not None else name(cn)
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if algorithm is None and not isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = hashes.SHA256()
    return builder.sign(key, algorithm)  # type: ignore[arg-type]


def openssl_sha1_csr(key: rsa.RSAPrivateKey, host: str) -> bytes:
    """A SHA-1 signed CSR: cryptography refuses to make one, the openssl command does not."""
    with tempfile.TemporaryDirectory() as folder:
        key_file = Path(folder) / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return subprocess.run(
            [
                "openssl",
                "req",
                "-new",
                "-sha1",
                "-key",
                str(key_file),
                "-subj",
                f"/CN={host}",
                "-addext",
                f"subjectAltName=DNS:{host}",
            ],
            check=True,
            capture_output=True,
        ).stdout


def dns(*names: str) -> list[x509.GeneralName]:
    return [x509.DNSName(item) for item in names]


def pem(item: x509.CertificateSigningRequest) -> bytes:
    return item.public_bytes(serialization.Encoding.PEM)


def der(item: x509.CertificateSigningRequest) -> bytes:
    return item.public_bytes(serialization.Encoding.DER)


def write(filename: str, data: bytes) -> None:
    (HERE / filename).write_bytes(data)
    print(filename)


def main() -> None:  # noqa: PLR0915 - one flat list of vectors reads best
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    rsa2048 = rsa.generate_private_key(E, 2048)
    rsa3072 = rsa.generate_private_key(E, 3072)
    rsa4096 = rsa.generate_private_key(E, 4096)
    www = f"www.{DOMAIN}"

    # --- accepted -----------------------------------------------------------------------
    write("accepted--ecdsa-p256-single.csr.pem", pem(csr(p256, cn=www, sans=dns(www))))
    write(
        "accepted--ecdsa-p384-multi-no-cn.csr.pem",
        pem(csr(p384, sans=dns(DOMAIN, www, f"shop.{DOMAIN}"), algorithm=hashes.SHA384())),
    )
    write("accepted--rsa-2048-multi.csr.pem", pem(csr(rsa2048, cn=www, sans=dns(www, DOMAIN))))
    write("accepted--rsa-3072-wildcard.csr.pem", pem(csr(rsa3072, sans=dns(f"*.{DOMAIN}", DOMAIN))))
    write("accepted--rsa-4096-single.csr.der", der(csr(rsa4096, cn=DOMAIN, sans=dns(DOMAIN))))
    write(
        "accepted--ecdsa-p256-wildcard.csr.pem",
        pem(csr(p256, cn=f"*.{DOMAIN}", sans=dns(f"*.{DOMAIN}"))),
    )
    write("accepted--cn-only-copied-to-san.csr.pem", pem(csr(p256, cn=f"portal.{DOMAIN}")))
    write(
        "accepted--idn-a-label.csr.pem",
        pem(csr(p256, sans=dns("xn--r8jz45g.jp", "www.xn--r8jz45g.jp"))),
    )
    write(
        "accepted--uppercase-and-duplicates.csr.pem",
        pem(
            csr(
                p256,
                cn="WWW.Shop-Certdesk.JP",
                sans=dns("www.shop-certdesk.jp", "WWW.SHOP-CERTDESK.JP", "Shop-Certdesk.jp"),
            )
        ),
    )
    write(
        "accepted--100-names.csr.pem",
        pem(csr(p256, sans=dns(*(f"host{index}.{DOMAIN}" for index in range(100))))),
    )
    write(
        "accepted--pem-with-crlf-and-text.csr.txt",
        b"Here is my CSR:\r\n\r\n"
        + pem(csr(p256, sans=dns(www))).replace(b"\n", b"\r\n")
        + b"\r\nThanks!\r\n",
    )
    write(
        "accepted--bare-base64.csr.txt",
        base64.encodebytes(der(csr(p256, sans=dns(www)))),
    )

    # --- not a CSR ------------------------------------------------------------------------
    write("refused--csr_empty--empty-file.txt", b"")
    write("refused--csr_empty--only-whitespace.txt", b"  \r\n\t\n")
    write(
        "refused--csr_private_key--pkcs8.pem",
        p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write(
        "refused--csr_private_key--rsa-traditional.pem",
        rsa2048.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )
    write(
        "refused--csr_private_key--ec-traditional.pem",
        p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )
    write(
        "refused--csr_private_key--encrypted-pkcs8.pem",
        p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"correct horse battery staple"),
        ),
    )
    write(
        "refused--csr_private_key--pkcs8.der",
        rsa2048.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write(
        "refused--csr_private_key--encrypted-pkcs8.der",
        rsa2048.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"correct horse battery staple"),
        ),
    )
    write(
        "refused--csr_private_key--openssh.txt",
        p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ),
    )
    write(
        "refused--csr_private_key--csr-followed-by-key.pem",
        pem(csr(p256, sans=dns(www)))
        + p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    self_signed = (
        x509.CertificateBuilder()
        .subject_name(name(www))
        .issuer_name(name(www))
        .public_key(p256.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(2026, 6, 1))
        .sign(p256, hashes.SHA256())
    )
    write(
        "refused--csr_is_certificate--certificate.pem",
        self_signed.public_bytes(serialization.Encoding.PEM),
    )
    write(
        "refused--csr_is_certificate--certificate.der",
        self_signed.public_bytes(serialization.Encoding.DER),
    )
    write(
        "refused--csr_is_public_key--spki.pem",
        p256.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    write(
        "refused--csr_is_public_key--openssh.pub",
        p256.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
    )
    write(
        "refused--csr_pem_unknown--crl.pem",
        x509.CertificateRevocationListBuilder()
        .issuer_name(name(www))
        .last_update(datetime.datetime(2026, 1, 1))
        .next_update(datetime.datetime(2026, 1, 8))
        .sign(p256, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM),
    )
    good = pem(csr(p256, sans=dns(www)))
    write("refused--csr_pem_malformed--no-end-line.pem", good.rsplit(b"-----END", 1)[0])
    body_start = good.index(b"\n") + 1
    write(
        "refused--csr_pem_malformed--bad-base64.pem",
        good[:body_start] + b"!!!!" + good[body_start + 4 :],
    )
    write("refused--csr_multiple--two-csrs.pem", good + pem(csr(p384, sans=dns(DOMAIN))))
    write("refused--csr_malformed--random-bytes.bin", secrets.token_bytes(700))
    write("refused--csr_malformed--plain-text.txt", b"I do not have a CSR yet, please help.\n")
    write("refused--csr_malformed--truncated.der", der(csr(p256, sans=dns(www)))[:150])

    # --- signature ---------------------------------------------------------------------------
    signed = bytearray(der(csr(p256, sans=dns(www))))
    signed[-5] ^= 0x01
    write("refused--csr_signature_invalid--signature-bit-flipped.der", bytes(signed))
    original = der(csr(p256, sans=dns(www)))
    write(
        "refused--csr_signature_invalid--name-changed-after-signing.der",
        original.replace(www.encode(), b"www.shop-certdesk.co", 1),
    )
    write("refused--csr_signature_algorithm--sha1.csr.pem", openssl_sha1_csr(rsa2048, www))
    write(
        "refused--csr_signature_algorithm--sha224.csr.pem",
        pem(csr(p256, sans=dns(www), algorithm=hashes.SHA224())),
    )

    # --- keys ------------------------------------------------------------------------------------
    write(
        "refused--key_type_unsupported--dsa-2048.csr.pem",
        pem(csr(dsa.generate_private_key(2048), sans=dns(www))),
    )
    write(
        "refused--key_type_unsupported--ed25519.csr.pem",
        pem(csr(ed25519.Ed25519PrivateKey.generate(), sans=dns(www))),
    )
    write(
        "refused--key_curve_unsupported--p521.csr.pem",
        pem(csr(ec.generate_private_key(ec.SECP521R1()), sans=dns(www), algorithm=hashes.SHA512())),
    )
    write(
        "refused--key_curve_unsupported--secp256k1.csr.pem",
        pem(csr(ec.generate_private_key(ec.SECP256K1()), sans=dns(www))),
    )
    write(
        "refused--key_rsa_size--rsa-1024.csr.pem",
        pem(csr(rsa.generate_private_key(E, 1024), sans=dns(www))),
    )
    write(
        "refused--key_rsa_size--rsa-4104.csr.pem",
        pem(csr(rsa.generate_private_key(E, 4104), sans=dns(www))),
    )
    write(
        "refused--key_rsa_modulus--rsa-2052.csr.pem",
        pem(csr(rsa.generate_private_key(E, 2052), sans=dns(www))),
    )
    write(
        "refused--key_rsa_exponent--e3.csr.pem",
        pem(csr(rsa.generate_private_key(3, 2048), sans=dns(www))),
    )
    write(
        "refused--weak_key_roca--infineon-prime-structure.csr.pem",
        pem(csr(roca_key(), sans=dns(www))),
    )
    write("refused--weak_key_fermat--close-primes.csr.pem", pem(csr(fermat_key(), sans=dns(www))))
    write(
        "refused--weak_key_small_factors--factor-65521.csr.pem",
        pem(csr(small_factor_key(), sans=dns(www))),
    )
    write(
        "refused--weak_key_shared_primes--published-modulus.csr.pem",
        pem(csr(shared_prime_key(), sans=dns(www))),
    )
    write(
        "refused--weak_key_pattern--repeated-bytes.csr.pem", pem(csr(pattern_key(), sans=dns(www)))
    )
    write(
        "refused--weak_key_polynomial--sparse-primes.csr.pem",
        pem(csr(polynomial_key(), sans=dns(www))),
    )

    # --- names -----------------------------------------------------------------------------------
    write(
        "refused--name_ip_address--san-ip.csr.pem",
        pem(
            csr(
                p256,
                sans=[*dns(www), x509.IPAddress(ipaddress.ip_address("203.0.113.7"))],
            )
        ),
    )
    write("refused--name_ip_address--cn-ip.csr.pem", pem(csr(p256, cn="203.0.113.7")))
    write(
        "refused--name_not_dns--san-email.csr.pem",
        pem(csr(p256, sans=[*dns(www), x509.RFC822Name(f"admin@{DOMAIN}")])),
    )
    write(
        "refused--name_not_dns--san-uri.csr.pem",
        pem(csr(p256, sans=[x509.UniformResourceIdentifier(f"https://{www}/")])),
    )
    write("refused--name_underscore--san.csr.pem", pem(csr(p256, sans=dns(f"_dmarc.{DOMAIN}"))))
    write("refused--name_internal--dot-local.csr.pem", pem(csr(p256, sans=dns("printer.local"))))
    write("refused--name_internal--localhost.csr.pem", pem(csr(p256, cn="localhost")))
    write(
        "refused--name_internal--dot-internal.csr.pem",
        pem(csr(p256, sans=dns(www, "git.corp.internal"))),
    )
    write(
        "refused--name_tld_unknown--made-up-tld.csr.pem", pem(csr(p256, sans=dns("shop.certdesk")))
    )
    write(
        "refused--name_single_label--intranet-host.csr.pem", pem(csr(p256, sans=dns("fileserver")))
    )
    write(
        "refused--name_wildcard_position--middle-label.csr.pem",
        pem(csr(p256, sans=dns(f"www.*.{DOMAIN}"))),
    )
    write(
        "refused--name_wildcard_position--partial-label.csr.pem",
        pem(csr(p256, sans=dns(f"w*.{DOMAIN}"))),
    )
    write(
        "refused--name_wildcard_public_suffix--star-co-jp.csr.pem",
        pem(csr(p256, sans=dns("*.co.jp"))),
    )
    write("refused--name_public_suffix--co-jp.csr.pem", pem(csr(p256, sans=dns("co.jp"))))
    write(
        "refused--name_idn_invalid--bad-punycode.csr.pem",
        pem(csr(p256, sans=dns("xn--zz-9999.jp"))),
    )
    write(
        "refused--name_idn_unicode--u-label-in-cn.csr.pem",
        pem(csr(p256, subject=name("例え.jp"))),
    )
    write(
        "refused--name_label_too_long--64-octets.csr.pem",
        pem(csr(p256, sans=dns("a" * 64 + f".{DOMAIN}"))),
    )
    write(
        "refused--name_too_long--254-octets.csr.pem",
        pem(csr(p256, sans=dns(".".join(["a" * 63] * 3 + ["a" * 59]) + ".jp"))),
    )
    write("refused--name_trailing_dot--fqdn-dot.csr.pem", pem(csr(p256, sans=dns(f"{www}."))))
    write("refused--name_label_hyphen--leading.csr.pem", pem(csr(p256, sans=dns(f"-www.{DOMAIN}"))))
    write(
        "refused--name_too_many--101-names.csr.pem",
        pem(csr(p256, sans=dns(*(f"host{index}.{DOMAIN}" for index in range(101))))),
    )
    write(
        "refused--name_cn_mismatch--cn-not-in-san.csr.pem",
        pem(csr(p256, cn=f"mail.{DOMAIN}", sans=dns(www))),
    )
    write(
        "refused--subject_cn_multiple--two-cns.csr.pem",
        pem(
            csr(
                p256,
                subject=x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, www),
                        x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN),
                    ]
                ),
                sans=dns(www, DOMAIN),
            )
        ),
    )
    write(
        "refused--name_missing--empty-subject-no-san.csr.pem", pem(csr(p256, subject=x509.Name([])))
    )
    write(
        "refused--name_missing--organisation-only.csr.pem",
        pem(csr(p256, subject=name(ORGANIZATION_NAME="Shop Certdesk K.K.", COUNTRY_NAME="JP"))),
    )

    # --- blocklist (badkeys' blocklist.dat format) -----------------------------------------------
    folder = HERE / "blocklist"
    folder.mkdir(exist_ok=True)
    listed_rsa = rsa.generate_private_key(E, 2048)
    listed_ec = ec.generate_private_key(ec.SECP256R1())
    (folder / "refused--weak_key_blocklist--rsa-2048.csr.pem").write_bytes(
        pem(csr(listed_rsa, sans=dns(www)))
    )
    (folder / "refused--weak_key_blocklist--ecdsa-p256.csr.pem").write_bytes(
        pem(csr(listed_ec, sans=dns(www)))
    )

    def int_bytes(value: int) -> bytes:
        return value.to_bytes((value.bit_length() + 7) // 8, "big")

    records = sorted(
        [
            hashlib.sha256(int_bytes(listed_rsa.public_key().public_numbers().n)).digest()[:15]
            + bytes([1]),
            hashlib.sha256(int_bytes(listed_ec.public_key().public_numbers().x)).digest()[:15]
            + bytes([2]),
            *(secrets.token_bytes(15) + bytes([3]) for _ in range(500)),
        ],
        key=lambda record: record[:15],
    )
    (folder / "blocklist.dat").write_bytes(b"".join(records))
    (folder / "badkeysdata.json").write_text(
        json.dumps(
            {
                "blocklists": [
                    {"id": 1, "name": "debianssl"},
                    {"id": 2, "name": "documentation"},
                    {"id": 3, "name": "filler"},
                ]
            },
            indent=2,
        )
        + "\n"
    )
    print("blocklist/")


if __name__ == "__main__":
    main()
