"""Certificate profiles (DV/OV x single/multi/wildcard) and the dated validity schedule.

A profile decides what a subscriber certificate carries: subject, names, key usage, extended
key usage, basic constraints, key identifiers, AIA, CRL distribution point and the CA/Browser
Forum reserved policy OID. Validity is capped by BR 6.3.2 according to the issuance date; the
domain-validation reuse periods of BR 4.2.1 live beside it for the certificate lifecycle.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
    ObjectIdentifier,
)

from pki.csr import ValidatedCsr
from pki.errors import CsrRejected, PolicyViolation
from pki.keys import SubscriberPublicKey
from pki.names import DEFAULT_MAX_NAMES, is_wildcard


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


VALIDITY_SCHEDULE: tuple[tuple[datetime, int], ...] = (
    (_utc(2029, 3, 15), 47),
    (_utc(2027, 3, 15), 100),
    (_utc(2026, 3, 15), 200),
)
"""BR 6.3.2: the maximum validity in days for certificates issued on or after each date."""
VALIDITY_BEFORE_SCHEDULE = 398

DCV_REUSE_SCHEDULE: tuple[tuple[datetime, int], ...] = (
    (_utc(2029, 3, 15), 10),
    (_utc(2027, 3, 15), 100),
    (_utc(2026, 3, 15), 200),
)
"""BR 4.2.1: how many days a completed domain validation may be reused, by date of use."""
DCV_REUSE_BEFORE_SCHEDULE = 398


def _require_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _scheduled(now: datetime, schedule: tuple[tuple[datetime, int], ...], before: int) -> int:
    _require_aware(now)
    for start, days in schedule:
        if now >= start:
            return days
    return before


def validity_cap_days(now: datetime) -> int:
    """The longest validity (days) BR 6.3.2 allows for a certificate issued at ``now``."""
    return _scheduled(now, VALIDITY_SCHEDULE, VALIDITY_BEFORE_SCHEDULE)


def default_validity_days(now: datetime) -> int:
    """One day under the cap, since any fraction of a day counts as a whole day."""
    return validity_cap_days(now) - 1


def dcv_reuse_days(now: datetime) -> int:
    """How many days old a domain validation may be when it is relied on at ``now``."""
    return _scheduled(now, DCV_REUSE_SCHEDULE, DCV_REUSE_BEFORE_SCHEDULE)


def validity_period(now: datetime, days: int | None = None) -> tuple[datetime, datetime]:
    """``(not_before, not_after)`` for issuance at ``now``: exactly ``days`` days, inclusive.

    Raises ``PolicyViolation`` (``validity_invalid``, ``validity_exceeds_cap``).
    """
    _require_aware(now)
    cap = validity_cap_days(now)
    if days is None:
        days = cap - 1
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise PolicyViolation("validity_invalid", field="validity_days", value=days)
    if days > cap:
        raise PolicyViolation(
            "validity_exceeds_cap",
            field="validity_days",
            value=days,
            limit=cap,
            date=now.astimezone(UTC).date().isoformat(),
        )
    not_before = now.astimezone(UTC).replace(microsecond=0)
    # RFC 5280 validity includes both ends: notAfter one second short of N days makes N days.
    return not_before, not_before + timedelta(days=days) - timedelta(seconds=1)


class ValidationLevel(enum.StrEnum):
    """How the subscriber was validated: domain control only, or the organisation too."""

    DV = "dv"
    OV = "ov"


class NameScope(enum.StrEnum):
    """Which names a certificate may carry."""

    SINGLE = "single"
    MULTI = "multi"
    WILDCARD = "wildcard"


POLICY_OIDS: Mapping[ValidationLevel, ObjectIdentifier] = MappingProxyType(
    {
        ValidationLevel.DV: ObjectIdentifier("2.23.140.1.2.1"),
        ValidationLevel.OV: ObjectIdentifier("2.23.140.1.2.2"),
    }
)
"""The CA/Browser Forum reserved certificate policy identifiers (BR 7.1.6.1)."""


@dataclass(frozen=True)
class Organization:
    """A verified organisation, as it appears in an OV certificate's subject."""

    name: str
    country: str
    state: str | None = None
    locality: str | None = None

    def __post_init__(self) -> None:
        self._check("organizationName", self.name, 64, "1-64 characters.")
        if not (len(self.country) == 2 and self.country.isascii() and self.country.isupper()):
            raise PolicyViolation(
                "organization_invalid",
                field="countryName",
                value=self.country,
                rule="an ISO 3166-1 alpha-2 code in capitals, such as JP.",
            )
        if self.state is None and self.locality is None:
            raise PolicyViolation(
                "organization_invalid",
                field="localityName",
                value="",
                rule="a locality or a state/prefecture is required.",
            )
        if self.state is not None:
            self._check("stateOrProvinceName", self.state, 128, "1-128 characters.")
        if self.locality is not None:
            self._check("localityName", self.locality, 128, "1-128 characters.")

    @staticmethod
    def _check(field: str, value: str, limit: int, rule: str) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise PolicyViolation("organization_invalid", field=field, value=value, rule=rule)
        if value != value.strip():
            raise PolicyViolation(
                "organization_invalid", field=field, value=value, rule="no surrounding spaces."
            )

    def attributes(self) -> list[x509.NameAttribute[str]]:
        """Subject attributes in the order of BR 7.1.4.2 (C, ST, L, O)."""
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, self.country)]
        if self.state is not None:
            attributes.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, self.state))
        if self.locality is not None:
            attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, self.locality))
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.name))
        return attributes


