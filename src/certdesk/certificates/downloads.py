"""The files a certificate can be downloaded as. The full chain is the default: a server
that sends the leaf without its intermediate is the classic deployment failure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.utils.translation import gettext_lazy as _

from certdesk.certificates.models import Certificate
from certdesk.core.errors import InvalidInput


class Format(enum.StrEnum):
    FULLCHAIN = "fullchain"
    PEM = "pem"
    CHAIN = "chain"
    DER = "der"
    PKCS7 = "p7b"


DEFAULT_FORMAT = Format.FULLCHAIN

LABELS = {
    Format.FULLCHAIN: _("Full chain (PEM): certificate + intermediate"),
    Format.PEM: _("Certificate only (PEM)"),
    Format.CHAIN: _("Intermediate certificate only (PEM)"),
    Format.DER: _("Certificate (DER, binary)"),
    Format.PKCS7: _("PKCS#7 (.p7b): certificate + intermediate, for IIS and Tomcat"),
}


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    body: bytes


def _base_name(certificate: Certificate) -> str:
    name = certificate.common_name or (certificate.names or ["certificate"])[0]
    return name.replace("*", "wildcard").replace("/", "_")


def certificate_file(certificate: Certificate, fmt: str | None) -> Download:
    """The certificate in ``fmt`` (default: full chain). Raises ``InvalidInput``
    (``download_format_unknown``) for a format not in ``Format``."""
    try:
        chosen = Format(fmt) if fmt else DEFAULT_FORMAT
    except ValueError:
        raise InvalidInput(
            _("Unknown download format. Choose fullchain, pem, chain, der or p7b."),
            code="download_format_unknown",
            field="format",
        ) from None
    base = _base_name(certificate)
    pem = certificate.pem.encode("ascii")
    chain = certificate.chain_pem.encode("ascii")
    if chosen is Format.FULLCHAIN:
        return Download(f"{base}.fullchain.pem", "application/pem-certificate-chain", pem + chain)
    if chosen is Format.PEM:
        return Download(f"{base}.pem", "application/x-pem-file", pem)
    if chosen is Format.CHAIN:
        return Download(f"{base}.chain.pem", "application/pem-certificate-chain", chain)
    leaf = x509.load_pem_x509_certificate(pem)
    if chosen is Format.DER:
        return Download(
            f"{base}.cer", "application/pkix-cert", leaf.public_bytes(serialization.Encoding.DER)
        )
    bundle = [leaf, *x509.load_pem_x509_certificates(chain)] if chain else [leaf]
    return Download(
        f"{base}.p7b",
        "application/x-pkcs7-certificates",
        pkcs7.serialize_certificates(bundle, serialization.Encoding.DER),
    )
