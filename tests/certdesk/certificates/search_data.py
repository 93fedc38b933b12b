"""History rows for the search, export and dashboard tests.

Searching reads the stored columns only, so these tests write ``Certificate`` and
``CertificateName`` rows directly, with the dates, serials and states a test needs, instead
of signing hundreds of certificates. ``pem`` and ``chain_pem`` stay empty: nothing here reads
them. Tests that need a real certificate use ``factories.issue_certificate``.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta

from certdesk.accounts.models import Account
from certdesk.certificates.models import Certificate, CertificateName
from certdesk.organizations.models import Organization
from tests.certdesk.certificates.factories import product

_serials = itertools.count(0x1F00_0000_0000_0001)


def stored_certificate(
    account: Account,
    names: list[str],
    *,
    issued_at: datetime,
    days: int = 199,
    not_after: datetime | None = None,
    revoked_at: datetime | None = None,
    serial: int | None = None,
    code: str = "dv-single",
    organization: Organization | None = None,
) -> Certificate:
    """A certificate row of ``account`` for ``names`` issued at ``issued_at``, valid ``days``
    days unless ``not_after`` is given, with its name rows."""
    number = next(_serials) if serial is None else serial
    end = not_after if not_after is not None else issued_at + timedelta(days=days)
    certificate = Certificate.objects.create(
        account=account,
        product=product(code),
        organization=organization,
        supplier="builtin",
        issuer="test-issuing",
        serial=format(number, "x"),
        common_name=names[0],
        names=names,
        key_description="ECDSA P-256",
        key_fingerprint=hashlib.sha256(f"key-{number}".encode()).hexdigest(),
        fingerprint_sha256=hashlib.sha256(f"cert-{number}".encode()).hexdigest(),
        not_before=issued_at,
        not_after=end,
        pem="",
        chain_pem="",
        issued_at=issued_at,
        revoked_at=revoked_at,
        revocation_reason=1 if revoked_at is not None else None,
    )
    CertificateName.objects.bulk_create(
        [CertificateName(certificate=certificate, account=account, name=n) for n in names]
    )
    return certificate


def many_certificates(
    account: Account, count: int, *, start: datetime, step: timedelta = timedelta(hours=1)
) -> list[Certificate]:
    """``count`` certificates for ``www<n>.shop-certdesk.jp``, issued ``step`` apart."""
    return [
        stored_certificate(account, [f"www{n}.shop-certdesk.jp"], issued_at=start + step * n)
        for n in range(count)
    ]
