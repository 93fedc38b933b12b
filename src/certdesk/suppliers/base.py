"""The contract every supplier (the certificate authority that signs) fulfils.

certdesk hands a supplier a CSR that already passed the PKI core's policy, the profile, the
organisation (OV) and a reference unique to the application; the supplier returns the
certificate and its chain. certdesk itself issues once per application (a row lock around
the call); ``reference`` lets a supplier that talks to a remote CA find and resume an order
it already placed, instead of placing a second one after a crash or timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import pki


class SupplierError(Exception):
    """The supplier could not do what was asked. ``transient`` errors are worth retrying."""

    def __init__(self, code: str, detail: str, *, transient: bool) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.transient = transient


@dataclass(frozen=True)
class IssueRequest:
    csr: pki.ValidatedCsr
    profile: pki.Profile
    organization: pki.Organization | None
    reference: str
    now: datetime


@dataclass(frozen=True)
class SuppliedCertificate:
    """What a supplier returns: the leaf, the intermediates, and the issuing CA's name."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    issuer: str

    @property
    def pem(self) -> str:
        """The leaf, PEM-encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def chain_pem(self) -> str:
        """The intermediates, PEM-encoded, in the order servers send them after the leaf."""
        return "".join(
            item.public_bytes(serialization.Encoding.PEM).decode("ascii") for item in self.chain
        )


@runtime_checkable
class Supplier(Protocol):
    """A certificate authority certdesk can order from."""

    key: str

    def issue(self, request: IssueRequest) -> SuppliedCertificate:
        """Sign (or fetch the already signed) certificate for ``request``.

        Raises ``pki.PkiError`` when the request breaks the CA's policy and
        ``SupplierError`` when the CA cannot be reached or refuses.
        """
        ...

    def revoke(
        self,
        *,
        certificate: x509.Certificate,
        issuer: str,
        reason: pki.RevocationReason,
        now: datetime,
    ) -> None:
        """Revoke ``certificate`` at the CA. Raises ``SupplierError``."""
        ...
