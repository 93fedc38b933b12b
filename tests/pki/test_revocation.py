"""Revocation: CRLs and OCSP answers, checked with openssl as the client and linted by pkilint."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp

import pki
from tests.pki.conftest import NOW
from tests.pki.helpers import (
    WARNING,
    epoch,
    lint_crl,
    lint_ocsp_response,
    openssl,
    vector,
)

REVOKED_AT = NOW - timedelta(hours=2)
# openssl ocsp judges thisUpdate/nextUpdate by the wall clock; the tests' NOW is fixed, so the
# allowed clock skew is opened up instead (the times themselves are asserted separately).
SKEW_SECONDS = str(20 * 365 * 24 * 3600)


def _issue(ca: pki.BuiltinCA, filename: str = "accepted--ecdsa-p256-single.csr.pem"):  # noqa: ANN202
    csr = pki.validate_csr(vector(filename))
    profile = pki.profiles_fitting(csr, level=pki.ValidationLevel.DV)[0]
    return ca.issue(csr=csr, profile=profile, now=NOW)


def _write(folder: Path, ca: pki.BuiltinCA, leaf: pki.IssuedCertificate) -> None:
    (folder / "root.pem").write_text(ca.root.pem)
    (folder / "issuing.pem").write_text(ca.issuing.pem)
    (folder / "chain.pem").write_text(ca.chain_pem(ca.issuing.slug))
    (folder / "leaf.pem").write_text(leaf.pem)


def _verify_signature(public_key: object, signature: bytes, data: bytes) -> None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


# --- CRL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ca_fixture", ["ecdsa_ca", "rsa_ca", "hsm_ca"])
def test_crl_is_signed_complete_and_lint_clean(
    ca_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ca: pki.BuiltinCA = request.getfixturevalue(ca_fixture)
    leaf = _issue(ca)
    document = ca.crl(
        revoked=[
            pki.RevokedEntry(leaf.serial_number, REVOKED_AT, pki.RevocationReason.KEY_COMPROMISE),
            pki.RevokedEntry(0x1234, REVOKED_AT),
            pki.RevokedEntry(0x5678, REVOKED_AT, pki.RevocationReason.SUPERSEDED),
        ],
        now=NOW,
        number=42,
    )
    crl = document.crl
    assert crl.is_signature_valid(ca.issuing.certificate.public_key())  # type: ignore[arg-type]
    assert (document.authority, document.number) == (ca.issuing.slug, 42)
    assert crl.last_update_utc == NOW == document.this_update
    assert crl.next_update_utc == NOW + timedelta(days=7) == document.next_update
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    revoked = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert revoked is not None and revoked.revocation_date_utc == REVOKED_AT
    assert revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    unspecified = crl.get_revoked_certificate_by_serial_number(0x1234)
    assert unspecified is not None and len(unspecified.extensions) == 0

    (tmp_path / "crl.der").write_bytes(document.der)
    _write(tmp_path, ca, leaf)
    checked = openssl(
        "crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"),
        "-CAfile", str(tmp_path / "chain.pem"), "-noout", "-text",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "verify OK" in checked.stderr
    assert "Key Compromise" in checked.stdout and "Superseded" in checked.stdout
    assert lint_crl(document.der, authority_revocation_list=False, threshold=WARNING) == []


def test_openssl_refuses_a_revoked_certificate_with_the_crl(
    ecdsa_ca: pki.BuiltinCA, tmp_path: Path
) -> None:
    leaf = _issue(ecdsa_ca)
    other = _issue(ecdsa_ca)
    crl = ecdsa_ca.crl(
        revoked=[pki.RevokedEntry(leaf.serial_number, REVOKED_AT)], now=NOW, number=1
    )
    root_crl = ecdsa_ca.crl(revoked=[], now=NOW, number=1, authority=ecdsa_ca.root.slug)
    _write(tmp_path, ecdsa_ca, leaf)
    (tmp_path / "other.pem").write_text(other.pem)
    (tmp_path / "crls.pem").write_text(crl.pem + root_crl.pem)
    arguments = [
        "verify", "-crl_check_all", "-attime", epoch(NOW + timedelta(hours=1)),
        "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "issuing.pem"),
        "-CRLfile", str(tmp_path / "crls.pem"),
    ]  # fmt: skip
    refused = openssl(*arguments, str(tmp_path / "leaf.pem"))
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout + refused.stderr
    accepted = openssl(*arguments, str(tmp_path / "other.pem"))
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_root_crl_lists_revoked_ca_certificates(ecdsa_ca: pki.BuiltinCA, tmp_path: Path) -> None:
    document = ecdsa_ca.crl(
        revoked=[
            pki.RevokedEntry(
                ecdsa_ca.issuing.certificate.serial_number,
                REVOKED_AT,
                pki.RevocationReason.CA_COMPROMISE,
            )
        ],
        now=NOW,
        number=3,
        authority=ecdsa_ca.root.slug,
    )
    assert document.crl.issuer == ecdsa_ca.root.subject
    assert document.next_update == NOW + timedelta(days=180)
    assert document.crl.is_signature_valid(ecdsa_ca.root.certificate.public_key())  # type: ignore[arg-type]
    assert lint_crl(document.der, authority_revocation_list=True, threshold=WARNING) == []
    (tmp_path / "root.crl").write_bytes(document.der)
    (tmp_path / "root.pem").write_text(ecdsa_ca.root.pem)
    checked = openssl(
        "crl", "-inform", "DER", "-in", str(tmp_path / "root.crl"),
        "-CAfile", str(tmp_path / "root.pem"), "-noout",
    )  # fmt: skip
    assert "verify OK" in checked.stderr


@pytest.mark.parametrize(
    ("reason", "authority"),
    [
        (pki.RevocationReason.CERTIFICATE_HOLD, "issuing"),
        (pki.RevocationReason.CA_COMPROMISE, "issuing"),
        (pki.RevocationReason.AA_COMPROMISE, "issuing"),
        (pki.RevocationReason.REMOVE_FROM_CRL, "issuing"),
        (pki.RevocationReason.CERTIFICATE_HOLD, "root"),
    ],
)
def test_reasons_the_baseline_requirements_forbid_are_refused(
    ecdsa_ca: pki.BuiltinCA, reason: pki.RevocationReason, authority: str
) -> None:
    slug = ecdsa_ca.root.slug if authority == "root" else None
    with pytest.raises(pki.PolicyViolation) as refused:
        ecdsa_ca.crl(
            revoked=[pki.RevokedEntry(99, REVOKED_AT, reason)], now=NOW, number=1, authority=slug
        )
    assert refused.value.code == "revocation_reason_not_allowed"
    assert reason.rfc_name in refused.value.message_en


def test_crl_number_is_checked(ecdsa_ca: pki.BuiltinCA) -> None:
    for bad in (-1, 2**160):
        with pytest.raises(pki.PolicyViolation) as refused:
            ecdsa_ca.crl(revoked=[], now=NOW, number=bad)
        assert refused.value.code == "crl_number_invalid"


def test_empty_crl_is_valid(ecdsa_ca: pki.BuiltinCA) -> None:
    document = ecdsa_ca.crl(revoked=[], now=NOW, number=0)
    assert len(document.crl) == 0
    assert lint_crl(document.der, authority_revocation_list=False, threshold=WARNING) == []


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("keyCompromise", pki.RevocationReason.KEY_COMPROMISE),
        ("key_compromise", pki.RevocationReason.KEY_COMPROMISE),
        ("KEY-COMPROMISE", pki.RevocationReason.KEY_COMPROMISE),
        (1, pki.RevocationReason.KEY_COMPROMISE),
        ("1", pki.RevocationReason.KEY_COMPROMISE),
        ("cACompromise", pki.RevocationReason.CA_COMPROMISE),
        ("cessationOfOperation", pki.RevocationReason.CESSATION_OF_OPERATION),
        (0, pki.RevocationReason.UNSPECIFIED),
    ],
)
def test_revocation_reasons_parse_from_codes_and_names(
    given: str | int, reason: pki.RevocationReason
) -> None:
    assert pki.RevocationReason.parse(given) is reason


@pytest.mark.parametrize("given", ["bogus", 7, 11, -1, True])
def test_unknown_revocation_reasons_are_refused(given: object) -> None:
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.RevocationReason.parse(given)  # type: ignore[arg-type]
    assert refused.value.code == "revocation_reason_unknown"


def test_subscriber_revocation_reasons_follow_the_baseline_requirements() -> None:
    assert pki.check_subscriber_reason("superseded") is pki.RevocationReason.SUPERSEDED
    with pytest.raises(pki.PolicyViolation) as refused:
        pki.check_subscriber_reason("certificateHold")
    assert refused.value.code == "revocation_reason_not_allowed"
    assert "certificateHold" in refused.value.message_ja


# --- OCSP ----------------------------------------------------------------------------------


def _status_of(leaf: pki.IssuedCertificate, state: str):  # noqa: ANN202
    def lookup(serial: int) -> pki.CertStatus:
        if serial != leaf.serial_number or state == "unknown":
            return pki.CertStatus.unknown()
        if state == "revoked":
            return pki.CertStatus.revoked(REVOKED_AT, pki.RevocationReason.KEY_COMPROMISE)
        return pki.CertStatus.good()

    return lookup


@contextlib.contextmanager
def _responder(ca: pki.BuiltinCA, lookup: Callable[[int], pki.CertStatus]) -> Iterator[str]:
    """The CA's OCSP answers served over HTTP on loopback, as ``/pki/ocsp`` will be."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = ca.ocsp_respond(body, lookup, now=NOW)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pki/ocsp"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("ca_fixture", ["ecdsa_ca", "rsa_ca", "hsm_ca"])
