"""The history search form of the portal (``/certificates/``): a GET form, every field optional."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account
from certdesk.certificates.models import Certificate, Product
from certdesk.certificates.selectors import CertificateQuery, Match, Sort, Status, day_start
from certdesk.organizations.models import Organization

# Certificates exist between these years; outside them a date has no UTC equivalent to
# compare with (year 1, year 9999 plus a day).
DATE_RANGE = [
    MinValueValidator(date(1970, 1, 1), message=_("Enter a date from 1970 to 9998.")),
    MaxValueValidator(date(9998, 12, 31), message=_("Enter a date from 1970 to 9998.")),
]


class CertificateSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=300,
        help_text=_(
            "A host name (shows the certificates that cover it, wildcards included), a serial "
            "number in hex or decimal, or part of a name."
        ),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "shop.example.co.jp"}),
    )
    match = forms.ChoiceField(
        label=_("Search as"),
        required=False,
        choices=[
            (Match.AUTO.value, _("Automatic")),
            (Match.HOST.value, _("Host name covered")),
            (Match.SERIAL.value, _("Serial number")),
            (Match.TEXT.value, _("Part of a name")),
        ],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *Certificate.Status.choices],
    )
    expires_after = forms.DateField(
        label=_("Expires on or after"),
        required=False,
        validators=DATE_RANGE,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    expires_before = forms.DateField(
        label=_("Expires on or before"),
        required=False,
        validators=DATE_RANGE,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    organization = forms.TypedChoiceField(
        label=_("Organisation"), required=False, coerce=int, empty_value=None
    )
    product = forms.ChoiceField(label=_("Product"), required=False)
    sort = forms.ChoiceField(
        required=False,
        choices=[(s.value, s.value) for s in Sort],
        widget=forms.HiddenInput,
    )

    def __init__(self, data: Any, *, account: Account) -> None:
        super().__init__(data)
        language = get_language() or "ja"
        organizations = Organization.objects.filter(account=account).order_by("name_ja", "id")
        self.fields["organization"].choices = [  # type: ignore[attr-defined]
            ("", _("All")),
            *((o.pk, o.name_ja if language == "ja" else o.name_en) for o in organizations),
        ]
        self.fields["product"].choices = [  # type: ignore[attr-defined]
            ("", _("All")),
            *((p.code, p.display_name(language)) for p in Product.objects.all()),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        after, before = cleaned.get("expires_after"), cleaned.get("expires_before")
        if after and before and after > before:
            self.add_error("expires_before", _("The end of the expiry range is before its start."))
        return cleaned

    def to_query(self) -> CertificateQuery:
        """The search the (valid) form describes; dates are whole days in Japan time."""
        data = self.cleaned_data
        after, before = data.get("expires_after"), data.get("expires_before")
        return CertificateQuery(
            q=data.get("q") or "",
            match=Match(data.get("match") or Match.AUTO),
            status=Status(data["status"]) if data.get("status") else None,
            expires_after=day_start(after) if after else None,
            expires_before=day_start(before + timedelta(days=1)) if before else None,
            organization_id=data.get("organization"),
            product_code=data.get("product") or "",
            sort=Sort(data.get("sort") or Sort.ISSUED_DESC),
        )
