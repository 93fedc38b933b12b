"""Password rules beyond Django's: an upper bound, and a mix of character kinds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MaximumLengthValidator:
    """Refuse passwords over 128 characters (hashing unbounded input is a DoS vector)."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long: at most %(max)d characters.")
                % {"max": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("At most %(max)d characters.") % {"max": self.max_length}


class CharacterVarietyValidator:
    """Require at least three of: lower-case, upper-case, digits, symbols — unless the
    password is a long passphrase (20+ characters), whose length already gives strength."""

    passphrase_length = 20

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) >= self.passphrase_length:
            return
        kinds = sum(
            [
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )
        if kinds < 3:
            raise ValidationError(
                _(
                    "Use at least three of: lower-case letters, upper-case letters, digits and "
                    "symbols (or a passphrase of 20 characters or more)."
                ),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _(
            "Use at least three of: lower-case letters, upper-case letters, digits and symbols, "
            "or a passphrase of 20 characters or more."
        )
