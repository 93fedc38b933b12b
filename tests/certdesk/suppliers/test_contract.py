"""The contract every supplier in ``settings.CERTDESK_SUPPLIERS`` fulfils, one parametrised run
per supplier: what certdesk asks for is what comes back, the chain leads to the supplier's
root, and revocation takes exactly the reasons BR 7.2.2 allows a subscriber.

A new supplier joins by being registered in settings and naming its trust anchors in
``TRUST_ANCHORS`` below (the root a relying party would install).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store
from django.conf import settings
from django.test import Client

import pki
from certdesk.core import clock
from certdesk.suppliers.base import IssueRequest, SuppliedCertificate, Supplier
from certdesk.suppliers.builtin import builtin_ca
from certdesk.suppliers.registry import supplier_get
from pki.revocation import SUBSCRIBER_REVOCATION_REASONS
from tests.certdesk.certificates.factories import make_csr

pytestmark = pytest.mark.django_db

ORGANIZATION = pki.Organization(
    name="Shop Certdesk K.K.", country="JP", state="Tokyo", locality="Chiyoda-ku"
)


def _builtin_roots(client: Client) -> list[x509.Certificate]:
    """The root as a relying party gets it: from the public repository."""
    response = client.get(f"/pki/ca/{builtin_ca().root.slug}.pem")
    assert response.status_code == 200
    return x509.load_pem_x509_certificates(response.content)


TRUST_ANCHORS: dict[str, Callable[[Client], list[x509.Certificate]]] = {
    "builtin": _builtin_roots,
}


@dataclass(frozen=True)
class Case:
    profile: str
    names: tuple[str, ...]
    # The host a TLS client would connect to (a wildcard is checked on one of its hosts).
    host: str

    @property
    def ov(self) -> bool:
        return self.profile.startswith("ov-")


CASES = [
    Case("dv-single", ("www.shop-certdesk.jp",), "www.shop-certdesk.jp"),
    Case(
        "dv-multi",
        ("shop-certdesk.jp", "www.shop-certdesk.jp", "example-shop.co.jp"),
        "example-shop.co.jp",
    ),
    Case("dv-wildcard", ("*.shop-certdesk.jp", "shop-certdesk.jp"), "api.shop-certdesk.jp"),
    Case("ov-single", ("www.example-shop.co.jp",), "www.example-shop.co.jp"),
    Case("ov-multi", ("example-shop.co.jp", "www.example-shop.co.jp"), "www.example-shop.co.jp"),
    Case("ov-wildcard", ("*.example-shop.co.jp",), "mail.example-shop.co.jp"),
]

SUPPLIERS = list(settings.CERTDESK_SUPPLIERS)


@pytest.fixture(params=SUPPLIERS)
def supplier(request: pytest.FixtureRequest) -> Supplier:
    return supplier_get(request.param)


def _issue(supplier: Supplier, case: Case, *, reference: str) -> tuple[SuppliedCertificate, str]:
    csr_pem = make_csr(list(case.names))
    supplied = supplier.issue(
        IssueRequest(
            csr=pki.validate_csr(csr_pem),
            profile=pki.profile_get(case.profile),
            organization=ORGANIZATION if case.ov else None,
            reference=reference,
            now=clock.now(),
        )
    )
    return supplied, csr_pem


def _san(certificate: x509.Certificate) -> set[str]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(extension.value.get_values_for_type(x509.DNSName))


def test_every_registered_supplier_implements_the_protocol() -> None:
    assert SUPPLIERS, "no supplier is registered"
    for key in SUPPLIERS:
        supplier = supplier_get(key)
        assert isinstance(supplier, Supplier)
        assert supplier.key == key
        assert key in TRUST_ANCHORS, f"name the trust anchors of supplier {key!r} in this test"


@pytest.mark.parametrize("case", CASES, ids=[case.profile for case in CASES])
def test_issues_what_was_asked_for_under_the_validity_cap(
    supplier: Supplier, case: Case, client: Client
) -> None:
    before = clock.now()
    supplied, csr_pem = _issue(supplier, case, reference=f"contract-{case.profile}")
    leaf = supplied.certificate

    assert _san(leaf) == set(case.names)
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert leaf.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ) == csr.public_key().public_bytes(serialization.Encoding.DER, spki)
    organizations = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if case.ov:
        assert [attribute.value for attribute in organizations] == [ORGANIZATION.name]
    else:
        assert organizations == []

    # Issued by the first certificate of the chain, under the name the supplier reports.
    assert supplied.chain, "the chain must hold at least the issuing CA"
    assert leaf.issuer == supplied.chain[0].subject
    leaf.verify_directly_issued_by(supplied.chain[0])
    assert supplied.issuer and len(supplied.issuer) <= 64

    # BR 6.3.2, with a fraction of a day counting as a whole day.
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lifetime <= timedelta(days=pki.validity_cap_days(before))
    assert leaf.not_valid_before_utc <= clock.now()
    assert leaf.not_valid_after_utc > clock.now()

    verifier = (
        PolicyBuilder()
        .store(Store(TRUST_ANCHORS[supplier.key](client)))
        .time(clock.now())
        .build_server_verifier(x509.DNSName(case.host))
    )
    path = verifier.verify(leaf, list(supplied.chain))
    assert path[0] == leaf
    assert path[-1].subject == path[-1].issuer  # ends at a self-signed root


@pytest.mark.parametrize(
    "reason",
    sorted(SUBSCRIBER_REVOCATION_REASONS),
    ids=lambda reason: reason.rfc_name,
)
def test_revoke_accepts_every_subscriber_reason(
    supplier: Supplier, reason: pki.RevocationReason
) -> None:
    supplied, _ = _issue(supplier, CASES[0], reference=f"contract-revoke-{reason.rfc_name}")

    supplier.revoke(
        certificate=supplied.certificate, issuer=supplied.issuer, reason=reason, now=clock.now()
    )


@pytest.mark.parametrize(
    "reason",
    [
        pki.RevocationReason.CA_COMPROMISE,
        pki.RevocationReason.CERTIFICATE_HOLD,
        pki.RevocationReason.REMOVE_FROM_CRL,
        pki.RevocationReason.AA_COMPROMISE,
    ],
    ids=lambda reason: reason.rfc_name,
)
def test_revoke_refuses_reasons_a_subscriber_may_not_give(
    supplier: Supplier, reason: pki.RevocationReason
) -> None:
    supplied, _ = _issue(supplier, CASES[0], reference=f"contract-refuse-{reason.rfc_name}")

    with pytest.raises(pki.PkiError) as refused:
        supplier.revoke(
            certificate=supplied.certificate,
            issuer=supplied.issuer,
            reason=reason,
            now=clock.now(),
        )
    assert refused.value.code == "revocation_reason_not_allowed"


def test_a_profile_the_names_do_not_fit_is_refused_as_a_pki_error(supplier: Supplier) -> None:
    with pytest.raises(pki.PkiError) as refused:
        supplier.issue(
            IssueRequest(
                csr=pki.validate_csr(make_csr(["shop-certdesk.jp", "www.shop-certdesk.jp"])),
                profile=pki.profile_get("dv-single"),
                organization=None,
                reference="contract-misfit",
                now=clock.now(),
            )
        )
    assert refused.value.code == "profile_single_name"