@dataclass(frozen=True)
class Endpoints:
    """Where relying parties fetch the issuer's certificate, its CRL and OCSP answers."""

    ca_issuers_url: str
    crl_url: str
    ocsp_url: str | None


@dataclass(frozen=True)
class Profile:
    """A subscriber certificate profile: validation level and name scope."""

    level: ValidationLevel
    scope: NameScope
    max_names: int = DEFAULT_MAX_NAMES

    @property
    def key(self) -> str:
        """The stable identifier, e.g. ``dv-wildcard``."""
        return f"{self.level.value}-{self.scope.value}"

    @property
    def policy_oid(self) -> ObjectIdentifier:
        """The reserved CA/B Forum policy OID for the level."""
        return POLICY_OIDS[self.level]

    def check(self, csr: ValidatedCsr) -> None:
        """Raise ``CsrRejected`` (``profile_*``) unless the CSR's names fit this profile."""
        names = csr.dns_names
        count = len(names)
        wildcards = [name for name in names if is_wildcard(name)]
        if self.scope is NameScope.SINGLE and count != 1:
            raise CsrRejected("profile_single_name", field="profile", value=count, profile=self.key)
        if count > self.max_names:
            raise CsrRejected(
                "profile_too_many_names",
                field="profile",
                value=count,
                limit=self.max_names,
                profile=self.key,
            )
        if self.scope is NameScope.WILDCARD:
            if not wildcards:
                raise CsrRejected("profile_wildcard_required", field="profile", profile=self.key)
        elif wildcards:
            raise CsrRejected(
                "profile_wildcard_not_allowed",
                field="profile",
                value=wildcards[0],
                profile=self.key,
            )

    def fits(self, csr: ValidatedCsr) -> bool:
        """Whether the CSR's names fit this profile."""
        try:
            self.check(csr)
        except CsrRejected:
            return False
        return True

    def check_organization(self, organization: Organization | None) -> None:
        """Raise ``PolicyViolation`` unless OV has an organisation and DV has none."""
        if self.level is ValidationLevel.OV and organization is None:
            raise PolicyViolation("organization_required", field="organization", profile=self.key)
        if self.level is ValidationLevel.DV and organization is not None:
            raise PolicyViolation(
                "organization_not_allowed", field="organization", profile=self.key
            )

    def subject(self, csr: ValidatedCsr, organization: Organization | None) -> x509.Name:
        """The subject: OV organisation attributes, then the CSR's common name if it had one."""
        attributes: list[x509.NameAttribute[str]] = []
        if self.level is ValidationLevel.OV and organization is not None:
            attributes.extend(organization.attributes())
        # BR 7.1.4.3 discourages the common name; it is kept only when the CSR asked for it.
        if csr.common_name is not None:
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, csr.common_name))
        return x509.Name(attributes)

    def extensions(
        self,
        *,
        public_key: SubscriberPublicKey,
        names: tuple[str, ...],
        subject_is_empty: bool,
        authority_key_identifier: x509.AuthorityKeyIdentifier,
        endpoints: Endpoints,
    ) -> list[tuple[x509.ExtensionType, bool]]:
        """The extensions of a subscriber certificate, each with its criticality (BR 7.1.2.7)."""
        return [
            *self.fixed_extensions(
                rsa_key=isinstance(public_key, rsa.RSAPublicKey),
                authority_key_identifier=authority_key_identifier,
                endpoints=endpoints,
            ),
            self.names_extension(names, subject_is_empty=subject_is_empty),
        ]

    def fixed_extensions(
        self,
        *,
        rsa_key: bool,
        authority_key_identifier: x509.AuthorityKeyIdentifier,
        endpoints: Endpoints,
    ) -> list[tuple[x509.ExtensionType, bool]]:
        """The extensions that depend on the issuer and key type only (a CA may cache them)."""
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(endpoints.ca_issuers_url),
            )
        ]
        if endpoints.ocsp_url is not None:
            access.insert(
                0,
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(endpoints.ocsp_url),
                ),
            )
        return [
            (authority_key_identifier, False),
            (x509.AuthorityInformationAccess(access), False),
            (x509.CertificatePolicies([x509.PolicyInformation(self.policy_oid, None)]), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    # BR 7.1.2.7.11: keyEncipherment only makes sense for RSA key transport.
                    key_encipherment=rsa_key,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            ),
            (
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(endpoints.crl_url)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                False,
            ),
        ]

    @staticmethod
    def names_extension(
        names: tuple[str, ...], *, subject_is_empty: bool
    ) -> tuple[x509.SubjectAlternativeName, bool]:
        """The subjectAltName: critical when the subject is empty (RFC 5280 4.2.1.6)."""
        return x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), subject_is_empty


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        profile.key: profile
        for profile in (Profile(level, scope) for level in ValidationLevel for scope in NameScope)
    }
)
"""Every profile by key: dv-single, dv-multi, dv-wildcard, ov-single, ov-multi, ov-wildcard."""


def profile_get(key: str) -> Profile:
    """The profile named ``key``; raise ``PolicyViolation`` (``profile_unknown``) otherwise."""
    try:
        return PROFILES[key]
    except (KeyError, TypeError):
        raise PolicyViolation("profile_unknown", field="profile", value=key) from None


def profiles_fitting(
    csr: ValidatedCsr, *, level: ValidationLevel | None = None
) -> tuple[Profile, ...]:
    """The profiles (of ``level``, or all) whose name rules the CSR satisfies."""
    return tuple(
        profile
        for profile in PROFILES.values()
        if (level is None or profile.level is level) and profile.fits(csr)
    )
