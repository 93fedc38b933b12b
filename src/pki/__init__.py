"""certdesk's framework-free PKI core: CSR policy, certificate profiles and the built-in CA.

Never imports Django. Every refusal is a :class:`PkiError` carrying a stable code, the
offending field and value, and a message in Japanese and English.
"""

from __future__ import annotations

from pki.ca import (
    BuiltinCA,
    CaAlgorithm,
    CaConfig,
    CertificateAuthority,
    CrlDocument,
    IssuedCertificate,
)
from pki.csr import CsrPolicy, ValidatedCsr, default_csr_policy, load_csr, validate_csr
from pki.errors import CaError, CsrRejected, PkiError, PolicyViolation, PrivateKeySubmitted
from pki.keys import Blocklist, KeyInfo, KeyPolicy, check_public_key
from pki.keystore import (
    FileKeyStore,
    KeySpec,
    KeyStore,
    Pkcs11KeyStore,
    Signer,
    SoftwareSigner,
)
from pki.names import (
    base_domain,
    is_wildcard,
    name_matches,
    normalize_dns_name,
    normalize_dns_names,
    registrable_domain,
)
from pki.profiles import (
    PROFILES,
    Endpoints,
    NameScope,
    Organization,
    Profile,
    ValidationLevel,
    dcv_reuse_days,
    default_validity_days,
    profile_get,
    profiles_fitting,
    validity_cap_days,
    validity_period,
)
from pki.reasons import REASONS
from pki.revocation import (
    CertStatus,
    RevocationReason,
    RevokedEntry,
    check_subscriber_reason,
)

__all__ = [
    "PROFILES",
    "REASONS",
    "Blocklist",
    "BuiltinCA",
    "CaAlgorithm",
    "CaConfig",
    "CaError",
    "CertStatus",
    "CertificateAuthority",
    "CrlDocument",
    "CsrPolicy",
    "CsrRejected",
    "Endpoints",
    "FileKeyStore",
    "IssuedCertificate",
    "KeyInfo",
    "KeyPolicy",
    "KeySpec",
    "KeyStore",
    "NameScope",
    "Organization",
    "Pkcs11KeyStore",
    "PkiError",
    "PolicyViolation",
    "PrivateKeySubmitted",
    "Profile",
    "RevocationReason",
    "RevokedEntry",
    "Signer",
    "SoftwareSigner",
    "ValidatedCsr",
    "ValidationLevel",
    "base_domain",
    "check_public_key",
    "check_subscriber_reason",
    "dcv_reuse_days",
    "default_csr_policy",
    "default_validity_days",
    "is_wildcard",
    "load_csr",
    "name_matches",
    "normalize_dns_name",
    "normalize_dns_names",
    "profile_get",
    "profiles_fitting",
    "registrable_domain",
    "validate_csr",
    "validity_cap_days",
    "validity_period",
]
