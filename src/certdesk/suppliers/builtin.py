"""The built-in CA as a supplier: the embedded default, signing in-process.

The hierarchy lives in ``settings.CA_DIR`` with its keys encrypted under a key derived from
``SECRET_KEY``. It is created by ``certdesk serve`` on first start (``ensure_builtin_ca``) or
on first use. Revocation needs nothing from the CA itself: the CRL and OCSP answers are made
from certdesk's own records (``certdesk.repository``), so ``revoke`` only checks the reason.
"""

from __future__ import annotations

import functools
from datetime import datetime

from cryptography import x509
from django.conf import settings

import pki
from certdesk.core import clock
from certdesk.suppliers.base import IssueRequest, SuppliedCertificate


@functools.cache
def builtin_ca() -> pki.BuiltinCA:
    """The built-in hierarchy, loaded (or created) once per process."""
    directory = settings.CA_DIR
    keys = pki.FileKeyStore(directory / "keys", secret=settings.SECRET_KEY)
    config = pki.CaConfig(base_url=settings.CA_BASE_URL)
    return pki.BuiltinCA.load_or_create(
        directory=directory, keys=keys, config=config, now=clock.now()
    )


def ensure_builtin_ca() -> None:
    """Startup hook: create the hierarchy before the first request needs it."""
    ca = builtin_ca()
    if ca.created:
        print(f"Created the built-in CA in {settings.CA_DIR}")  # noqa: T201 - serve's console


class BuiltinSupplier:
    key = "builtin"

    def issue(self, request: IssueRequest) -> SuppliedCertificate:
        """Sign at once; idempotency comes from the caller's row lock on the application."""
        ca = builtin_ca()
        issued = ca.issue(
            csr=request.csr,
            profile=request.profile,
            organization=request.organization,
            now=request.now,
        )
        return SuppliedCertificate(
            certificate=issued.certificate, chain=issued.chain, issuer=ca.issuing.slug
        )

    def revoke(
        self,
        *,
        certificate: x509.Certificate,
        issuer: str,
        reason: pki.RevocationReason,
        now: datetime,
    ) -> None:
        pki.check_subscriber_reason(reason)
