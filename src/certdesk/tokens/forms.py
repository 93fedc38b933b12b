"""Portal form for creating an API token: shapes only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certdesk.tokens.scopes import scope_choices

EXPIRY_CHOICES = [
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("180", _("180 days")),
    ("365", _("1 year")),
    ("", _("No expiry")),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("api token", "Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the server or script that uses it."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=scope_choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )
