"""Parse a certificate signing request (PEM or DER) and judge it by the issuance policy.

:func:`validate_csr` is the single entry point: it returns a :class:`ValidatedCsr` or raises
:class:`~pki.errors.CsrRejected` with a stable code. Nothing else escapes, whatever the bytes.
A private key sent by mistake is recognised and refused without being kept anywhere.
"""

from __future__ import annotations

import binascii
import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from pki.errors import CsrRejected, PrivateKeySubmitted
from pki.keys import KeyInfo, KeyPolicy, SubscriberPublicKey, check_public_key
from pki.names import DEFAULT_MAX_NAMES, base_domain, is_wildcard, normalize_dns_name

MAX_CSR_SIZE = 64 * 1024
MAX_COMMON_NAME_LENGTH = 64

_CSR_LABELS = frozenset({b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"})
_CERTIFICATE_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"})
_PUBLIC_KEY_LABELS = frozenset({b"PUBLIC KEY", b"RSA PUBLIC KEY", b"SSH2 PUBLIC KEY"})
_PEM_BEGIN = re.compile(rb"-----BEGIN ([^-\r\n]{1,64})-----")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([^-\r\n]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")
_BASE64_SPACE = b" \t\r\n\v\f"
_CSR_HEADER = b"-----BEGIN CERTIFICATE REQUEST-----"
_CSR_FOOTER = b"-----END CERTIFICATE REQUEST-----"
_ACCEPTED_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)

# cryptography warns when it parses an over-long name attribute; the policy refuses such a
# CSR with a precise code instead, so the warning would only be noise in the logs.
warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)


@dataclass(frozen=True)
class CsrPolicy:
    """The limits a CSR is judged by."""

    key_policy: KeyPolicy = field(default_factory=KeyPolicy)
    max_names: int = DEFAULT_MAX_NAMES
    max_size: int = MAX_CSR_SIZE


@functools.cache
def default_csr_policy() -> CsrPolicy:
    """The issuance policy with its defaults (built once per process)."""
    return CsrPolicy()


@dataclass(frozen=True)
class ValidatedCsr:
    """A CSR that passed the policy, with its normalised names and key facts."""

    csr: x509.CertificateSigningRequest
    public_key: SubscriberPublicKey
    key: KeyInfo
    common_name: str | None
    dns_names: tuple[str, ...]
    signature_hash: str

    @property
    def der(self) -> bytes:
        """The CSR, DER-encoded."""
        return self.csr.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        """The CSR, PEM-encoded."""
        return self.csr.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def has_wildcard(self) -> bool:
        """Whether any name is a wildcard."""
        return any(is_wildcard(name) for name in self.dns_names)

    @property
    def domains_to_validate(self) -> tuple[str, ...]:
        """The distinct domains whose control must be shown (wildcard labels removed)."""
        return tuple(dict.fromkeys(base_domain(name) for name in self.dns_names))


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError("CSR data must be bytes or str")


def _base64(body: bytes, code: str) -> bytes:
    try:
        return binascii.a2b_base64(body.translate(None, _BASE64_SPACE), strict_mode=True)
    except (binascii.Error, ValueError):
        raise CsrRejected(code, field="csr") from None


def _der_from_pem(text: bytes) -> bytes:
    if b"PRIVATE KEY-----" in text:
        raise PrivateKeySubmitted()
    if (
        text.startswith(_CSR_HEADER)
        and text.endswith(_CSR_FOOTER)
        and text.count(b"-----BEGIN") == 1
        and b":" not in text
    ):
        # The common case, a lone CSR block, without the regular expressions.
        return _base64(text[len(_CSR_HEADER) : -len(_CSR_FOOTER)], "csr_pem_malformed")
    labels = _PEM_BEGIN.findall(text)
    blocks = _PEM_BLOCK.findall(text)
    requests = [body for label, body in blocks if label in _CSR_LABELS]
    if len(requests) > 1:
        raise CsrRejected("csr_multiple", field="csr", value=len(requests))
    if not requests:
        if not blocks or any(label in _CSR_LABELS for label in labels):
            raise CsrRejected("csr_pem_malformed", field="csr")
        label = blocks[0][0]
        if label in _CERTIFICATE_LABELS:
            raise CsrRejected("csr_is_certificate", field="csr")
        if label in _PUBLIC_KEY_LABELS:
            raise CsrRejected("csr_is_public_key", field="csr")
        raise CsrRejected("csr_pem_unknown", field="csr", value=label.decode("ascii", "replace"))
    body = requests[0]
    if b":" in body:
        # RFC 1421 headers (Proc-Type, DEK-Info) never belong in a CSR.
        raise CsrRejected("csr_pem_malformed", field="csr")
    return _base64(body, "csr_pem_malformed")


def _parses(loader: Callable[[bytes], object], der: bytes) -> bool:
    try:
        loader(der)
    except Exception:  # noqa: BLE001 - any failure means "not this kind of object"
        return False
    return True


def _is_private_key(der: bytes) -> bool:
    try:
        serialization.load_der_private_key(der, password=None)
    except TypeError:
        # An encrypted private key: still a private key that left its owner's hands.
        return True
    except Exception:  # noqa: BLE001 - any other failure means "not a private key"
        return False
    return True


def _identify_der(der: bytes) -> CsrRejected:
    """Name what a DER blob that is not a CSR is, for a precise refusal."""
    if _is_private_key(der):
        return PrivateKeySubmitted()
    if _parses(x509.load_der_x509_certificate, der):
        return CsrRejected("csr_is_certificate", field="csr")
    if _parses(serialization.load_der_public_key, der):
        return CsrRejected("csr_is_public_key", field="csr")
    return CsrRejected("csr_malformed", field="csr")


def load_csr(
    data: bytes | bytearray | memoryview | str, *, max_size: int = MAX_CSR_SIZE
) -> x509.CertificateSigningRequest:
    """Load a CSR from PEM or DER (or bare Base64); raise ``CsrRejected`` for anything else."""
    raw = _as_bytes(data)
    if len(raw) > max_size:
        raise CsrRejected("csr_too_large", field="csr", value=len(raw), limit=max_size)
    text = raw.strip()
    if not text:
        raise CsrRejected("csr_empty", field="csr")
    if b"PuTTY-User-Key-File" in text:
        raise PrivateKeySubmitted()
    if b"-----BEGIN" in text:
        der = _der_from_pem(text)
    elif text.startswith((b"ssh-", b"ecdsa-sha2-")):
        raise CsrRejected("csr_is_public_key", field="csr")
    elif raw[:1] != b"\x30" and _BASE64_TEXT.fullmatch(text):
        der = _base64(text, "csr_malformed")
    else:
        der = raw
    try:
        return x509.load_der_x509_csr(der)
    except Exception:  # noqa: BLE001 - ValueError, InvalidVersion...: all "not a CSR"
        raise _identify_der(der) from None


def _signature_hash(csr: x509.CertificateSigningRequest) -> str:
    try:
        algorithm = csr.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        oid = csr.signature_algorithm_oid
        name = getattr(oid, "_name", None) or oid.dotted_string
        raise CsrRejected(
            "csr_signature_algorithm", field="signatureAlgorithm", value=name
        ) from None
    if not isinstance(algorithm, _ACCEPTED_HASHES):
        name = algorithm.name.upper() if algorithm is not None else "none"
        raise CsrRejected("csr_signature_algorithm", field="signatureAlgorithm", value=name)
    return algorithm.name.upper().replace("SHA", "SHA-")


def _general_name_text(name: x509.GeneralName) -> str:
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.DirectoryName):
        return f"DirName:{name.value.rfc4514_string()}"
    if isinstance(name, x509.RegisteredID):
        return f"RID:{name.value.dotted_string}"
    if isinstance(name, x509.OtherName):
        return f"othername:{name.type_id.dotted_string}"
    return type(name).__name__


