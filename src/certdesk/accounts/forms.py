"""Portal forms for accounts: shapes and widgets only; the rules live in ``services`` so that
the portal and the API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import User
from certdesk.accounts.validation import MAX_LENGTHS

PASSWORD_HELP = _(
    "12 to 128 characters, with at least three of: lower-case letters, upper-case letters, "
    "digits and symbols (or a passphrase of 20 characters or more). Avoid common passwords "
    "and your own name or account ID."
)


def _text(
    label: Any, *, name: str | None = None, required: bool = True, **attrs: Any
) -> forms.CharField:
    """An optional form field (the service reports what is missing) with browser hints."""
    if name in MAX_LENGTHS:
        attrs.setdefault("maxlength", MAX_LENGTHS[name])
    if required:
        attrs["required"] = True
    return forms.CharField(
        label=label, required=False, strip=False, widget=forms.TextInput(attrs=attrs)
    )


def _password(label: Any, *, autocomplete: str, help_text: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, "required": True}),
    )


class ServiceErrorsMixin:
    """Show an ``InvalidInput``'s field errors next to the fields they name."""

    field_aliases: dict[str, str] = {}

    def add_service_errors(self, exc: Any) -> None:
        form: forms.Form = self
        items = getattr(exc, "errors", None) or [{"field": exc.field, "message": exc.message}]
        for item in items:
            name = self.field_aliases.get(item.get("field") or "", item.get("field") or "")
            target = name if name in form.fields else None
            form.add_error(target, str(item["message"]))


class RegistrationForm(ServiceErrorsMixin, forms.Form):
    username = _text(
        _("Account ID"),
        name="username",
        maxlength=32,
        autocomplete="username",
        autocapitalize="none",
        spellcheck="false",
    )
    password = _password(_("Password"), autocomplete="new-password", help_text=PASSWORD_HELP)
    password_confirm = _password(_("Password (again)"), autocomplete="new-password")
    full_name = _text(_("Your name"), name="full_name", autocomplete="name")
    organization_name = _text(
        _("Organisation name"), name="organization_name", autocomplete="organization"
    )
    postal_code = _text(_("Postal code"), name="postal_code", autocomplete="postal-code")
    address = _text(_("Postal address"), name="address", autocomplete="street-address")
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "maxlength": MAX_LENGTHS["email"], "required": True}
        ),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        help_text=_("For example 03-1234-5678 or +81 3 1234 5678."),
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "maxlength": MAX_LENGTHS["phone"],
                "required": True,
            }
        ),
    )
    language = forms.ChoiceField(
        label=_("Language for pages and emails"), choices=User.Language.choices
    )
    terms_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    accept_terms = forms.BooleanField(required=False)

    field_aliases = {"accept_terms": "accept_terms", "terms_version": "accept_terms"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _(
            "Your login ID: 3-32 characters of lower-case letters, digits, '.', '_' and '-', "
            "starting with a letter or a digit."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords do not match."))
        return data


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Account ID"),
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_(
            "The 6-digit code your authenticator app shows for certdesk, or one of your "
            "recovery codes."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordResetForm(ServiceErrorsMixin, forms.Form):
    password = _password(_("New password"), autocomplete="new-password", help_text=PASSWORD_HELP)
    password_confirm = _password(_("New password (again)"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords do not match."))
        return data


class PasswordChangeForm(ServiceErrorsMixin, forms.Form):
    current_password = _password(_("Current password"), autocomplete="current-password")
    new_password = _password(
        _("New password"), autocomplete="new-password", help_text=PASSWORD_HELP
    )
    new_password_confirm = _password(_("New password (again)"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_confirm"):
            self.add_error("new_password_confirm", _("The two passwords do not match."))
        return data


class ProfileForm(ServiceErrorsMixin, forms.Form):
    full_name = _text(_("Your name"), name="full_name", autocomplete="name")
    email = forms.CharField(
        label=_("Email address (for signing in and notices)"),
        required=False,
        help_text=_(
            "A new address is used once you open the link we send to it; until then the "
            "current one stays in use."
        ),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "maxlength": MAX_LENGTHS["email"], "required": True}
        ),
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "maxlength": MAX_LENGTHS["phone"]}
        ),
    )
    language = forms.ChoiceField(
        label=_("Language for pages and emails"), choices=User.Language.choices
    )


class AccountDataForm(ServiceErrorsMixin, forms.Form):
    organization_name = _text(
        _("Organisation name"), name="organization_name", autocomplete="organization"
    )
    postal_code = _text(_("Postal code"), name="postal_code", autocomplete="postal-code")
    address = _text(_("Postal address"), name="address", autocomplete="street-address")
    phone = forms.CharField(
        label=_("Account phone number"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "tel", "maxlength": MAX_LENGTHS["phone"], "required": True}
        ),
    )
    email = forms.CharField(
        label=_("Contact email address"),
        required=False,
        help_text=_("Where we send notices about the account (maintenance, terms, invoices)."),
        widget=forms.EmailInput(attrs={"maxlength": MAX_LENGTHS["email"], "required": True}),
    )

    field_aliases = {
        "account.organization_name": "organization_name",
        "account.postal_code": "postal_code",
        "account.address": "address",
        "account.phone": "phone",
        "account.email": "email",
    }
