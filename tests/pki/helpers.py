"""Test helpers for the PKI core: vector files, pkilint in-process, openssl as an outside client."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pkilint import finding_filter, loader, pkix
from pkilint.cabf import cabf_crl, serverauth
from pkilint.pkix import certificate, crl, extension, name, ocsp
from pkilint.validation import ValidationFindingSeverity

ERROR = ValidationFindingSeverity.ERROR
WARNING = ValidationFindingSeverity.WARNING
VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def vector(filename: str) -> bytes:
    """The bytes of a test vector under ``tests/vectors/``."""
    return (VECTORS / filename).read_bytes()


def vector_names(prefix: str = "") -> list[str]:
    """Vector file names (top folder) starting with ``prefix``, sorted."""
    return sorted(
        path.name
        for path in VECTORS.iterdir()
        if path.is_file() and path.suffix != ".py" and path.name.startswith(prefix)
    )


def expected_code(filename: str) -> str:
    """``refused--<code>--<what>`` -> ``<code>``."""
    return filename.split("--")[1]


def _problems(results: Sequence[object], threshold: ValidationFindingSeverity) -> list[str]:
    found = []
    for result in results:
        for finding in result.finding_descriptions:  # type: ignore[attr-defined]
            # pkilint ranks severity with FATAL = 0: smaller is worse.
            if finding.finding.severity <= threshold:
                found.append(f"{finding.finding.code} ({finding.finding.severity.name})")
    return found


@functools.cache
def _pkix_certificate_validator():  # noqa: ANN202 - pkilint's classes are untyped
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(
            name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS
        ),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


@functools.cache
def _serverauth_validator(kind):  # noqa: ANN001, ANN202 - pkilint's classes are untyped
    return certificate.create_pkix_certificate_validator_container(
        serverauth.create_decoding_validators(), serverauth.create_validators(kind)
    )


def lint_subscriber(der: bytes, threshold: ValidationFindingSeverity = ERROR) -> list[str]:
    """pkilint ``lint_cabf_serverauth_cert -d``: findings at ``threshold`` or worse."""
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "leaf")
    kind = serverauth.determine_certificate_type(document)
    results, _ = finding_filter.filter_results(
        serverauth.create_serverauth_finding_filters(kind),
        _serverauth_validator(kind).validate(document.root),
    )
    return _problems(results, threshold)


def subscriber_type(der: bytes) -> str:
    """The certificate type pkilint detects (e.g. ``DV_FINAL_CERTIFICATE``)."""
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "leaf")
    return str(serverauth.determine_certificate_type(document).name)


def lint_ca_certificate(der: bytes, threshold: ValidationFindingSeverity = ERROR) -> list[str]:
    """pkilint ``lint_pkix_cert``: findings at ``threshold`` or worse."""
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "ca")
    return _problems(_pkix_certificate_validator().validate(document.root), threshold)


def lint_crl(
    der: bytes,
    *,
    authority_revocation_list: bool,
    threshold: ValidationFindingSeverity = ERROR,
) -> list[str]:
    """pkilint ``lint_crl -t CRL|ARL -p BR``: findings at ``threshold`` or worse."""
    kind = (
        crl.CertificateRevocationListType.ARL
        if authority_revocation_list
        else crl.CertificateRevocationListType.CRL
    )
    validator = crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container(
                [cabf_crl.create_validity_period_validator(kind)]
            ),
            crl.create_extensions_validator_container([]),
            cabf_crl.CabfCrlReasonCodeAllowlistValidator(kind),
        ],
    )
    document = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    return _problems(validator.validate(document.root), threshold)


def lint_ocsp_response(der: bytes, threshold: ValidationFindingSeverity = ERROR) -> list[str]:
    """pkilint ``lint_ocsp_response``: findings at ``threshold`` or worse."""
    validator = ocsp.create_pkix_ocsp_response_validator_container(
        [
            ocsp.create_response_decoder(),
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [],
    )
    document = loader.RFC6960OCSPResponseDocumentLoader().load_der_document(der, "ocsp")
    return _problems(validator.validate(document.root), threshold)


def openssl(*arguments: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the openssl command (the independent client); never raises on a non-zero exit."""
    return subprocess.run(
        ["openssl", *arguments],
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


def epoch(moment: datetime) -> str:
    """``moment`` as the seconds since the epoch that ``openssl -attime`` takes."""
    return str(int(moment.timestamp()))