def _requested_names(csr: x509.CertificateSigningRequest) -> list[str]:
    try:
        extension = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names: list[str] = []
    for general_name in extension.value:
        if isinstance(general_name, x509.DNSName):
            names.append(general_name.value)
        elif isinstance(general_name, x509.IPAddress):
            raise CsrRejected(
                "name_ip_address", field="subjectAltName", value=str(general_name.value)
            )
        else:
            raise CsrRejected(
                "name_not_dns", field="subjectAltName", value=_general_name_text(general_name)
            )
    return names


def _common_name(csr: x509.CertificateSigningRequest) -> str | None:
    common_names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(common_names) > 1:
        raise CsrRejected(
            "subject_cn_multiple", field="subject.commonName", value=len(common_names)
        )
    if not common_names:
        return None
    value = common_names[0].value
    if not isinstance(value, str):
        raise CsrRejected("csr_malformed", field="subject.commonName")
    if len(value) > MAX_COMMON_NAME_LENGTH:
        raise CsrRejected("subject_cn_too_long", field="subject.commonName", value=len(value))
    return value


def _judge(csr: x509.CertificateSigningRequest, policy: CsrPolicy) -> ValidatedCsr:
    try:
        public_key = csr.public_key()
    except (UnsupportedAlgorithm, ValueError):
        raise CsrRejected("key_type_unsupported", field="publicKey", value="unrecognised") from None
    key = check_public_key(public_key, policy=policy.key_policy, field="publicKey")
    signature_hash = _signature_hash(csr)
    if not csr.is_signature_valid:
        raise CsrRejected("csr_signature_invalid", field="signature")
    common_name = _common_name(csr)
    requested = _requested_names(csr)
    seen: dict[str, None] = {}
    for name in requested:
        seen.setdefault(normalize_dns_name(name, field="subjectAltName"), None)
    if len(seen) > policy.max_names:
        raise CsrRejected(
            "name_too_many", field="subjectAltName", value=len(seen), limit=policy.max_names
        )
    normalized_cn = None
    if common_name is not None:
        lowered = common_name.lower()
        # Usually the common name repeats a SAN that has just passed every rule.
        if lowered in seen:
            normalized_cn = lowered
        else:
            normalized_cn = normalize_dns_name(common_name, field="subject.commonName")
        if not seen:
            seen[normalized_cn] = None
        elif normalized_cn not in seen:
            raise CsrRejected("name_cn_mismatch", field="subject.commonName", value=common_name)
    if not seen:
        raise CsrRejected("name_missing", field="subjectAltName")
    return ValidatedCsr(
        csr=csr,
        # check_public_key admits nothing but RSA and EC keys.
        public_key=cast(SubscriberPublicKey, public_key),
        key=key,
        common_name=normalized_cn,
        dns_names=tuple(seen),
        signature_hash=signature_hash,
    )


def validate_csr(
    data: bytes | bytearray | memoryview | str | x509.CertificateSigningRequest,
    *,
    policy: CsrPolicy | None = None,
) -> ValidatedCsr:
    """Judge a CSR by the issuance policy; raise ``CsrRejected`` (and only that) if it fails."""
    policy = policy if policy is not None else default_csr_policy()
    if isinstance(data, x509.CertificateSigningRequest):
        csr = data
    else:
        csr = load_csr(data, max_size=policy.max_size)
    try:
        return _judge(csr, policy)
    except CsrRejected:
        raise
    except (
        ValueError,
        TypeError,
        UnsupportedAlgorithm,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
        x509.InvalidVersion,
    ):
        # cryptography parses subject, attributes and extensions lazily: a damaged structure
        # surfaces here rather than at load time.
        raise CsrRejected("csr_malformed", field="csr") from None
