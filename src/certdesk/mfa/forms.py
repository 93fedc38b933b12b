"""Portal forms of the second-factor page: shapes only; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def _code_field(help_text: Any, *, numeric: bool = False) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
    if numeric:
        attrs["inputmode"] = "numeric"
    return forms.CharField(
        label=_("Code"), max_length=40, help_text=help_text, widget=forms.TextInput(attrs=attrs)
    )


def _password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ConfirmForm(forms.Form):
    code = _code_field(
        _("The 6-digit code your authenticator app now shows for certdesk."), numeric=True
    )


class RegenerateForm(forms.Form):
    password = _password_field()


class DisableForm(forms.Form):
    password = _password_field()
    code = _code_field(_("A current code from your authenticator app, or an unused recovery code."))