@pytest.mark.parametrize("state", ["good", "revoked", "unknown"])
def test_openssl_client_gets_signed_ocsp_answers(
    ca_fixture: str, state: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ca: pki.BuiltinCA = request.getfixturevalue(ca_fixture)
    leaf = _issue(ca)
    _write(tmp_path, ca, leaf)
    with _responder(ca, _status_of(leaf, state)) as url:
        checked = openssl(
            "ocsp", "-url", url, "-timeout", "20",
            "-issuer", str(tmp_path / "issuing.pem"), "-cert", str(tmp_path / "leaf.pem"),
            "-CAfile", str(tmp_path / "root.pem"), "-verify_other", str(tmp_path / "issuing.pem"),
            "-attime", epoch(NOW + timedelta(minutes=5)), "-validity_period", SKEW_SECONDS,
            "-respout", str(tmp_path / "response.der"),
        )  # fmt: skip
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert "Response verify OK" in output
    assert f"leaf.pem: {state}" in output
    # openssl sends a nonce and complains when the answer lacks it or changes it.
    assert "nonce" not in output.lower()
    if state == "revoked":
        assert "Reason: keyCompromise" in output
    assert lint_ocsp_response((tmp_path / "response.der").read_bytes(), WARNING) == []


def test_ocsp_answer_times_come_from_the_injected_now(ecdsa_ca: pki.BuiltinCA) -> None:
    leaf = _issue(ecdsa_ca)
    request = ocsp.OCSPRequestBuilder().add_certificate(
        leaf.certificate, ecdsa_ca.issuing.certificate, hashes.SHA256()
    )
    answer = ocsp.load_der_ocsp_response(
        ecdsa_ca.ocsp_respond(
            request.build().public_bytes(serialization.Encoding.DER),
            _status_of(leaf, "good"),
            now=NOW + timedelta(microseconds=500),
        )
    )
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.produced_at_utc == NOW
    assert answer.this_update_utc == NOW
    assert answer.next_update_utc == NOW + timedelta(days=4)
    assert answer.serial_number == leaf.serial_number
    assert answer.responder_key_hash == ecdsa_ca.issuing.responder_key_hash
    assert answer.responder_name is None
    assert answer.certificates == []
    assert len(answer.extensions) == 0  # no nonce asked, none given
    _verify_signature(
        ecdsa_ca.issuing.certificate.public_key(), answer.signature, answer.tbs_response_bytes
    )


def test_ocsp_nonce_is_echoed_and_an_oversized_one_refused(ecdsa_ca: pki.BuiltinCA) -> None:
    leaf = _issue(ecdsa_ca)

    def request_with(nonce: bytes) -> bytes:
        builder = ocsp.OCSPRequestBuilder().add_certificate(
            leaf.certificate, ecdsa_ca.issuing.certificate, hashes.SHA1()
        )
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.build().public_bytes(serialization.Encoding.DER)

    nonce = bytes(range(32))
    answer = ocsp.load_der_ocsp_response(
        ecdsa_ca.ocsp_respond(request_with(nonce), _status_of(leaf, "good"), now=NOW)
    )
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    too_long = ocsp.load_der_ocsp_response(
        ecdsa_ca.ocsp_respond(request_with(bytes(33)), _status_of(leaf, "good"), now=NOW)
    )
    assert too_long.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_refuses_garbage_and_other_issuers(
    ecdsa_ca: pki.BuiltinCA, rsa_ca: pki.BuiltinCA
) -> None:
    def status_of(response: bytes) -> ocsp.OCSPResponseStatus:
        return ocsp.load_der_ocsp_response(response).response_status

    def never(serial: int) -> pki.CertStatus:
        raise AssertionError("no lookup for a request the CA does not answer")

    assert status_of(ecdsa_ca.ocsp_respond(b"\x30\x03\x02\x01\x00", never, now=NOW)) is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    assert status_of(ecdsa_ca.ocsp_respond(b"", never, now=NOW)) is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    # The issuing CA's own certificate was issued by the root, which answers by CRL only.
    about_ca = ocsp.OCSPRequestBuilder().add_certificate(
        ecdsa_ca.issuing.certificate, ecdsa_ca.root.certificate, hashes.SHA1()
    )
    assert (
        status_of(
            ecdsa_ca.ocsp_respond(
                about_ca.build().public_bytes(serialization.Encoding.DER), never, now=NOW
            )
        )
        is ocsp.OCSPResponseStatus.UNAUTHORIZED
    )
    foreign = _issue(rsa_ca)
    about_foreign = ocsp.OCSPRequestBuilder().add_certificate(
        foreign.certificate, rsa_ca.issuing.certificate, hashes.SHA1()
    )
    assert (
        status_of(
            ecdsa_ca.ocsp_respond(
                about_foreign.build().public_bytes(serialization.Encoding.DER), never, now=NOW
            )
        )
        is ocsp.OCSPResponseStatus.UNAUTHORIZED
    )


def test_ocsp_lookup_must_answer_with_a_status(ecdsa_ca: pki.BuiltinCA) -> None:
    leaf = _issue(ecdsa_ca)
    request = ocsp.OCSPRequestBuilder().add_certificate(
        leaf.certificate, ecdsa_ca.issuing.certificate, hashes.SHA1()
    )
    with pytest.raises(TypeError):
        ecdsa_ca.ocsp_respond(
            request.build().public_bytes(serialization.Encoding.DER),
            lambda serial: "good",  # type: ignore[arg-type, return-value]
            now=NOW,
        )


def test_cert_status_is_consistent() -> None:
    with pytest.raises(ValueError):
        pki.CertStatus("revoked")
    with pytest.raises(ValueError):
        pki.CertStatus("good", revoked_at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        pki.CertStatus("maybe")  # type: ignore[arg-type]
