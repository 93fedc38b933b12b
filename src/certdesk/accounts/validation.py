"""Field rules for account data: each ``clean_*`` returns the normalised value or raises
``InvalidInput`` naming the field; ``FieldErrors`` collects several into one refusal."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from certdesk.core.errors import InvalidInput

T = TypeVar("T")

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
# Login IDs that could be mistaken for the operator or a system mailbox.
RESERVED_USERNAMES = frozenset(
    {
        "abuse",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "billing",
        "certdesk",
        "console",
        "help",
        "hostmaster",
        "info",
        "mail",
        "mailer-daemon",
        "no-reply",
        "noreply",
        "operator",
        "postmaster",
        "root",
        "security",
        "staff",
        "support",
        "system",
        "webmaster",
        "www",
    }
)
PHONE_CHARS_RE = re.compile(r"\+?[0-9()\- ]+")
POSTAL_CODE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\- ]*")
PASSWORD_MAX_INPUT = 1024

LABELS: dict[str, str | Promise] = {
    "username": _("Account ID"),
    "password": _("Password"),
    "full_name": _("Your name"),
    "organization_name": _("Organisation name"),
    "postal_code": _("Postal code"),
    "address": _("Postal address"),
    "email": _("Email address"),
    "phone": _("Phone number"),
    "language": _("Language"),
}
MAX_LENGTHS = {
    "full_name": 100,
    "organization_name": 200,
    "postal_code": 16,
    "address": 300,
    "email": 254,
    "phone": 32,
}


def _label(field: str) -> str | Promise:
    return LABELS.get(field, field)


def _too_long(field: str, max_length: int, length: int) -> InvalidInput:
    return InvalidInput(
        format_lazy(
            _("{field} is too long: at most {max} characters (you entered {length})."),
            field=_label(field),
            max=max_length,
            length=length,
        ),
        code="field_too_long",
        field=field,
    )


def _required(field: str) -> InvalidInput:
    return InvalidInput(
        format_lazy(_("Enter the {field}."), field=_label(field)),
        code="field_required",
        field=field,
    )


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds control or unassigned code points (NUL among them, which
    PostgreSQL cannot store)."""
    return any(unicodedata.category(c) in {"Cc", "Cs", "Cn"} for c in text)


def clean_text(value: Any, *, field: str, required: bool = True) -> str:
    """Trimmed single-line text within the field's length limit."""
    text = " ".join(str(value or "").split())
    max_length = MAX_LENGTHS[field]
    if len(text) > max_length:
        raise _too_long(field, max_length, len(text))
    if has_control_characters(text):
        raise InvalidInput(
            format_lazy(_("{field} contains characters that cannot be used."), field=_label(field)),
            code="invalid_characters",
            field=field,
        )
    if required and not text:
        raise _required(field)
    return text


def clean_username(value: Any) -> str:
    """The login ID in lower case. Raises ``InvalidInput`` (``invalid_account_id``,
    ``field_too_long``, ``account_id_reserved``)."""
    username = str(value or "").strip().lower()
    if not username:
        raise _required("username")
    if len(username) > 32:
        raise _too_long("username", 32, len(username))
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            _(
                "The account ID must be 3-32 characters of lower-case letters, digits, '.', "
                "'_' and '-', starting with a letter or a digit."
            ),
            code="invalid_account_id",
            field="username",
        )
    if username in RESERVED_USERNAMES:
        raise InvalidInput(
            _("This account ID is reserved. Please choose another one."),
            code="account_id_reserved",
            field="username",
        )
    return username


def clean_email(value: Any, *, field: str = "email") -> str:
    """A syntactically valid address, domain in lower case. Raises ``InvalidInput``
    (``invalid_email``, ``field_too_long``, ``field_required``)."""
    email = str(value or "").strip()
    if len(email) > MAX_LENGTHS["email"]:
        raise _too_long(field, MAX_LENGTHS["email"], len(email))
    if not email:
        raise _required(field)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid email address, for example taro@example.co.jp."),
            code="invalid_email",
            field=field,
        ) from None
    local, _sep, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def clean_phone(value: Any, *, field: str = "phone", required: bool = True) -> str:
    """A Japanese or international number: digits, '+', '-', spaces and parentheses with
    10-15 digits. Raises ``InvalidInput`` (``invalid_phone``, ``field_too_long``)."""
    phone = " ".join(str(value or "").split())
    if len(phone) > MAX_LENGTHS["phone"]:
        raise _too_long(field, MAX_LENGTHS["phone"], len(phone))
    if not phone:
        if required:
            raise _required(field)
        return ""
    digits = sum(c.isdigit() for c in phone)
    if not PHONE_CHARS_RE.fullmatch(phone) or not 10 <= digits <= 15 or not phone.isascii():
        raise InvalidInput(
            _(
                "Enter a phone number of 10 to 15 digits, for example 03-1234-5678 or "
                "+81 3 1234 5678 (digits, '+', '-', spaces and parentheses only)."
            ),
            code="invalid_phone",
            field=field,
        )
    return phone


def clean_postal_code(value: Any, *, required: bool = True) -> str:
    """A Japanese (123-4567) or foreign postal code. Raises ``InvalidInput``
    (``invalid_postal_code``, ``field_too_long``)."""
    code = " ".join(str(value or "").split())
    if len(code) > MAX_LENGTHS["postal_code"]:
        raise _too_long("postal_code", MAX_LENGTHS["postal_code"], len(code))
    if not code:
        if required:
            raise _required("postal_code")
        return ""
    if not code.isascii() or not POSTAL_CODE_RE.fullmatch(code):
        raise InvalidInput(
            _("Enter the postal code with digits and letters, for example 100-0001."),
            code="invalid_postal_code",
            field="postal_code",
        )
    return code


def clean_language(value: Any) -> str:
    language = str(value or "").strip().lower()
    if language not in {"ja", "en"}:
        raise InvalidInput(
            _("Choose Japanese (ja) or English (en)."), code="invalid_language", field="language"
        )
    return language


def clean_password(password: str, *, user: Any, field: str = "password") -> None:
    """Run settings.AUTH_PASSWORD_VALIDATORS. Raises ``InvalidInput`` (``password_weak``)
    listing every rule the password breaks."""
    if len(password) > PASSWORD_MAX_INPUT:
        password = password[: PASSWORD_MAX_INPUT + 1]
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        messages = [str(m) for m in exc.messages]
        raise InvalidInput(
            format_lazy(
                _("Please choose a stronger password: {reasons}"), reasons=" ".join(messages)
            ),
            code="password_weak",
            field=field,
            errors=[{"field": field, "code": "password_weak", "message": m} for m in messages],
        ) from None


class FieldErrors:
    """Run several field rules and report every failure at once.

    ``value = errors.run(clean_email, raw)`` returns the cleaned value, or None after
    recording the failure; ``raise_if_any()`` then raises one ``InvalidInput`` whose code and
    field are the first failure's and whose ``errors`` lists them all.
    """

    def __init__(self) -> None:
        self.failures: list[InvalidInput] = []

    def run(self, rule: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return rule(*args, **kwargs)
        except InvalidInput as exc:
            self.add(exc)
            return None

    def add(self, exc: InvalidInput) -> None:
        if exc.field is not None and any(f.field == exc.field for f in self.failures):
            return
        self.failures.append(exc)

    def has(self, field: str) -> bool:
        return any(f.field == field for f in self.failures)

    def __bool__(self) -> bool:
        return bool(self.failures)

    def raise_if_any(self) -> None:
        if not self.failures:
            return
        first = self.failures[0]
        errors: list[dict[str, Any]] = []
        for failure in self.failures:
            if failure.errors:
                errors.extend(failure.errors)
            else:
                errors.append(
                    {"field": failure.field, "code": failure.code, "message": failure.message}
                )
        raise InvalidInput(
            first.message,
            code=first.code,
            field=first.field,
            errors=errors,
            extra=first.extra,
        )
