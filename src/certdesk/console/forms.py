"""Console forms: rendering and type coercion; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account

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
