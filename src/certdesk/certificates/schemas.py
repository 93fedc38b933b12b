"""API schemas for products, applications and certificates (``/api/v1/products``,
``/api/v1/applications``, ``/api/v1/certificates/{id}``).

Class names are unique across the whole API: django-ninja files every schema under its class
name in the OpenAPI components, and a second class of the same name would silently replace the
first in the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

# The history list's item, so that a certificate reads the same in the list and alone.
from certdesk.certificates.search_api import CertificateSummary

METHODS_DOC = "`dns` (a TXT record) or `http` (a file under `/.well-known/pki-validation/`)"
DownloadFormat = Literal["fullchain", "pem", "chain", "der", "p7b"]
DcvMethod = Literal["dns", "http"]


class ProductOut(Schema):
    id: int
    code: str = Field(description="Pass it as `product` when applying, e.g. `dv-single`.")
    name_ja: str
    name_en: str
    profile: str = Field(description="Certificate profile, e.g. `dv-single`, `ov-wildcard`.")
    validation_level: str = Field(
        description="`dv` (domain control) or `ov` (the organisation is verified too: the "
        "application needs a verified organisation and waits for the operator's review)."
    )
    max_names: int = Field(description="How many names (SANs) one certificate may carry.")
    wildcard: bool = Field(description="Whether the product takes a `*.` name.")
    price_jpy: int = Field(description="Price in yen, before tax.")


class ProductList(Schema):
    items: list[ProductOut]


class DnsRecordOut(Schema):
    """The TXT record that proves control of ``validated_name`` (BR 3.2.2.4.7)."""

    name: str = Field(description="Owner name of the record, e.g. `_pki-validation.example.jp`.")
    type: str = Field(description="Always `TXT`.")
    value: str = Field(description="The record's value: publish exactly this string.")


class HttpFileOut(Schema):
    """The file that proves control of ``validated_name`` (BR 3.2.2.4.18)."""

    url: str = Field(description="Where certdesk fetches the file (plain HTTP, port 80).")
    content: str = Field(description="The file's whole content.")


class ApplicationNameOut(Schema):
    name: str = Field(description="The name as the certificate will carry it.")
    validated_name: str = Field(
        description="The domain whose control is proven: the name without `*.`, or a parent "
        "domain validated earlier by DNS that covers it."
    )
    method: str = Field(description=METHODS_DOC)
    status: str = Field(
        description="`valid` (proven and reusable now), `pending` (waiting for the record or "
        "file) or `expired` (the random value aged past 30 days or the proof past its reuse "
        "period: check again to get a new one)."
    )
    dns_record: DnsRecordOut | None = Field(description="With method `dns`.")
    http_file: HttpFileOut | None = Field(description="With method `http`.")
    token_expires_at: datetime = Field(
        description="The random value may be published until then (30 days)."
    )
    last_checked_at: datetime | None
    next_check_at: datetime | None = Field(
        description="When certdesk looks again by itself (retries back off)."
    )
    last_code: str | None = Field(
        description="Outcome of the last check as a stable code, e.g. `dns_txt_missing`."
    )
    last_message: str | None = Field(
        description="The last check's outcome for a person, in the request's language."
    )
    last_found: str | None = Field(description="What the last check found instead, if anything.")
    validated_at: datetime | None
    reusable_until: datetime | None = Field(
        description="Until when later applications may rely on this proof (BR 4.2.1)."
    )


class ApplicationSummary(Schema):
    id: int
    number: str = Field(description="The application number shown in the portal, `R00000012`.")
    status: str = Field(description="`pending`, `issued`, `rejected` or `cancelled`.")
    approval: str = Field(
        description="`not_required` (DV), `waiting` (OV review), `approved` or `rejected`."
    )
    product: str = Field(description="The product's code.")
    organization: int | None = Field(description="The organisation's id, if any.")
    common_name: str
    names: list[str]
    key: str = Field(description="The CSR's key, e.g. `ECDSA P-256`.")
    renewal_of: int | None = Field(description="The certificate this application renews.")
    certificate: int | None = Field(description="The issued certificate's id, once issued.")
    blocked_code: str | None = Field(
        description="Why issuance could not go ahead at the last attempt, e.g. `caa_forbidden`."
    )
    created_by: str = Field(description="Account ID of the applicant.")
    created_at: datetime
    updated_at: datetime
    issued_at: datetime | None


class ApplicationDetail(ApplicationSummary):
    waiting_for: list[str] = Field(
        description="What a pending application still needs: `dcv` (a name is not validated "
        "yet), `approval` (the operator's review of an OV application). Empty otherwise."
    )
    blocked_detail: str | None = Field(description="Details of `blocked_code`.")
    decision_reason: str | None = Field(description="The operator's reason, when rejected.")
    dcv: list[ApplicationNameOut] = Field(
        description="Every name with its domain control validation and what to publish."
    )


class ApplicationPage(Schema):
    items: list[ApplicationSummary]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class ApplicationCreateIn(Schema):
    product: str = Field(
        max_length=40,
        description="The product's `code` (see `GET /api/v1/products`).",
        examples=["dv-single"],
    )
    csr: str = Field(
        max_length=65536,
        description="The certificate signing request, PEM (`-----BEGIN CERTIFICATE REQUEST-----"
        "`). certdesk never takes a private key: a request that contains one is refused "
        "(`csr_private_key`).",
    )
    organization: int | None = Field(
        None, description="Id of one of your organisations; required for OV products."
    )
    method: DcvMethod = Field(
        "dns",
        description=f"How names not yet validated are to be proven: {METHODS_DOC}. Wildcard "
        "names always use `dns`.",
    )
    renewal_of: int | None = Field(
        None,
        description="Id of the certificate this one replaces (see also "
        "`POST /api/v1/certificates/{id}/renew`).",
    )


class MethodChangeIn(Schema):
    name: str = Field(max_length=253, description="One of the application's names.")
    method: DcvMethod = Field(description=METHODS_DOC + "; a wildcard name needs `dns`.")


class CertificateDetail(CertificateSummary):
    """One certificate: what the history list shows of it, and more."""

    serial_decimal: str = Field(
        description="The serial in decimal, as a string (it exceeds 64 bits)."
    )
    revocation_reason_name: str | None = Field(
        description="RFC 5280 reason name, e.g. `keyCompromise`, when revoked."
    )
    key_fingerprint: str = Field(
        description="SHA-256 of the key's SubjectPublicKeyInfo, hex: spots a reused key."
    )
    fingerprint_sha256: str = Field(description="SHA-256 of the certificate (DER), hex.")
    issuer: str = Field(description="The issuing CA.")
    application: int | None = Field(description="The application it was issued for.")
    renewed_by: list[int] = Field(description="Certificates issued as renewals of this one.")


class RenewIn(Schema):
    csr: str = Field(
        max_length=65536,
        description="A new CSR, PEM. Reusing the old key is accepted but discouraged: a fresh "
        "key limits the damage of an unnoticed key compromise.",
    )
    method: DcvMethod = Field(
        "dns", description=f"For names whose proof is past its reuse period: {METHODS_DOC}."
    )
    product: str | None = Field(
        None,
        max_length=40,
        description="A product code; default: the certificate's product.",
    )


class RevokeIn(Schema):
    reason: StrictStr | StrictInt = Field(
        description="RFC 5280 reason, by name or code: `unspecified` (0), `keyCompromise` (1), "
        "`affiliationChanged` (3), `superseded` (4) or `cessationOfOperation` (5) — the "
        "reasons BR 7.2.2 allows a subscriber to give (`privilegeWithdrawn` is the CA's).",
        examples=["keyCompromise"],
    )
