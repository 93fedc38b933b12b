"""The repository through a live server, judged by openssl: the independent client relying
parties use. Chain and CRL are fetched over HTTP like any client would."""

from __future__ import annotations

import base64
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

import pki
from certdesk.accounts.models import User
from certdesk.certificates.models import Certificate
from certdesk.certificates.services import certificate_revoke
from certdesk.core import clock
from tests.certdesk.certificates.factories import issue_certificate, make_csr
from tests.pki.helpers import lint_crl, lint_ocsp_response, openssl

pytestmark = pytest.mark.django_db(transaction=True)


def _fetch(url: str, data: bytes | None = None, content_type: str = "") -> tuple[bytes, dict]:
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.read(), dict(response.headers)


@dataclass
class Scene:
    """Files on disk as a relying party would keep them, and the live server's URL."""

    url: str
    folder: Path
    root: Path
    issuing: Path
    good: Path
    revoked: Path
    stray: Path
    good_certificate: Certificate
    revoked_certificate: Certificate


@pytest.fixture
def scene(
    live_server, products: None, owner: User, dns_zone: object, ca: pki.BuiltinCA, tmp_path: Path
) -> Scene:
    now = clock.now()
    good = issue_certificate(owner, ["www.shop-certdesk.jp"], now=now)
    revoked = issue_certificate(owner, ["shop-certdesk.jp"], now=now)
    certificate_revoke(user=owner, certificate_id=revoked.pk, reason="keyCompromise", now=now)
    # Signed by the CA but never recorded by certdesk: OCSP must not vouch for it.
    stray = ca.issue(
        csr=pki.validate_csr(make_csr(["www.example-shop.co.jp"])),
        profile=pki.profile_get("dv-single"),
        now=now,
    )
    base = live_server.url
    issuing_chain, _ = _fetch(f"{base}/pki/ca/{ca.issuing.slug}.pem")
    root_pem, _ = _fetch(f"{base}/pki/ca/{ca.root.slug}.pem")
    chain = x509.load_pem_x509_certificates(issuing_chain)
    files = {
        "root": root_pem,
        "issuing": chain[0].public_bytes(serialization.Encoding.PEM),
        "good": good.pem.encode(),
        "revoked": revoked.pem.encode(),
        "stray": stray.certificate.public_bytes(serialization.Encoding.PEM),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_bytes(content)
    return Scene(
        url=base,
        folder=tmp_path,
        good_certificate=good,
        revoked_certificate=revoked,
        **paths,
    )


def test_openssl_checks_the_chain_against_the_served_crl(scene: Scene, ca: pki.BuiltinCA) -> None:
    der, headers = _fetch(f"{scene.url}/pki/crl/{ca.issuing.slug}.crl")
    assert headers["Content-Type"] == "application/pkix-crl"
    crl_der = scene.folder / "issuing.crl"
    crl_der.write_bytes(der)
    crl_pem = scene.folder / "issuing-crl.pem"

    text = openssl("crl", "-inform", "DER", "-in", str(crl_der), "-noout", "-text")
    converted = openssl("crl", "-inform", "DER", "-in", str(crl_der), "-out", str(crl_pem))

    def verify(leaf: Path):  # noqa: ANN202
        return openssl(
            "verify",
            "-crl_check",
            "-CAfile",
            str(scene.root),
            "-untrusted",
            str(scene.issuing),
            "-CRLfile",
            str(crl_pem),
            str(leaf),
        )

    good, revoked = verify(scene.good), verify(scene.revoked)

    assert text.returncode == 0, text.stderr
    assert converted.returncode == 0, converted.stderr
    listed = [int(serial, 16) for serial in re.findall(r"Serial Number: ([0-9A-F]+)", text.stdout)]
    assert listed == [scene.revoked_certificate.serial_int]
    assert "Key Compromise" in text.stdout
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"{scene.good}: OK" in good.stdout
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr
    assert lint_crl(der, authority_revocation_list=False) == []


def _ocsp_post(scene: Scene, leaf: Path) -> str:
    result = openssl(
        "ocsp",
        "-issuer",
        str(scene.issuing),
        "-cert",
        str(leaf),
        "-url",
        f"{scene.url}/pki/ocsp",
        "-CAfile",
        str(scene.root),
        "-resp_text",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Response verify OK" in result.stderr + result.stdout
    return result.stdout


def test_openssl_ocsp_post_tells_good_revoked_and_unknown(scene: Scene) -> None:
    good = _ocsp_post(scene, scene.good)
    revoked = _ocsp_post(scene, scene.revoked)
    unknown = _ocsp_post(scene, scene.stray)

    assert f"{scene.good}: good" in good
    assert f"{scene.revoked}: revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    assert f"{scene.stray}: unknown" in unknown
    # openssl sends a nonce by default and warns when the answer lacks it.
    for output in (good, revoked, unknown):
        assert "OCSP Nonce" in output
        assert "WARNING: no nonce" not in output


def test_openssl_accepts_the_get_form_answer(scene: Scene, ca: pki.BuiltinCA) -> None:
    request_file = scene.folder / "request.der"
    made = openssl(
        "ocsp",
        "-issuer",
        str(scene.issuing),
        "-cert",
        str(scene.revoked),
        "-reqout",
        str(request_file),
    )
    assert made.returncode == 0, made.stderr
    encoded = base64.urlsafe_b64encode(request_file.read_bytes()).decode().rstrip("=")

    body, headers = _fetch(f"{scene.url}/pki/ocsp/{encoded}")
    response_file = scene.folder / "response.der"
    response_file.write_bytes(body)
    # Only the saved request and answer: with -cert, openssl would build a new request (and
    # a new nonce) instead of checking the one that was sent.
    checked = openssl(
        "ocsp",
        "-reqin",
        str(request_file),
        "-respin",
        str(response_file),
        "-CAfile",
        str(scene.root),
        "-verify_other",
        str(scene.issuing),
        "-resp_text",
    )

    assert headers["Content-Type"] == "application/ocsp-response"
    assert headers["Cache-Control"] == "public, max-age=60"
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Response verify OK" in checked.stderr + checked.stdout
    assert "Cert Status: revoked" in checked.stdout
    assert "Revocation Reason: keyCompromise" in checked.stdout
    assert "OCSP Nonce" in checked.stdout
    assert "Nonce Verify error" not in checked.stdout + checked.stderr
    assert lint_ocsp_response(body) == []


def test_garbage_over_http_gets_an_ocsp_malformed_request(scene: Scene) -> None:
    body, headers = _fetch(
        f"{scene.url}/pki/ocsp", data=b"\x30\x82garbage", content_type="application/ocsp-request"
    )

    assert headers["Content-Type"] == "application/ocsp-response"
    assert ocsp.load_der_ocsp_response(body).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    # The same answer through openssl's eyes.
    response_file = scene.folder / "malformed.der"
    response_file.write_bytes(body)
    shown = openssl("ocsp", "-respin", str(response_file), "-resp_text", "-noverify")
    assert "malformedrequest" in (shown.stdout + shown.stderr).lower()


def test_python_client_and_openssl_agree_on_the_responder(scene: Scene, ca: pki.BuiltinCA) -> None:
    leaf = x509.load_pem_x509_certificate(scene.good.read_bytes())
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, ca.issuing.certificate, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )

    body, _ = _fetch(f"{scene.url}/pki/ocsp", data=request, content_type="application/ocsp-request")
    answer = ocsp.load_der_ocsp_response(body)

    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.hash_algorithm.name == "sha256"
    assert answer.responder_key_hash == ca.issuing.responder_key_hash
