"""Reads behind the public repository: the CAs, and what certdesk's records say about a serial.

The built-in CA keeps no revocation list of its own: ``certificates.Certificate`` rows of the
built-in supplier are the record of what it issued and revoked, so the CRL and OCSP answers
can never disagree with what the portal and the API show.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.certificates.models import Certificate, serial_hex
from certdesk.core.errors import NotFound
from certdesk.repository.models import CrlRecord
from certdesk.suppliers.builtin import BuiltinSupplier, builtin_ca

logger = logging.getLogger(__name__)


def authority_get(*, slug: str) -> pki.CertificateAuthority:
    """The CA of the built-in hierarchy published under ``slug``.

    Raises ``NotFound`` (``ca_not_found``) for any other slug.
    """
    try:
        return builtin_ca().authority(slug)
    except pki.CaError:
        raise NotFound(_("There is no such CA."), code="ca_not_found") from None


def chain_pem(*, slug: str) -> str:
    """The PEM certificates of CA ``slug`` and those above it. Raises ``NotFound``."""
    try:
        return builtin_ca().chain_pem(slug)
    except pki.CaError:
        raise NotFound(_("There is no such CA."), code="ca_not_found") from None


def _issued_by(slug: str) -> QuerySet[Certificate]:
    return Certificate.objects.filter(supplier=BuiltinSupplier.key, issuer=slug)


def _reason(value: int | None, serial: str) -> pki.RevocationReason:
    """The reason to publish for a stored reason code.

    Revocation services refuse reasons BR 7.2.2 forbids for subscriber certificates, but a row
    written some other way must not stop the whole CRL from being signed: such an entry is
    published without a reason (which means "unspecified"), still revoked.
    """
    try:
        reason = pki.RevocationReason(value or 0)
        return pki.check_subscriber_reason(reason)
    except (ValueError, pki.PkiError):
        logger.warning(
            "certificate %s has revocation reason %r; published as unspecified", serial, value
        )
        return pki.RevocationReason.UNSPECIFIED


def certificate_status(*, issuer: str, serial: int) -> pki.CertStatus:
    """What an OCSP answer says about ``serial`` of CA ``issuer``.

    Revoked certificates are revoked (with time and reason); every other certificate the CA
    issued is good, expired ones included (RFC 6960 4.2.1 lets a responder answer for them);
    a serial it never issued is unknown.
    """
    row = (
        _issued_by(issuer)
        .filter(serial=serial_hex(serial))
        .values_list("serial", "revoked_at", "revocation_reason")
        .first()
    )
    if row is None:
        return pki.CertStatus.unknown()
    stored_serial, revoked_at, reason = row
    if revoked_at is None:
        return pki.CertStatus.good()
    return pki.CertStatus.revoked(revoked_at, _reason(reason, stored_serial))


def revoked_listed(
    *, issuer: str, now: datetime, keep_expired_for: timedelta
) -> QuerySet[Certificate]:
    """Revoked certificates of CA ``issuer`` that its CRL at ``now`` lists.

    An entry stays until its certificate has been expired for ``keep_expired_for`` (one CRL
    lifetime): RFC 5280 3.3 lets it go only after it appeared on a CRL issued beyond the
    certificate's validity, and any CRL asked for in that time is such a CRL.
    """
    return _issued_by(issuer).filter(
        revoked_at__isnull=False, not_after__gte=now - keep_expired_for
    )


def revoked_entries(
    *, issuer: str, now: datetime, keep_expired_for: timedelta
) -> list[pki.RevokedEntry]:
    """The CRL entries of CA ``issuer`` at ``now``, oldest revocation first."""
    rows = (
        revoked_listed(issuer=issuer, now=now, keep_expired_for=keep_expired_for)
        .order_by("revoked_at", "id")
        .values_list("serial", "revoked_at", "revocation_reason")
    )
    return [
        pki.RevokedEntry(int(serial, 16), revoked_at, _reason(reason, serial))
        for serial, revoked_at, reason in rows
    ]


def crl_latest(*, authority: str) -> CrlRecord | None:
    """The highest-numbered CRL CA ``authority`` has published, if any."""
    return CrlRecord.objects.filter(authority=authority).order_by("-number").first()
