"""Revocation data: RFC 5280 reason codes, CRL entries and the status an OCSP answer gives.

The lifecycle (outside this package) records revocations; the CA turns them into CRLs and
OCSP responses. CA/Browser Forum BR 7.2.2 limits which reasons may appear: a subscriber
certificate's CRL entry may say keyCompromise, affiliationChanged, superseded,
cessationOfOperation or privilegeWithdrawn (unspecified is expressed by leaving the reason
out); a CA certificate's entry may also say cACompromise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cryptography import x509

from pki.errors import PolicyViolation


class RevocationReason(enum.IntEnum):
    """CRLReason of RFC 5280 section 5.3.1 (value 7 is unused)."""

    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    CA_COMPROMISE = 2
    AFFILIATION_CHANGED = 3
    SUPERSEDED = 4
    CESSATION_OF_OPERATION = 5
    CERTIFICATE_HOLD = 6
    REMOVE_FROM_CRL = 8
    PRIVILEGE_WITHDRAWN = 9
    AA_COMPROMISE = 10

    @property
    def rfc_name(self) -> str:
        """The ASN.1 name, e.g. ``keyCompromise``."""
        head, *rest = self.name.lower().split("_")
        if head in {"ca", "aa"}:
            return head[0] + head.upper()[1] + "".join(part.title() for part in rest)
        return head + "".join(part.title() for part in rest)

    @property
    def flag(self) -> x509.ReasonFlags:
        """The matching cryptography ``ReasonFlags`` value."""
        return _FLAGS[self]

    @classmethod
    def parse(cls, value: str | int) -> RevocationReason:
        """A reason from its code, RFC name (``keyCompromise``) or enum name (``key_compromise``).

        Raises ``PolicyViolation`` (``revocation_reason_unknown``).
        """
        if isinstance(value, RevocationReason):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        elif isinstance(value, str):
            wanted = value.strip().replace("-", "_").lower()
            for reason in cls:
                if wanted in {reason.name.lower(), reason.rfc_name.lower()}:
                    return reason
                if wanted.isdigit() and int(wanted) == reason.value:
                    return reason
        raise PolicyViolation("revocation_reason_unknown", field="reason", value=value)


_FLAGS: dict[RevocationReason, x509.ReasonFlags] = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.CA_COMPROMISE: x509.ReasonFlags.ca_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.CERTIFICATE_HOLD: x509.ReasonFlags.certificate_hold,
    RevocationReason.REMOVE_FROM_CRL: x509.ReasonFlags.remove_from_crl,
    RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
    RevocationReason.AA_COMPROMISE: x509.ReasonFlags.aa_compromise,
}

SUBSCRIBER_REVOCATION_REASONS: frozenset[RevocationReason] = frozenset(
    {
        RevocationReason.UNSPECIFIED,
        RevocationReason.KEY_COMPROMISE,
        RevocationReason.AFFILIATION_CHANGED,
        RevocationReason.SUPERSEDED,
        RevocationReason.CESSATION_OF_OPERATION,
        RevocationReason.PRIVILEGE_WITHDRAWN,
    }
)
"""Reasons BR 7.2.2 allows for subscriber certificates."""

CA_REVOCATION_REASONS: frozenset[RevocationReason] = SUBSCRIBER_REVOCATION_REASONS | {
    RevocationReason.CA_COMPROMISE
}
"""Reasons BR 7.2.2 allows for CA certificates (on the root's CRL)."""


def check_subscriber_reason(reason: RevocationReason | str | int) -> RevocationReason:
    """The reason, if BR 7.2.2 allows it for a subscriber certificate; else ``PolicyViolation``."""
    parsed = RevocationReason.parse(reason)
    if parsed not in SUBSCRIBER_REVOCATION_REASONS:
        raise PolicyViolation(
            "revocation_reason_not_allowed",
            field="reason",
            value=parsed.rfc_name,
            scope="subscriber certificates",
        )
    return parsed


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate on a CRL."""

    serial_number: int
    revoked_at: datetime
    reason: RevocationReason = RevocationReason.UNSPECIFIED

    def __post_init__(self) -> None:
        if isinstance(self.serial_number, bool) or not isinstance(self.serial_number, int):
            raise TypeError("serial_number must be an int")
        if self.revoked_at.tzinfo is None:
            raise ValueError("revoked_at must be timezone-aware")
        if not isinstance(self.reason, RevocationReason):
            raise TypeError("reason must be a RevocationReason")


@dataclass(frozen=True)
class CertStatus:
    """What the CA knows about a serial number, as an OCSP answer states it."""

    state: Literal["good", "revoked", "unknown"]
    revoked_at: datetime | None = None
    reason: RevocationReason = RevocationReason.UNSPECIFIED

    def __post_init__(self) -> None:
        if self.state not in {"good", "revoked", "unknown"}:
            raise ValueError(f"unknown certificate state {self.state!r}")
        if (self.state == "revoked") != (self.revoked_at is not None):
            raise ValueError("revoked_at is required exactly when the state is revoked")
        if self.revoked_at is not None and self.revoked_at.tzinfo is None:
            raise ValueError("revoked_at must be timezone-aware")

    @classmethod
    def good(cls) -> CertStatus:
        """Issued by this CA and not revoked."""
        return cls("good")

    @classmethod
    def unknown(cls) -> CertStatus:
        """Not a serial this CA has issued."""
        return cls("unknown")

    @classmethod
    def revoked(
        cls, revoked_at: datetime, reason: RevocationReason = RevocationReason.UNSPECIFIED
    ) -> CertStatus:
        """Revoked at ``revoked_at`` for ``reason``."""
        return cls("revoked", revoked_at, reason)
