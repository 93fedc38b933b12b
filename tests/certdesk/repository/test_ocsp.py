"""``/pki/ocsp``: RFC 6960 answers from certdesk's records, by POST and by GET (appendix A)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.test import Client

import pki
from certdesk.accounts.models import User
from certdesk.certificates.models import Certificate
from certdesk.certificates.services import certificate_revoke
from certdesk.core import clock
from certdesk.repository.services import ocsp_response
from tests.certdesk.certificates.factories import issue_certificate, make_csr
from tests.pki.helpers import lint_ocsp_response

pytestmark = pytest.mark.django_db

OCSP_REQUEST = "application/ocsp-request"
NONCE = bytes.fromhex("5ca1ab1e00c0ffee5ca1ab1e00c0ffee")


def _leaf(certificate: Certificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(certificate.pem.encode())


def _request(
    leaf: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = NONCE
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _post(client: Client, body: bytes) -> ocsp.OCSPResponse:
    response = client.post("/pki/ocsp", data=body, content_type=OCSP_REQUEST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


@pytest.fixture
def now() -> datetime:
    return clock.now()


@pytest.fixture
def certificate(owner: User, dns_zone: object, now: datetime) -> Certificate:
    return issue_certificate(owner, ["www.shop-certdesk.jp"], now=now)


def test_issued_certificate_is_good_and_the_nonce_is_echoed(
    client: Client, certificate: Certificate, ca: pki.BuiltinCA
) -> None:
    answer = _post(client, _request(_leaf(certificate), ca.issuing.certificate))

    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == certificate.serial_int
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == NONCE
    assert answer.responder_key_hash == ca.issuing.responder_key_hash
    algorithm = answer.signature_hash_algorithm
    assert algorithm is not None
    public_key = ca.issuing.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(algorithm))


def test_revoked_certificate_is_revoked_with_time_and_reason(
    client: Client, owner: User, certificate: Certificate, ca: pki.BuiltinCA, now: datetime
) -> None:
    revoked_at = now + timedelta(minutes=5)
    certificate_revoke(
        user=owner, certificate_id=certificate.pk, reason="keyCompromise", now=revoked_at
    )

    answer = _post(client, _request(_leaf(certificate), ca.issuing.certificate))

    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == revoked_at.replace(microsecond=0)
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise


def test_certificate_the_ca_never_recorded_is_unknown(
    client: Client, ca: pki.BuiltinCA, now: datetime
) -> None:
    stray = ca.issue(
        csr=pki.validate_csr(make_csr(["www.shop-certdesk.jp"])),
        profile=pki.profile_get("dv-single"),
        now=now,
    )

    answer = _post(client, _request(stray.certificate, ca.issuing.certificate))

    assert answer.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_expired_certificate_is_still_answered_good(
    certificate: Certificate, ca: pki.BuiltinCA
) -> None:
    after_expiry = certificate.not_after + timedelta(days=30)

    der = ocsp_response(
        request_der=_request(_leaf(certificate), ca.issuing.certificate), now=after_expiry
    )

    assert ocsp.load_der_ocsp_response(der).certificate_status == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize("urlsafe", [True, False], ids=["url-safe", "standard"])
def test_get_form_answers_and_may_be_cached_for_a_minute(
    client: Client, certificate: Certificate, ca: pki.BuiltinCA, urlsafe: bool
) -> None:
    der = _request(_leaf(certificate), ca.issuing.certificate)
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    encoded = encode(der).decode().rstrip("=") if urlsafe else encode(der).decode()

    response = client.get(f"/pki/ocsp/{encoded}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    assert response["Cache-Control"] == "public, max-age=60"
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == NONCE


def test_get_form_accepts_percent_encoded_base64(
    client: Client, certificate: Certificate, ca: pki.BuiltinCA
) -> None:
    # Pick a nonce that makes the standard alphabet's "/" and "+" appear in the encoding.
    for counter in range(256):
        der = _request(_leaf(certificate), ca.issuing.certificate, nonce=bytes([counter]) * 16)
        encoded = base64.b64encode(der).decode()
        if "/" in encoded and "+" in encoded:
            break
    assert "/" in encoded and "+" in encoded
    quoted = encoded.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D")

    response = client.get(f"/pki/ocsp/{quoted}")

    assert ocsp.load_der_ocsp_response(response.content).response_status == (
        ocsp.OCSPResponseStatus.SUCCESSFUL
    )


@pytest.mark.parametrize(
    "body",
    [b"", b"not an OCSP request", b"\x30\x03\x02\x01\x01", bytes(range(256)) * 4],
    ids=["empty", "text", "wrong-der", "binary"],
)
def test_garbage_gets_malformed_request_with_http_200(client: Client, body: bytes) -> None:
    answer = _post(client, body)

    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def _padded_request(leaf: x509.Certificate, issuer: x509.Certificate, size: int) -> bytes:
    """A well-formed request of about ``size`` bytes: an unknown, non-critical extension
    (which a responder ignores) carries the padding."""
    padding = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x04\x82" + (size).to_bytes(2) + bytes(size)
    )
    return (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, issuer, hashes.SHA1())
        .add_extension(padding, critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def test_requests_over_8_kib_are_malformed_without_being_parsed(
    client: Client, certificate: Certificate, ca: pki.BuiltinCA, now: datetime
) -> None:
    leaf, issuer = _leaf(certificate), ca.issuing.certificate
    fits = _padded_request(leaf, issuer, 8000)
    too_big = _padded_request(leaf, issuer, 8200)
    assert len(fits) <= 8 * 1024 < len(too_big)

    answered = _post(client, fits)
    posted = _post(client, too_big)
    # A chunked upload declares no length: the view reads one byte past the limit and the
    # service refuses on size.
    chunked = ocsp.load_der_ocsp_response(ocsp_response(request_der=too_big, now=now))

    assert answered.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert posted.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert chunked.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.parametrize("path", ["!!!notbase64!!!", "AAAA", "A" * 12000])
def test_get_form_with_bad_base64_is_malformed(client: Client, path: str) -> None:
    response = client.get(f"/pki/ocsp/{path}")

    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_request_about_another_ca_is_unauthorized(
    client: Client, certificate: Certificate, ca: pki.BuiltinCA
) -> None:
    # Asking the root's hashes about a leaf: this responder answers for the issuing CA only.
    answer = _post(client, _request(_leaf(certificate), ca.root.certificate))

    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ocsp_needs_no_session_and_no_csrf_token(
    certificate: Certificate, ca: pki.BuiltinCA
) -> None:
    strict = Client(enforce_csrf_checks=True)

    answer = _post(strict, _request(_leaf(certificate), ca.issuing.certificate))

    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD


def test_ocsp_responses_lint_clean(
    client: Client, owner: User, certificate: Certificate, ca: pki.BuiltinCA, now: datetime
) -> None:
    good = client.post(
        "/pki/ocsp",
        data=_request(_leaf(certificate), ca.issuing.certificate),
        content_type=OCSP_REQUEST,
    ).content
    certificate_revoke(user=owner, certificate_id=certificate.pk, reason="superseded", now=now)
    revoked = client.post(
        "/pki/ocsp",
        data=_request(_leaf(certificate), ca.issuing.certificate, nonce=None),
        content_type=OCSP_REQUEST,
    ).content

    assert lint_ocsp_response(good) == []
    assert lint_ocsp_response(revoked) == []
