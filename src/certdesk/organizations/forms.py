"""Portal form for an organisation: shapes and browser hints only; the rules live in
``rules``/``services`` so that the portal and the API refuse the same things alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.forms import ServiceErrorsMixin
from certdesk.organizations import rules
from certdesk.organizations.services import OrganizationData


def _text(label: Any, *, max_length: int, help_text: Any = None, **attrs: Any) -> forms.CharField:
    """Optional to Django (the service names what is missing), required to the browser."""
    attrs.setdefault("required", True)
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"maxlength": max_length, **attrs}),
    )


class OrganizationForm(ServiceErrorsMixin, forms.Form):
    name_ja = _text(
        rules.LABELS["name_ja"],
        max_length=rules.NAME_JA_MAX,
        help_text=_("As registered, for example 株式会社サンプル商事."),
        autocomplete="organization",
    )
    name_en = _text(
        rules.LABELS["name_en"],
        max_length=rules.NAME_EN_MAX,
        help_text=_(
            "Appears in OV certificates as the organisation name: letters, digits, spaces and "
            "punctuation (ASCII), at most 64 characters, for example Sample Shoji Co., Ltd."
        ),
        lang="en",
    )
    corporate_number = _text(
        rules.LABELS["corporate_number"],
        max_length=20,
        help_text=_("The 13-digit 法人番号 assigned by the National Tax Agency."),
        inputmode="numeric",
        autocomplete="off",
    )
    prefecture = forms.ChoiceField(
        label=rules.LABELS["prefecture"],
        required=False,
        choices=[("", "---------"), *rules.PREFECTURES],
        help_text=_("The certificate shows it in English (for example Tokyo)."),
    )
    locality = _text(
        rules.LABELS["locality"],
        max_length=rules.LOCALITY_MAX,
        help_text=_(
            "City, ward, town or village in English as it should appear in the certificate, "
            "for example Chiyoda-ku or Osaka-shi."
        ),
        lang="en",
    )
    postal_code = _text(
        rules.LABELS["postal_code"],
        max_length=10,
        required=False,
        autocomplete="postal-code",
        inputmode="numeric",
    )
    address = _text(
        rules.LABELS["address"],
        max_length=rules.ADDRESS_MAX,
        help_text=_("The registered head-office address, in Japanese."),
        autocomplete="street-address",
    )
    phone = _text(rules.LABELS["phone"], max_length=32, type="tel", autocomplete="tel")

    def data_for_service(self) -> OrganizationData:
        return OrganizationData(**{name: self.cleaned_data.get(name) or "" for name in self.fields})
