"""Test data for the certificate lifecycle: CSRs made on the fly, organisations, products,
validated names and issued certificates. Shared by the certificates, validation, repository,
organizations, console, API and end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone
from factory.django import DjangoModelFactory

from certdesk.accounts.models import Account, User
from certdesk.certificates.models import Application, Certificate, Product
from certdesk.certificates.services import application_create
from certdesk.organizations.models import Organization
from certdesk.validation.models import DomainValidation
from tests.certdesk.members.factories import AccountFactory, UserFactory, member_of, token_for

__all__ = [
    "AccountFactory",
    "OrganizationFactory",
    "UserFactory",
    "issue_certificate",
    "make_csr",
    "member_of",
    "product",
    "token_for",
    "validate_names",
]


def make_csr(
    names: list[str],
    *,
    key: str = "ec",
    common_name: str | None = None,
    private_key: object | None = None,
) -> str:
    """A PEM CSR for ``names`` (SANs) signed with a fresh P-256 (``key="ec"``) or RSA-2048
    (``key="rsa"``) key, or with ``private_key``; the CN is the first name unless given."""
    if private_key is None:
        private_key = (
            ec.generate_private_key(ec.SECP256R1())
            if key == "ec"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
    cn = names[0] if common_name is None else common_name
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(private_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def product(code: str) -> Product:
    """One of the products the migrations create: dv-single, dv-multi, dv-wildcard, ov-*."""
    return Product.objects.get(code=code)


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    account = factory.SubFactory(AccountFactory)
    name_ja = factory.Sequence(lambda n: f"株式会社ショップ{n}")
    name_en = factory.Sequence(lambda n: f"Shop {n} K.K.")
    # 13 digits with a valid check digit (the first digit checks the other twelve).
    corporate_number = factory.Sequence(lambda n: _corporate_number(1000000000000 + n))
    country = "JP"
    prefecture = "Tokyo"
    locality = "Chiyoda-ku"
    postal_code = "100-0005"
    address = "東京都千代田区丸の内1-1-1"
    phone = "03-1234-5678"
    status = Organization.Status.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


def _corporate_number(base: int) -> str:
    digits = str(base)[-12:].rjust(12, "0")
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(digits)))
    return f"{9 - total % 9}{digits}"


def validate_names(account: Account, names: list[str], *, at: datetime | None = None) -> None:
    """Record DNS validations of ``names`` for ``account`` as if they had passed at ``at``."""
    at = at or timezone.now()
    for name in names:
        adn = name[2:] if name.startswith("*.") else name
        DomainValidation.objects.create(
            account=account,
            name=adn,
            method=DomainValidation.Method.DNS,
            token="0" * 64,
            status=DomainValidation.Status.VALID,
            created_at=at,
            validated_at=at,
        )


def issue_certificate(
    user: User,
    names: list[str],
    *,
    code: str = "dv-single",
    now: datetime | None = None,
    organization: Organization | None = None,
) -> Certificate:
    """An issued certificate for ``names``: records their validation, applies and issues
    (OV applications are approved by an operator first). CAA is looked up for real, on the
    suite's lab DNS server (tests/conftest.py), which holds no CAA records unless a test
    adds them."""
    now = now or datetime.now(UTC)
    validate_names(user.account, names, at=now - timedelta(minutes=1))  # type: ignore[arg-type]
    application = application_create(
        user=user,
        product_id=product(code).pk,
        csr=make_csr(names),
        now=now,
        organization_id=organization.pk if organization else None,
    )
    if application.approval == Application.Approval.WAITING:
        from certdesk.certificates.services import application_decide
        from tests.certdesk.terms.factories import OperatorFactory

        application = application_decide(
            operator=OperatorFactory(),
            application_id=application.pk,
            approve=True,
            reason="",
            now=now,
        )
    return application.certificate
