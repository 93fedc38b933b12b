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


def base_name(certificate: Certificate) -> str:
    """The stem of every file name for ``certificate`` (``*`` spelt ``wildcard``)."""
    name = certificate.common_name or (certificate.names or ["certificate"])[0]
    return name.replace("*", "wildcard").replace("/", "_")


# format -> (file name suffix, content type)
_FILES = {
    Format.FULLCHAIN: (".fullchain.pem", "application/pem-certificate-chain"),
    Format.PEM: (".pem", "application/x-pem-file"),
    Format.CHAIN: (".chain.pem", "application/pem-certificate-chain"),
    Format.DER: (".cer", "application/pkix-cert"),
    Format.PKCS7: (".p7b", "application/x-pkcs7-certificates"),
}


def download_filename(certificate: Certificate, fmt: Format) -> str:
    """The file name ``certificate`` downloads under in ``fmt``; builds no file."""
    return base_name(certificate) + _FILES[fmt][0]


def _body(certificate: Certificate, fmt: Format) -> bytes:
    pem = certificate.pem.encode("ascii")
    chain = certificate.chain_pem.encode("ascii")
    if fmt is Format.FULLCHAIN:
        return pem + chain
    if fmt is Format.PEM:
        return pem
    if fmt is Format.CHAIN:
        return chain
    leaf = x509.load_pem_x509_certificate(pem)
    if fmt is Format.DER:
        return leaf.public_bytes(serialization.Encoding.DER)
    bundle = [leaf, *x509.load_pem_x509_certificates(chain)] if chain else [leaf]
    return pkcs7.serialize_certificates(bundle, serialization.Encoding.DER)


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
    return Download(
        download_filename(certificate, chosen), _FILES[chosen][1], _body(certificate, chosen)
    )
