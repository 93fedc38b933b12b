"""Forms of the customer-facing terms pages (rendering and type coercion; rules live in
the services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AcceptForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account will be closed and that unpaid invoices stay owed."),
        required=False,
    )
    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
