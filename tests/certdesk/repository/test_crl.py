"""``/pki/crl/<ca>.crl``: full CRLs made from certdesk's revocation records, numbered upwards,
out of date for at most a minute."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509
from django.test import Client

import pki
from certdesk.accounts.models import User
from certdesk.certificates.models import Certificate
from certdesk.certificates.services import certificate_revoke
from certdesk.core import clock
from certdesk.repository import services
from certdesk.repository.models import CrlRecord
from certdesk.repository.services import CRL_HISTORY, crl_current
from tests.certdesk.certificates.factories import issue_certificate
from tests.pki.helpers import lint_crl

pytestmark = pytest.mark.django_db


def _crl(record: CrlRecord) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(bytes(record.der))


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _listed(crl: x509.CertificateRevocationList) -> dict[int, x509.ReasonFlags | None]:
    reasons: dict[int, x509.ReasonFlags | None] = {}
    for entry in crl:
        try:
            reasons[entry.serial_number] = entry.extensions.get_extension_for_class(
                x509.CRLReason
            ).value.reason
        except x509.ExtensionNotFound:
            reasons[entry.serial_number] = None
    return reasons


@pytest.fixture
def now() -> datetime:
    return clock.now()


@pytest.fixture
def issued(owner: User, dns_zone: object, now: datetime) -> list[Certificate]:
    return [
        issue_certificate(owner, [name], now=now)
        for name in ("www.shop-certdesk.jp", "shop-certdesk.jp", "www.example-shop.co.jp")
    ]


def test_crl_lists_revoked_certificates_with_their_reasons(
    owner: User, issued: list[Certificate], ca: pki.BuiltinCA, now: datetime
) -> None:
    certificate_revoke(user=owner, certificate_id=issued[0].pk, reason="keyCompromise", now=now)
    certificate_revoke(user=owner, certificate_id=issued[1].pk, reason="unspecified", now=now)

    crl = _crl(crl_current(slug=ca.issuing.slug, now=now))

    assert _listed(crl) == {
        issued[0].serial_int: x509.ReasonFlags.key_compromise,
        # BR 7.2.2: "unspecified" is stated by leaving the reason code out.
        issued[1].serial_int: None,
    }
    entry = crl.get_revoked_certificate_by_serial_number(issued[0].serial_int)
    assert entry is not None
    assert entry.revocation_date_utc == now.replace(microsecond=0)
    assert crl.issuer == ca.issuing.subject
    assert crl.is_signature_valid(ca.issuing.certificate.public_key())  # type: ignore[arg-type]
    assert (
        lint_crl(
            bytes(crl_current(slug=ca.issuing.slug, now=now).der), authority_revocation_list=False
        )
        == []
    )


def test_revocation_shows_in_the_next_crl_at_once(
    owner: User, issued: list[Certificate], ca: pki.BuiltinCA, now: datetime
) -> None:
    before = _crl(crl_current(slug=ca.issuing.slug, now=now))
    assert _listed(before) == {}

    certificate_revoke(
        user=owner, certificate_id=issued[2].pk, reason="superseded", now=now + timedelta(seconds=5)
    )
    after = _crl(crl_current(slug=ca.issuing.slug, now=now + timedelta(seconds=6)))

    assert _listed(after) == {issued[2].serial_int: x509.ReasonFlags.superseded}
    assert _number(after) > _number(before)


def test_revocation_committed_during_crl_signing_shows_within_a_minute(
    owner: User, issued: list[Certificate], ca: pki.BuiltinCA, now: datetime
) -> None:
    # Two revocations race: the later-stamped one commits first and makes it into a CRL;
    # the earlier-stamped one commits after that CRL was signed. The CRL's own check cannot
    # tell it missed one, so its age must.
    certificate_revoke(user=owner, certificate_id=issued[1].pk, reason="superseded", now=now)
    crl_current(slug=ca.issuing.slug, now=now)
    certificate_revoke(
        user=owner,
        certificate_id=issued[0].pk,
        reason="keyCompromise",
        now=now - timedelta(seconds=1),
    )

    within = _crl(crl_current(slug=ca.issuing.slug, now=now + timedelta(seconds=59)))
    after_a_minute = _crl(crl_current(slug=ca.issuing.slug, now=now + timedelta(seconds=60)))

    assert set(_listed(within)) == {issued[1].serial_int}
    assert set(_listed(after_a_minute)) == {issued[0].serial_int, issued[1].serial_int}


def test_crl_is_reused_within_a_minute_and_numbers_only_grow(
    ca: pki.BuiltinCA, now: datetime
) -> None:
    first = crl_current(slug=ca.issuing.slug, now=now)
    again = crl_current(slug=ca.issuing.slug, now=now + timedelta(seconds=30))
    numbers = [
        _number(_crl(crl_current(slug=ca.issuing.slug, now=now + timedelta(minutes=step))))
        for step in range(1, 6)
    ]

    assert again.pk == first.pk
    assert bytes(again.der) == bytes(first.der)
    assert numbers == sorted(set(numbers))
    assert numbers[0] > first.number


def test_only_the_latest_crls_are_kept(ca: pki.BuiltinCA, now: datetime) -> None:
    for step in range(CRL_HISTORY + 5):
        crl_current(slug=ca.issuing.slug, now=now + timedelta(minutes=step))

    kept = list(
        CrlRecord.objects.filter(authority=ca.issuing.slug)
        .order_by("number")
        .values_list("number", flat=True)
    )

    assert kept == list(range(6, CRL_HISTORY + 6))


def test_racing_processes_serve_the_crl_that_was_stored_first(
    ca: pki.BuiltinCA, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = crl_current(slug=ca.issuing.slug, now=now)
    later = now + timedelta(minutes=2)
    # Another process has just published the next number; this one still saw the old CRL.
    winner = CrlRecord.objects.create(
        authority=stale.authority,
        number=stale.number + 1,
        this_update=later,
        next_update=later + timedelta(days=7),
        revoked_through=None,
        der=ca.crl(revoked=[], now=later, number=stale.number + 1).der,
    )
    seen = iter([stale])
    real = services.crl_latest
    monkeypatch.setattr(
        services, "crl_latest", lambda *, authority: next(seen, None) or real(authority=authority)
    )

    served = crl_current(slug=ca.issuing.slug, now=later)

    assert served.pk == winner.pk
    assert CrlRecord.objects.filter(authority=stale.authority).count() == 2


def test_revoked_certificates_leave_the_crl_a_crl_lifetime_after_expiring(
    owner: User, issued: list[Certificate], ca: pki.BuiltinCA, now: datetime
) -> None:
    certificate_revoke(user=owner, certificate_id=issued[0].pk, reason="keyCompromise", now=now)
    expired = issued[0].not_after

    just_expired = _crl(crl_current(slug=ca.issuing.slug, now=expired + timedelta(days=1)))
    long_expired = _crl(
        crl_current(slug=ca.issuing.slug, now=expired + ca.config.crl_validity + timedelta(1))
    )

    assert issued[0].serial_int in _listed(just_expired)
    assert _listed(long_expired) == {}


def test_root_crl_lists_nothing_and_lints_as_an_authority_revocation_list(
    owner: User, issued: list[Certificate], ca: pki.BuiltinCA, now: datetime
) -> None:
    certificate_revoke(user=owner, certificate_id=issued[0].pk, reason="keyCompromise", now=now)

    record = crl_current(slug=ca.root.slug, now=now)
    crl = _crl(record)

    assert list(crl) == []
    assert crl.issuer == ca.root.subject
    assert crl.is_signature_valid(ca.root.certificate.public_key())  # type: ignore[arg-type]
    assert lint_crl(bytes(record.der), authority_revocation_list=True) == []


def test_crl_is_served_in_der_with_a_cache_lifetime_of_at_most_a_minute(
    client: Client, ca: pki.BuiltinCA
) -> None:
    response = client.get(f"/pki/crl/{ca.issuing.slug}.crl")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.issuer == ca.issuing.subject
    directives = dict(
        part.strip().partition("=")[::2] for part in response["Cache-Control"].split(",")
    )
    assert "public" in directives
    assert 0 < int(directives["max-age"]) <= 60
    assert "Last-Modified" in response


def test_served_crl_catches_up_with_a_late_revocation_a_minute_later(
    client: Client,
    owner: User,
    issued: list[Certificate],
    ca: pki.BuiltinCA,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"/pki/crl/{ca.issuing.slug}.crl"
    certificate_revoke(user=owner, certificate_id=issued[1].pk, reason="superseded", now=now)

    def fetch_at(moment: datetime) -> bytes:
        monkeypatch.setattr(clock, "now", lambda: moment)
        return client.get(url).content

    first = fetch_at(now)
    # Stamped before the CRL above was signed, committed after it.
    certificate_revoke(
        user=owner,
        certificate_id=issued[0].pk,
        reason="keyCompromise",
        now=now - timedelta(seconds=1),
    )
    half_a_minute = fetch_at(now + timedelta(seconds=30))
    a_minute = fetch_at(now + timedelta(seconds=60))

    assert half_a_minute == first
    assert set(_listed(x509.load_der_x509_crl(a_minute))) == {
        issued[0].serial_int,
        issued[1].serial_int,
    }
    assert _number(x509.load_der_x509_crl(a_minute)) > _number(x509.load_der_x509_crl(first))
