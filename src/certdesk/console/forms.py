"""Console forms: rendering and type coercion; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account
from certdesk.organizations.models import Organization

DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class AccountSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Account number (A000042), organisation name, user ID or email address."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + list(Account.Status.choices)
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class TermsTextForm(forms.Form):
    title_ja = forms.CharField(label=_("Title (Japanese)"), required=False, max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), required=False, max_length=200)
    body_ja = forms.CharField(
        label=_("Text (Japanese)"), required=False, widget=forms.Textarea(attrs={"rows": 18})
    )
    body_en = forms.CharField(
        label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 18})
    )
    summary_ja = forms.CharField(
        label=_("Summary of changes (Japanese)"),
        required=False,
        help_text=_("Shown to customers above the new text."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    summary_en = forms.CharField(
        label=_("Summary of changes (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class WhenForm(forms.Form):
    """ "Now" or a moment in the operator's local time (Asia/Tokyo)."""

    when = forms.ChoiceField(
        label=_("When"),
        choices=[("now", _("Now")), ("at", _("At the time below"))],
        initial="now",
        widget=forms.RadioSelect,
    )
    at = forms.DateTimeField(
        label=_("Date and time (Japan time)"),
        required=False,
        input_formats=DATETIME_LOCAL,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("when") == "at" and not data.get("at"):
            self.add_error("at", _("Enter the date and time."))
        return data

    def moment(self) -> object:
        """None for "now", else the chosen aware datetime."""
        return self.cleaned_data["at"] if self.cleaned_data.get("when") == "at" else None


class AuditFilterForm(forms.Form):
    account = forms.CharField(label=_("Account number"), required=False, max_length=20)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=65,
        help_text=_("Exact action, or a prefix ending in * (e.g. terms.*)."),
    )
    date_from = forms.CharField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.CharField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ProductForm(forms.Form):
    """The product fields an operator may change at any time."""

    name_ja = forms.CharField(label=_("Name (Japanese)"), required=False, max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), required=False, max_length=100)
    price_jpy = forms.IntegerField(
        label=_("Price (JPY, before tax)"),
        min_value=0,
        widget=forms.NumberInput(attrs={"step": 1}),
    )
    max_names = forms.IntegerField(
        label=_("Maximum names"),
        min_value=1,
        help_text=_("How many DNS names one certificate of this product may carry."),
    )
    is_active = forms.BooleanField(
        label=_("On sale"),
        required=False,
        help_text=_("Products not on sale cannot be applied for; issued certificates keep them."),
    )


class ProductCreateForm(ProductForm):
    code = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=40,
        help_text=_("Lower-case letters, digits and hyphens; fixed once created."),
    )
    profile = forms.ChoiceField(
        label=_("Profile"),
        required=False,
        help_text=_("Validation level and name rules; fixed once created."),
    )
    supplier = forms.ChoiceField(
        label=_("Supplier"),
        required=False,
        help_text=_("The certificate authority that signs; fixed once created."),
    )

    field_order = ["code", "profile", "supplier", "name_ja", "name_en", "price_jpy", "max_names"]

    def __init__(self, *args: Any, profiles: list[str], suppliers: list[str], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["profile"].choices = [("", "---------"), *((p, p) for p in profiles)]  # type: ignore[attr-defined]
        self.fields["supplier"].choices = [("", "---------"), *((s, s) for s in suppliers)]  # type: ignore[attr-defined]


class OrganizationQueueForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=list(Organization.Status.choices),
        initial=Organization.Status.PENDING,
    )
