"""The built-in CA: a root and an issuing intermediate that issue, list revocations, answer OCSP.

``BuiltinCA.load_or_create`` finds the hierarchy in a directory or creates it there on first
use: an offline-style root (ECDSA P-384, or RSA 4096 for the RSA hierarchy) and an issuing CA
(ECDSA P-256, or RSA 2048). Keys come from a :class:`~pki.keystore.KeyStore` (encrypted files
or a PKCS#11 token). The caller passes ``now`` and may pass a randomness source; the CA never
reads the clock.

URLs follow the product's layout under ``CaConfig.base_url``: CRL ``/pki/crl/<ca>.crl``, OCSP
``/pki/ocsp``, PEM chain ``/pki/ca/<ca>.pem``, and the issuer certificate for AIA caIssuers as
DER at ``/pki/ca/<ca>.cer`` (RFC 5280 4.2.2.1 requires DER or certs-only CMS there, not PEM).
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from pki import _der
from pki.csr import ValidatedCsr
from pki.errors import CaError, PolicyViolation
from pki.keystore import CaPrivateKey, CaPublicKey, KeySpec, KeyStore, RandomSource, Signer
from pki.profiles import Endpoints, Organization, Profile, validity_period
from pki.revocation import (
    CA_REVOCATION_REASONS,
    SUBSCRIBER_REVOCATION_REASONS,
    CertStatus,
    RevocationReason,
    RevokedEntry,
)

STORE_FORMAT = "certdesk-ca"
STORE_FILE = "ca.json"
MAX_SERIAL_BITS = 159
"""RFC 5280 4.1.2.2: at most 20 octets, and positive, so the top bit stays clear."""
SERIAL_RANDOM_BYTES = 16
"""128 random bits per serial, well above the 64 bits of CSPRNG output BR 7.1 requires."""
OCSP_NONCE_MAX = 32
"""RFC 8954: a responder may refuse nonces longer than 32 octets."""

_OCSP_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class CaAlgorithm(enum.StrEnum):
    """The key family of a hierarchy, with the key types of its root and issuing CA."""

    ECDSA = "ecdsa"
    RSA = "rsa"

    @property
    def root_key(self) -> KeySpec:
        """The root's key type."""
        return KeySpec.EC_P384 if self is CaAlgorithm.ECDSA else KeySpec.RSA_4096

    @property
    def issuing_key(self) -> KeySpec:
        """The issuing CA's key type."""
        return KeySpec.EC_P256 if self is CaAlgorithm.ECDSA else KeySpec.RSA_2048


@dataclass(frozen=True)
class CaConfig:
    """How the hierarchy is named and published.

    ``base_url`` is where the PKI endpoints are served; BR 7.1.2 wants plain ``http://`` for
    AIA and CRL distribution points, since relying parties fetch them without TLS.
    """

    base_url: str
    organization: str = "certdesk"
    country: str = "JP"
    algorithm: CaAlgorithm = CaAlgorithm.ECDSA
    root_key: KeySpec | None = None
    issuing_key: KeySpec | None = None
    root_validity: timedelta = timedelta(days=15 * 365)
    issuing_validity: timedelta = timedelta(days=5 * 365)
    crl_validity: timedelta = timedelta(days=7)
    root_crl_validity: timedelta = timedelta(days=180)
    ocsp_validity: timedelta = timedelta(days=4)
    ocsp: bool = True

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")) or self.base_url.endswith("/"):
            raise ValueError("base_url must be an http(s) URL without a trailing slash")
        if len(self.country) != 2 or not self.country.isupper():
            raise ValueError("country must be an ISO 3166-1 alpha-2 code in capitals")
        if not 1 <= len(self.organization) <= 64:
            raise ValueError("organization must be 1-64 characters long")
        if not timedelta(hours=8) <= self.ocsp_validity <= timedelta(days=10):
            # BR 4.9.10: OCSP responses are valid for at least eight hours, at most ten days.
            raise ValueError("ocsp_validity must be between 8 hours and 10 days")
        if not timedelta(0) < self.crl_validity <= timedelta(days=10):
            raise ValueError("crl_validity must be positive and at most 10 days (BR 4.9.7)")
        if not timedelta(0) < self.root_crl_validity <= timedelta(days=365):
            raise ValueError("root_crl_validity must be positive and at most 12 months")

    def crl_url(self, slug: str) -> str:
        """Where the CRL of CA ``slug`` is served."""
        return f"{self.base_url}/pki/crl/{slug}.crl"

    def certificate_url(self, slug: str) -> str:
        """Where the DER certificate of CA ``slug`` is served (AIA caIssuers)."""
        return f"{self.base_url}/pki/ca/{slug}.cer"

    def chain_url(self, slug: str) -> str:
        """Where the PEM chain of CA ``slug`` is served."""
        return f"{self.base_url}/pki/ca/{slug}.pem"

    @property
    def ocsp_url(self) -> str:
        """Where OCSP requests are answered."""
        return f"{self.base_url}/pki/ocsp"


