"""The built-in CA's revocation services: numbered CRLs made on demand, and OCSP answers.

A CRL is signed when one is asked for and the latest is out of date: older than a minute, or
missing a revocation recorded since. Nothing has to run on a schedule, and a revocation
reaches relying parties within a minute even when its transaction commits after a CRL that
was being made at the same time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from django.db import IntegrityError, transaction

import pki
from certdesk.repository.models import CrlRecord
from certdesk.repository.selectors import (
    authority_get,
    certificate_status,
    crl_latest,
    revoked_entries,
    revoked_listed,
)
from certdesk.suppliers.builtin import builtin_ca

logger = logging.getLogger(__name__)

CRL_REFRESH = timedelta(seconds=60)
"""An issuing CA's CRL older than this is replaced: revocations show within a minute."""
ROOT_CRL_REFRESH = timedelta(days=1)
"""The root's CRL lists CA certificates, which certdesk does not revoke online: a daily
signature keeps it far from its nextUpdate without signing with the root every minute."""
CRL_HISTORY = 10
"""How many of a CA's latest CRLs are kept; only the newest is served."""
OCSP_REQUEST_MAX = 8 * 1024
"""Larger OCSP requests are refused unparsed (one CertID with a nonce is about 100 bytes)."""


def _crl_is_current(
    latest: CrlRecord, *, root: bool, keep_expired_for: timedelta, now: datetime
) -> bool:
    if now - latest.this_update >= (ROOT_CRL_REFRESH if root else CRL_REFRESH):
        return False
    if latest.next_update <= now:
        return False
    if root:
        return True
    listed = revoked_listed(issuer=latest.authority, now=now, keep_expired_for=keep_expired_for)
    if latest.revoked_through is not None:
        listed = listed.filter(revoked_at__gt=latest.revoked_through)
    return not listed.exists()


def crl_current(*, slug: str, now: datetime) -> CrlRecord:
    """The CRL to serve for CA ``slug`` at ``now``.

    The latest CRL while it is current; otherwise a new full CRL numbered one higher. When
    two processes make the same number at once, the one that stores it first wins and both
    serve that CRL. Raises ``NotFound`` (``ca_not_found``) for an unknown slug.
    """
    authority_get(slug=slug)
    ca = builtin_ca()
    root = slug == ca.root.slug
    keep_expired_for = ca.config.crl_validity
    latest = crl_latest(authority=slug)
    if latest is not None and _crl_is_current(
        latest, root=root, keep_expired_for=keep_expired_for, now=now
    ):
        return latest
    # The root's CRL would list revoked CA certificates; the hierarchy's only CA below the
    # root is the issuing CA in use, so the list is empty.
    entries = (
        [] if root else revoked_entries(issuer=slug, now=now, keep_expired_for=keep_expired_for)
    )
    number = latest.number + 1 if latest is not None else 1
    document = ca.crl(revoked=entries, now=now, number=number, authority=slug)
    try:
        with transaction.atomic():
            record = CrlRecord.objects.create(
                authority=slug,
                number=number,
                this_update=document.this_update,
                next_update=document.next_update,
                revoked_through=max((entry.revoked_at for entry in entries), default=None),
                entries=len(entries),
                der=document.der,
            )
    except IntegrityError:
        winner = crl_latest(authority=slug)
        if winner is None:  # the number clashed, so a row exists unless deleted meanwhile
            raise
        return winner
    CrlRecord.objects.filter(authority=slug, number__lte=number - CRL_HISTORY).delete()
    logger.debug("published CRL %s #%d with %d entries", slug, number, len(entries))
    return record


def ocsp_response(*, request_der: bytes, now: datetime) -> bytes:
    """The DER OCSP response (RFC 6960) to ``request_der`` at ``now``, signed by the issuing CA.

    Status comes from certdesk's certificate records. Oversized or unparseable requests get
    ``malformedRequest``; requests about another CA get ``unauthorized``. Raises nothing for
    bad input: an OCSP client always receives an OCSP response.
    """
    if len(request_der) > OCSP_REQUEST_MAX:
        return ocsp_malformed()
    ca = builtin_ca()
    issuer = ca.issuing.slug

    def lookup(serial: int) -> pki.CertStatus:
        return certificate_status(issuer=issuer, serial=serial)

    return ca.ocsp_respond(request_der, lookup, now=now)


def ocsp_malformed() -> bytes:
    """The ``malformedRequest`` response, for requests that never reached a parser."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    ).public_bytes(serialization.Encoding.DER)
