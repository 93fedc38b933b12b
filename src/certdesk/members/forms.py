"""Portal forms for members: shapes only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import User
from certdesk.members.roles import ROLE_CHOICES


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial=User.Role.MEMBER)
    language = forms.ChoiceField(
        label=_("Language of the invitation email"), choices=User.Language.choices
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class AcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=100)
    username = forms.CharField(
        label=_("Account ID"),
        max_length=32,
        help_text=_("3-32 characters: lower-case letters, digits, '.', '_' and '-'."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        help_text=_(
            "At least 12 characters, with at least three of: lower-case letters, upper-case "
            "letters, digits and symbols (or a passphrase of 20 characters or more)."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_terms = forms.BooleanField(label=_("I accept the terms of use"), required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords do not match."))
        return data