def _require_aware(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(UTC).replace(microsecond=0)


@functools.cache
def _stand_in(spec: KeySpec) -> CaPrivateKey:
    """A throwaway key of ``spec``: it signs drafts whose signature is then replaced."""
    return spec.generate()


@functools.cache
def _stand_in_certificate(spec: KeySpec) -> x509.Certificate:
    """A certificate for the stand-in key, so cryptography's OCSP builder accepts it."""
    key = _stand_in(spec)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in")])
    return x509.CertificateBuilder(
        issuer_name=name,
        subject_name=name,
        public_key=key.public_key(),
        serial_number=1,
        not_valid_before=datetime(2000, 1, 1, tzinfo=UTC),
        not_valid_after=datetime(2100, 1, 1, tzinfo=UTC),
    ).sign(key, spec.hash_algorithm())


def _public_der(key: CaPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _sign_certificate(
    builder: x509.CertificateBuilder, signer: Signer, issuer: x509.Certificate | None
) -> x509.Certificate:
    algorithm = signer.spec.hash_algorithm()
    key = signer.private_key
    if key is not None:
        return builder.sign(key, algorithm)
    draft = builder.sign(_stand_in(signer.spec), algorithm)
    tbs = draft.tbs_certificate_bytes
    der = _der.replace_signature(
        draft.public_bytes(serialization.Encoding.DER), tbs, signer.sign(tbs)
    )
    certificate = x509.load_der_x509_certificate(der)
    # An external signer is trusted only after its signature checks out.
    try:
        certificate.verify_directly_issued_by(issuer if issuer is not None else certificate)
    except (InvalidSignature, ValueError, TypeError):
        raise CaError("ca_hsm_error", field="key", value="the signature does not verify") from None
    return certificate


def _sign_crl(
    builder: x509.CertificateRevocationListBuilder, signer: Signer
) -> x509.CertificateRevocationList:
    algorithm = signer.spec.hash_algorithm()
    key = signer.private_key
    if key is not None:
        return builder.sign(key, algorithm)
    draft = builder.sign(_stand_in(signer.spec), algorithm)
    tbs = draft.tbs_certlist_bytes
    der = _der.replace_signature(
        draft.public_bytes(serialization.Encoding.DER), tbs, signer.sign(tbs)
    )
    crl = x509.load_der_x509_crl(der)
    if not crl.is_signature_valid(signer.public_key()):
        raise CaError("ca_hsm_error", field="key", value="the signature does not verify")
    return crl


def _finish_ocsp(
    draft: bytes, produced_at: datetime, responder_key_hash: bytes, signer: Signer
) -> bytes:
    """Put in the real responder and producedAt (cryptography reads the clock), then sign."""
    _, (status, response_bytes) = _der.children(draft)
    _, (response_type, octets) = _der.children(_der.content(response_bytes))
    basic = _der.content(octets)
    _, basic_items = _der.children(basic)
    _, data_items = _der.children(basic_items[0])
    replaced = set()
    for index, item in enumerate(data_items):
        if item[0] == _der.RESPONDER_BY_KEY:
            data_items[index] = _der.encode(
                _der.RESPONDER_BY_KEY, _der.encode(_der.OCTET_STRING, responder_key_hash)
            )
            replaced.add(item[0])
        elif item[0] == _der.GENERALIZED_TIME and item[0] not in replaced:
            data_items[index] = _der.generalized_time(produced_at)
            replaced.add(item[0])
    if replaced != {_der.RESPONDER_BY_KEY, _der.GENERALIZED_TIME}:
        raise ValueError("OCSP response data without responderID byKey or producedAt")
    tbs = _der.encode(_der.SEQUENCE, b"".join(data_items))
    signed = _der.replace_signature(basic, tbs, signer.sign(tbs))
    return _der.encode(
        _der.SEQUENCE,
        status
        + _der.encode(
            _der.CONTEXT_0,
            _der.encode(_der.SEQUENCE, response_type + _der.encode(_der.OCTET_STRING, signed)),
        ),
    )


def _check_serial(serial: int) -> int:
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError("serial must be an int")
    if serial <= 0 or serial.bit_length() > MAX_SERIAL_BITS:
        raise PolicyViolation("serial_invalid", field="serial", value=serial)
    return serial


def _key_usage(*, digital_signature: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class CertificateAuthority:
    """One CA of the hierarchy: its URL slug, certificate and key."""

    slug: str
    certificate: x509.Certificate
    signer: Signer
    key_label: str

    @functools.cached_property
    def key_identifier(self) -> bytes:
        """The subject key identifier, which its certificates' AKI repeats."""
        return self.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest

    @functools.cached_property
    def not_before(self) -> datetime:
        """Start of the CA certificate's validity."""
        return self.certificate.not_valid_before_utc

    @functools.cached_property
    def not_after(self) -> datetime:
        """End of the CA certificate's validity."""
        return self.certificate.not_valid_after_utc

    @functools.cached_property
    def subject(self) -> x509.Name:
        """The CA's distinguished name."""
        return self.certificate.subject

    @functools.cached_property
    def der(self) -> bytes:
        """The CA certificate, DER-encoded (served for AIA caIssuers)."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @functools.cached_property
    def pem(self) -> str:
        """The CA certificate, PEM-encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @functools.cached_property
    def _ocsp_hashes(self) -> dict[str, tuple[bytes, bytes]]:
        name = self.subject.public_bytes()
        key = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # The key hash covers the subjectPublicKey BIT STRING's value, not the whole SPKI.
        _, (_, bit_string) = _der.children(key)
        key_bits = _der.content(bit_string)[1:]
        return {
            name_: (hashlib.new(name_, name).digest(), hashlib.new(name_, key_bits).digest())
            for name_ in _OCSP_HASHES
        }

    @property
    def responder_key_hash(self) -> bytes:
        """SHA-1 of the public key bits: the OCSP ResponderID byKey (RFC 6960 4.2.1)."""
        return self._ocsp_hashes["sha1"][1]

    def ocsp_hashes(self, algorithm: str) -> tuple[bytes, bytes] | None:
        """``(issuer name hash, issuer key hash)`` under ``algorithm``, for OCSP CertIDs."""
        return self._ocsp_hashes.get(algorithm)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate fresh from the CA, with the chain that goes with it."""

    certificate: x509.Certificate
    der: bytes
    chain: tuple[x509.Certificate, ...]
    root: x509.Certificate
    profile: str

    @property
    def pem(self) -> str:
        """The certificate, PEM-encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def chain_pem(self) -> str:
        """The intermediate certificates, PEM-encoded (what servers send after the leaf)."""
        return "".join(
            item.public_bytes(serialization.Encoding.PEM).decode("ascii") for item in self.chain
        )

    @property
    def fullchain_pem(self) -> str:
        """Leaf then intermediates: the usual server configuration."""
        return self.pem + self.chain_pem

    @property
    def serial_number(self) -> int:
        """The serial number."""
        return self.certificate.serial_number

    @property
    def not_before(self) -> datetime:
        """Start of validity (UTC)."""
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        """End of validity (UTC), inclusive."""
        return self.certificate.not_valid_after_utc

    @property
    def fingerprint_sha256(self) -> str:
        """SHA-256 of the DER, in hex."""
        return hashlib.sha256(self.der).hexdigest()


@dataclass(frozen=True)
class CrlDocument:
    """A signed CRL and the facts a publisher needs about it."""

    crl: x509.CertificateRevocationList
    der: bytes
    authority: str
    number: int
    this_update: datetime
    next_update: datetime

    @property
    def pem(self) -> str:
        """The CRL, PEM-encoded."""
        return self.crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the store, so that two processes never both create it."""
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class BuiltinCA:
    """A two-level hierarchy: ``root`` (offline-style) signs ``issuing``, which issues."""

    def __init__(
        self,
        *,
        root: CertificateAuthority,
        issuing: CertificateAuthority,
        config: CaConfig,
        random: RandomSource = os.urandom,
        created: bool = False,
    ) -> None:
        self.root = root
        self.issuing = issuing
        self.config = config
        self.created = created
        self._random = random
        self._authority_key_identifier = x509.AuthorityKeyIdentifier(
            key_identifier=issuing.key_identifier,
            authority_cert_issuer=None,
            authority_cert_serial_number=None,
        )
        self._extensions: dict[tuple[Profile, bool], list[x509.Extension[Any]]] = {}
        self._endpoints = Endpoints(
            ca_issuers_url=config.certificate_url(issuing.slug),
            crl_url=config.crl_url(issuing.slug),
            ocsp_url=config.ocsp_url if config.ocsp else None,
        )

    # --- creation and loading ------------------------------------------------------------

    @classmethod
    def load_or_create(
        cls,
        *,
        directory: str | os.PathLike[str],
        keys: KeyStore,
        config: CaConfig,
        now: datetime,
        random: RandomSource = os.urandom,
    ) -> BuiltinCA:
        """The hierarchy stored in ``directory``, created there (keys in ``keys``) if absent.

        Raises ``CaError`` when the store is damaged, a key is missing or cannot be decrypted,
        or the stored hierarchy is of another algorithm than ``config`` asks for.
        """
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            if (path / STORE_FILE).exists():
                return cls._load(path, keys, config, random)
            return cls._create(path, keys, config, _require_aware(now), random)

    @classmethod
    def load(
        cls,
        *,
        directory: str | os.PathLike[str],
        keys: KeyStore,
        config: CaConfig,
        random: RandomSource = os.urandom,
    ) -> BuiltinCA:
        """The hierarchy stored in ``directory``; raise ``CaError`` if there is none."""
        path = Path(directory)
        if not (path / STORE_FILE).exists():
            raise CaError(
                "ca_store_corrupt", field="directory", value=str(path), detail="no CA here"
            )
        return cls._load(path, keys, config, random)

    @classmethod
    def _create(
        cls,
        path: Path,
        keys: KeyStore,
        config: CaConfig,
        now: datetime,
        random: RandomSource,
    ) -> BuiltinCA:
        algorithm = config.algorithm
        root_spec = config.root_key or algorithm.root_key
        issuing_spec = config.issuing_key or algorithm.issuing_key
        year = now.year
        label_suffix = random(4).hex()
        root_slug = f"root-{algorithm.value}-{year}"
        issuing_slug = f"issuing-{algorithm.value}-{year}"

        root_label = f"certdesk-{root_slug}-{label_suffix}"
        root_signer = keys.create(label=root_label, spec=root_spec)
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, config.country),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, config.organization),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, f"{config.organization} Root CA {algorithm.name} {year}"
                ),
            ]
        )
        root_public = root_signer.public_key()
        root_builder = x509.CertificateBuilder(
            issuer_name=root_name,
            subject_name=root_name,
            public_key=root_public,
            serial_number=cls._serial_from(random),
            not_valid_before=now,
            not_valid_after=now + config.root_validity,
            extensions=[
                x509.Extension(
                    x509.BasicConstraints.oid,
                    True,
                    x509.BasicConstraints(ca=True, path_length=None),
                ),
                x509.Extension(
                    x509.KeyUsage.oid, True, _key_usage(digital_signature=False, ca=True)
                ),
                x509.Extension(
                    x509.SubjectKeyIdentifier.oid,
                    False,
                    x509.SubjectKeyIdentifier.from_public_key(root_public),
                ),
                x509.Extension(
                    x509.AuthorityKeyIdentifier.oid,
                    False,
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(root_public),
                ),
            ],
        )
        root_certificate = _sign_certificate(root_builder, root_signer, None)
        root = CertificateAuthority(root_slug, root_certificate, root_signer, root_label)

        issuing_label = f"certdesk-{issuing_slug}-{label_suffix}"
        issuing_signer = keys.create(label=issuing_label, spec=issuing_spec)
        issuing_public = issuing_signer.public_key()
        issuing_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, config.country),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, config.organization),
                x509.NameAttribute(
                    NameOID.COMMON_NAME,
                    f"{config.organization} Issuing CA {algorithm.name} {year}",
                ),
            ]
        )
        issuing_builder = x509.CertificateBuilder(
            issuer_name=root_name,
            subject_name=issuing_name,
            public_key=issuing_public,
            serial_number=cls._serial_from(random),
            not_valid_before=now,
            not_valid_after=min(now + config.issuing_validity, root.not_after),
            extensions=[
                x509.Extension(
                    x509.BasicConstraints.oid, True, x509.BasicConstraints(ca=True, path_length=0)
                ),
                # digitalSignature: the issuing CA signs its OCSP responses itself.
                x509.Extension(
                    x509.KeyUsage.oid, True, _key_usage(digital_signature=True, ca=True)
                ),
                x509.Extension(
                    x509.ExtendedKeyUsage.oid,
                    False,
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                ),
                x509.Extension(
                    x509.CertificatePolicies.oid,
                    False,
                    # The issuing CA is the root's affiliate (BR 7.1.2.10.5): anyPolicy.
                    x509.CertificatePolicies(
                        [x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, None)]
                    ),
                ),
                x509.Extension(
                    x509.AuthorityKeyIdentifier.oid,
                    False,
                    x509.AuthorityKeyIdentifier(
                        key_identifier=root.key_identifier,
                        authority_cert_issuer=None,
                        authority_cert_serial_number=None,
                    ),
                ),
                x509.Extension(
                    x509.SubjectKeyIdentifier.oid,
                    False,
                    x509.SubjectKeyIdentifier.from_public_key(issuing_public),
                ),
                x509.Extension(
                    x509.AuthorityInformationAccess.oid,
                    False,
                    x509.AuthorityInformationAccess(
                        [
                            x509.AccessDescription(
                                AuthorityInformationAccessOID.CA_ISSUERS,
                                x509.UniformResourceIdentifier(config.certificate_url(root_slug)),
                            )
                        ]
                    ),
                ),
                x509.Extension(
                    x509.CRLDistributionPoints.oid,
                    False,
                    x509.CRLDistributionPoints(
                        [
                            x509.DistributionPoint(
                                full_name=[
                                    x509.UniformResourceIdentifier(config.crl_url(root_slug))
                                ],
                                relative_name=None,
                                reasons=None,
                                crl_issuer=None,
                            )
                        ]
                    ),
                ),
            ],
        )
        issuing_certificate = _sign_certificate(issuing_builder, root_signer, root_certificate)
        issuing = CertificateAuthority(
            issuing_slug, issuing_certificate, issuing_signer, issuing_label
        )
        document = {
            "format": STORE_FORMAT,
            "version": 1,
            "algorithm": algorithm.value,
            "created_at": now.isoformat(),
            "authorities": [
                {
                    "role": role,
                    "slug": authority.slug,
                    "key_label": authority.key_label,
                    "key_spec": authority.signer.spec.value,
                    "certificate": authority.pem,
                }
                for role, authority in (("root", root), ("issuing", issuing))
            ],
        }
        _write_atomic(path / STORE_FILE, json.dumps(document, indent=2).encode("utf-8"))
        return cls(root=root, issuing=issuing, config=config, random=random, created=True)

    @classmethod
    def _load(cls, path: Path, keys: KeyStore, config: CaConfig, random: RandomSource) -> BuiltinCA:
        store = path / STORE_FILE
        try:
            document = json.loads(store.read_text(encoding="utf-8"))
            if document.get("format") != STORE_FORMAT or document.get("version") != 1:
                raise ValueError("not a certdesk CA store of version 1")
            algorithm = CaAlgorithm(document["algorithm"])
            entries = {entry["role"]: entry for entry in document["authorities"]}
            loaded = {
                role: (
                    str(entries[role]["slug"]),
                    str(entries[role]["key_label"]),
                    KeySpec(entries[role]["key_spec"]),
                    x509.load_pem_x509_certificate(entries[role]["certificate"].encode("ascii")),
                )
                for role in ("root", "issuing")
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CaError(
                "ca_store_corrupt", field="directory", value=str(store), detail=str(exc)
            ) from None
        if algorithm is not config.algorithm:
            raise CaError(
                "ca_algorithm_mismatch",
                field="algorithm",
                value=algorithm.value,
                expected=config.algorithm.value,
            )
        authorities: dict[str, CertificateAuthority] = {}
        for role, (slug, label, spec, certificate) in loaded.items():
            signer = keys.load(label=label, spec=spec)
            if _public_der(signer.public_key()) != _public_der(
                certificate.public_key()  # type: ignore[arg-type]  # CA keys are EC or RSA
            ):
                raise CaError("ca_key_mismatch", field="key", value=label)
            authorities[role] = CertificateAuthority(slug, certificate, signer, label)
        try:
            authorities["issuing"].certificate.verify_directly_issued_by(
                authorities["root"].certificate
            )
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            raise CaError(
                "ca_store_corrupt",
                field="directory",
                value=str(store),
                detail="the issuing CA certificate is not signed by the root",
            ) from None
        return cls(
            root=authorities["root"], issuing=authorities["issuing"], config=config, random=random
        )

    # --- lookups ---------------------------------------------------------------------------

    @property
    def authorities(self) -> tuple[CertificateAuthority, CertificateAuthority]:
        """Root, then issuing CA."""
        return (self.root, self.issuing)

    def authority(self, slug: str) -> CertificateAuthority:
        """The CA whose URL slug is ``slug``; raise ``CaError`` (``ca_unknown``) otherwise."""
        for authority in self.authorities:
            if authority.slug == slug:
                return authority
        raise CaError("ca_unknown", field="ca", value=slug)

    def chain_pem(self, slug: str) -> str:
        """What ``/pki/ca/<slug>.pem`` serves: the CA certificate and those above it."""
        authority = self.authority(slug)
        if authority is self.root:
            return self.root.pem
        return self.issuing.pem + self.root.pem

    @property
    def endpoints(self) -> Endpoints:
        """The URLs written into subscriber certificates."""
        return self._endpoints

    # --- issuance ------------------------------------------------------------------------------

    @staticmethod
    def _serial_from(random: RandomSource) -> int:
        while True:
            serial = int.from_bytes(random(SERIAL_RANDOM_BYTES), "big") >> 1
            if serial:
                return serial

    def _fixed_extensions(self, profile: Profile, rsa_key: bool) -> list[x509.Extension[Any]]:
        key = (profile, rsa_key)
        cached = self._extensions.get(key)
        if cached is None:
            cached = [
                x509.Extension(value.oid, critical, value)
                for value, critical in profile.fixed_extensions(
                    rsa_key=rsa_key,
                    authority_key_identifier=self._authority_key_identifier,
                    endpoints=self._endpoints,
                )
            ]
            self._extensions[key] = cached
        return cached

    def new_serial(self) -> int:
        """A fresh random serial number (127 bits of the randomness source)."""
        return self._serial_from(self._random)

    def issue(
        self,
        *,
        csr: ValidatedCsr,
        profile: Profile,
        now: datetime,
        serial: int | None = None,
        validity_days: int | None = None,
        organization: Organization | None = None,
    ) -> IssuedCertificate:
        """Sign a subscriber certificate for ``csr`` under ``profile``.

        Validity is ``validity_days`` (default: one day under the BR cap at ``now``). Raises
        ``CsrRejected`` (names do not fit the profile), ``PolicyViolation`` (validity,
        organisation, serial) or ``CaError`` (the issuing CA is not valid at ``now``).
        """
        profile.check(csr)
        profile.check_organization(organization)
        moment = _require_aware(now)
        not_before, not_after = validity_period(moment, validity_days)
        issuing = self.issuing
        if not issuing.not_before <= not_before <= issuing.not_after:
            raise CaError(
                "ca_not_valid", field="now", value=issuing.slug, date=not_before.isoformat()
            )
        if not_after > issuing.not_after:
            raise PolicyViolation(
                "validity_beyond_ca",
                field="validity_days",
                value=not_after.isoformat(),
                limit=issuing.not_after.isoformat(),
            )
        serial_number = self.new_serial() if serial is None else _check_serial(serial)
        subject = profile.subject(csr, organization)
        names, critical = profile.names_extension(csr.dns_names, subject_is_empty=len(subject) == 0)
        builder = x509.CertificateBuilder(
            issuer_name=issuing.subject,
            subject_name=subject,
            public_key=csr.public_key,
            serial_number=serial_number,
            not_valid_before=not_before,
            not_valid_after=not_after,
            extensions=[
                *self._fixed_extensions(profile, csr.key.algorithm == "rsa"),
                x509.Extension(names.oid, critical, names),
            ],
        )
        certificate = _sign_certificate(builder, issuing.signer, issuing.certificate)
        return IssuedCertificate(
            certificate=certificate,
            der=certificate.public_bytes(serialization.Encoding.DER),
            chain=(issuing.certificate,),
            root=self.root.certificate,
            profile=profile.key,
        )

    # --- revocation ------------------------------------------------------------------------

    def crl(
        self,
        *,
        revoked: Iterable[RevokedEntry],
        now: datetime,
        number: int,
        authority: str | None = None,
    ) -> CrlDocument:
        """A full CRL of ``authority`` (default: the issuing CA), signed, numbered ``number``.

        ``number`` must grow with every CRL the CA publishes (the caller keeps the counter).
        Raises ``PolicyViolation`` for a reason BR 7.2.2 forbids or an invalid CRL number.
        """
        moment = _require_aware(now)
        ca = self.issuing if authority is None else self.authority(authority)
        is_root = ca is self.root
        allowed = CA_REVOCATION_REASONS if is_root else SUBSCRIBER_REVOCATION_REASONS
        if isinstance(number, bool) or not isinstance(number, int):
            raise TypeError("number must be an int")
        if number < 0 or number.bit_length() > MAX_SERIAL_BITS:
            raise PolicyViolation("crl_number_invalid", field="number", value=number)
        entries: list[x509.RevokedCertificate] = []
        seen: set[int] = set()
        for entry in revoked:
            if entry.serial_number in seen:
                raise ValueError(f"serial {entry.serial_number} is listed twice")
            seen.add(entry.serial_number)
            if entry.reason not in allowed:
                raise PolicyViolation(
                    "revocation_reason_not_allowed",
                    field="reason",
                    value=entry.reason.rfc_name,
                    scope="the CRL of a root CA" if is_root else "the CRL of an issuing CA",
                )
            builder = x509.RevokedCertificateBuilder(
                serial_number=entry.serial_number,
                revocation_date=entry.revoked_at.astimezone(UTC).replace(microsecond=0),
            )
            if entry.reason is not RevocationReason.UNSPECIFIED:
                # BR 7.2.2: "unspecified" is said by leaving the reason code out.
                builder = builder.add_extension(x509.CRLReason(entry.reason.flag), critical=False)
            entries.append(builder.build())
        validity = self.config.root_crl_validity if is_root else self.config.crl_validity
        next_update = moment + validity
        crl_builder = x509.CertificateRevocationListBuilder(
            issuer_name=ca.subject,
            last_update=moment,
            next_update=next_update,
            extensions=[
                x509.Extension(
                    x509.AuthorityKeyIdentifier.oid,
                    False,
                    x509.AuthorityKeyIdentifier(
                        key_identifier=ca.key_identifier,
                        authority_cert_issuer=None,
                        authority_cert_serial_number=None,
                    ),
                ),
                x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(number)),
            ],
            revoked_certificates=entries,
        )
        crl = _sign_crl(crl_builder, ca.signer)
        return CrlDocument(
            crl=crl,
            der=crl.public_bytes(serialization.Encoding.DER),
            authority=ca.slug,
            number=number,
            this_update=moment,
            next_update=next_update,
        )

    def ocsp_respond(
        self, request_der: bytes, lookup: Callable[[int], CertStatus], *, now: datetime
    ) -> bytes:
        """A DER OCSP response (RFC 6960) to ``request_der``, signed by the issuing CA.

        ``lookup`` tells the status of a serial the issuing CA may have issued. Requests that
        cannot be parsed (or carry a nonce over 32 octets) get ``malformedRequest``; requests
        about another issuer get ``unauthorized``. A request nonce is echoed (RFC 8954).
        """
        moment = _require_aware(now)
        try:
            request = ocsp.load_der_ocsp_request(bytes(request_der))
            serial = request.serial_number
            name_hash = request.issuer_name_hash
            key_hash = request.issuer_key_hash
            algorithm = request.hash_algorithm
            nonce = self._nonce(request)
        except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension):
            return self._unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if nonce is not None and not 1 <= len(nonce) <= OCSP_NONCE_MAX:
            return self._unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        issuing = self.issuing
        spec = issuing.signer.spec
        if issuing.ocsp_hashes(algorithm.name) != (name_hash, key_hash):
            return self._unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        status = lookup(serial)
        if not isinstance(status, CertStatus):
            raise TypeError("lookup must return a CertStatus")
        if status.state == "good":
            cert_status = ocsp.OCSPCertStatus.GOOD
        elif status.state == "revoked":
            cert_status = ocsp.OCSPCertStatus.REVOKED
        else:
            cert_status = ocsp.OCSPCertStatus.UNKNOWN
        revoked_at = (
            status.revoked_at.astimezone(UTC).replace(microsecond=0)
            if status.revoked_at is not None
            else None
        )
        reason = (
            status.reason.flag
            if status.state == "revoked" and status.reason is not RevocationReason.UNSPECIFIED
            else None
        )
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=name_hash,
                issuer_key_hash=key_hash,
                serial_number=serial,
                algorithm=algorithm,
                cert_status=cert_status,
                this_update=moment,
                next_update=moment + self.config.ocsp_validity,
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, _stand_in_certificate(spec))
        )
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        draft = builder.sign(_stand_in(spec), spec.hash_algorithm())
        return _finish_ocsp(
            draft.public_bytes(serialization.Encoding.DER),
            moment,
            issuing.responder_key_hash,
            issuing.signer,
        )

    @staticmethod
    def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
        try:
            extension = request.extensions.get_extension_for_class(x509.OCSPNonce)
        except x509.ExtensionNotFound:
            return None
        return extension.value.nonce

    @staticmethod
    def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
            serialization.Encoding.DER
        )
