"""``/pki/ca/<ca>.cer`` and ``/pki/ca/<ca>.pem``: what relying parties fetch to build a chain."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID
from django.test import Client

import pki
from certdesk.accounts.models import User
from tests.certdesk.certificates.factories import issue_certificate

pytestmark = pytest.mark.django_db


def test_issuing_ca_certificate_is_served_in_der_where_leaves_point(
    client: Client, owner: User, ca: pki.BuiltinCA, dns_zone: object
) -> None:
    certificate = issue_certificate(owner, ["www.shop-certdesk.jp"])
    leaf = x509.load_pem_x509_certificate(certificate.pem.encode())
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ca_issuers = [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    ]

    response = client.get(urlsplit(ca_issuers[0]).path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-cert"
    issuer = x509.load_der_x509_certificate(response.content)
    leaf.verify_directly_issued_by(issuer)
    assert issuer == ca.issuing.certificate


def test_issuing_chain_is_the_issuing_ca_then_the_root(client: Client, ca: pki.BuiltinCA) -> None:
    response = client.get(f"/pki/ca/{ca.issuing.slug}.pem")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pem-certificate-chain"
    chain = x509.load_pem_x509_certificates(response.content)
    assert chain == [ca.issuing.certificate, ca.root.certificate]
    chain[0].verify_directly_issued_by(chain[1])


def test_root_chain_and_certificate_are_the_root_alone(client: Client, ca: pki.BuiltinCA) -> None:
    pem = client.get(f"/pki/ca/{ca.root.slug}.pem")
    der = client.get(f"/pki/ca/{ca.root.slug}.cer")

    assert x509.load_pem_x509_certificates(pem.content) == [ca.root.certificate]
    assert x509.load_der_x509_certificate(der.content) == ca.root.certificate


def test_ca_files_are_public_and_cacheable(client: Client, ca: pki.BuiltinCA) -> None:
    response = client.get(f"/pki/ca/{ca.issuing.slug}.cer")

    cache_control = response["Cache-Control"]
    assert cache_control.startswith("public, max-age=")
    assert int(cache_control.rsplit("=", 1)[1]) >= 3600
    assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    "path",
    [
        "/pki/ca/root-ecdsa-1999.cer",
        "/pki/ca/issuing-rsa-2026.pem",
        "/pki/crl/nobody.crl",
        "/pki/ca/../ca.json",
    ],
)
def test_unknown_ca_is_not_found(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_ca_files_are_read_only(client: Client, ca: pki.BuiltinCA) -> None:
    response = client.post(f"/pki/ca/{ca.issuing.slug}.pem")

    assert response.status_code == 405
