"""API schemas for organisations. Field rules are the services' (the same refusals and codes
as the portal), so these only bound sizes."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from certdesk.organizations.rules import PREFECTURES

_PREFECTURES_DOC = ", ".join(key for key, _label in PREFECTURES)


class OrganizationOut(Schema):
    id: int
    name_ja: str = Field(description="Legal name in Japanese, as registered.")
    name_en: str = Field(
        description="Legal name in English: the OV certificate's organizationName."
    )
    corporate_number: str = Field(description="The 13-digit corporate number (法人番号).")
    country: str
    prefecture: str = Field(description="English name: the certificate's stateOrProvinceName.")
    locality: str = Field(description="City in English: the certificate's localityName.")
    postal_code: str
    address: str
    phone: str
    status: str = Field(
        description="`pending` (awaiting the operator's verification), `verified` or `rejected`."
    )
    status_reason: str = Field(description="The operator's reason when `rejected`, else empty.")
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class OrganizationIn(Schema):
    name_ja: str = Field(max_length=1000, examples=["株式会社サンプル商事"])
    name_en: str = Field(
        max_length=1000,
        description="Printable ASCII, at most 64 characters.",
        examples=["Sample Shoji Co., Ltd."],
    )
    corporate_number: str = Field(
        max_length=100,
        description="13 digits; the first is the check digit. Spaces and hyphens are ignored.",
        examples=["7000012050002"],
    )
    prefecture: str = Field(max_length=100, description=f"One of: {_PREFECTURES_DOC}.")
    locality: str = Field(
        max_length=1000, description="City in English, printable ASCII.", examples=["Chiyoda-ku"]
    )
    postal_code: str = Field("", max_length=100, examples=["100-0005"])
    address: str = Field(max_length=1000, examples=["東京都千代田区霞が関3-1-1"])
    phone: str = Field(max_length=100, examples=["03-1234-5678"])


class OrganizationPatch(Schema):
    """Only the fields sent are changed."""

    name_ja: str | None = Field(None, max_length=1000)
    name_en: str | None = Field(None, max_length=1000)
    corporate_number: str | None = Field(None, max_length=100)
    prefecture: str | None = Field(None, max_length=100)
    locality: str | None = Field(None, max_length=1000)
    postal_code: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=1000)
    phone: str | None = Field(None, max_length=100)
