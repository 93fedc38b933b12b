"""Field rules for organisations: each ``clean_*`` returns the normalised value or raises
``InvalidInput`` naming the field, so that ``FieldErrors`` can report them all at once.

The English legal name, prefecture and city go into OV certificate subjects, so they are held
to what a subject can carry; the corporate number (法人番号) is checked with its check digit.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certdesk.accounts.validation import has_control_characters
from certdesk.core.errors import InvalidInput

# The certificate subject's organizationName is at most 64 characters (RFC 5280 ub-organization-
# name); the city shares the model's limit, well within ub-locality-name (128).
NAME_EN_MAX = 64
NAME_JA_MAX = 200
LOCALITY_MAX = 64
ADDRESS_MAX = 300
# Printable ASCII: what every CA and relying party renders the same way in a subject.
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_JP_POSTAL_CODE = re.compile(r"(\d{3})-?(\d{4})")

# The 47 prefectures by the English name a certificate subject carries (stateOrProvinceName),
# labelled in the reader's language.
PREFECTURES: list[tuple[str, str | Promise]] = [
    ("Hokkaido", pgettext_lazy("prefecture", "Hokkaido")),
    ("Aomori", pgettext_lazy("prefecture", "Aomori")),
    ("Iwate", pgettext_lazy("prefecture", "Iwate")),
    ("Miyagi", pgettext_lazy("prefecture", "Miyagi")),
    ("Akita", pgettext_lazy("prefecture", "Akita")),
    ("Yamagata", pgettext_lazy("prefecture", "Yamagata")),
    ("Fukushima", pgettext_lazy("prefecture", "Fukushima")),
    ("Ibaraki", pgettext_lazy("prefecture", "Ibaraki")),
    ("Tochigi", pgettext_lazy("prefecture", "Tochigi")),
    ("Gunma", pgettext_lazy("prefecture", "Gunma")),
    ("Saitama", pgettext_lazy("prefecture", "Saitama")),
    ("Chiba", pgettext_lazy("prefecture", "Chiba")),
    ("Tokyo", pgettext_lazy("prefecture", "Tokyo")),
    ("Kanagawa", pgettext_lazy("prefecture", "Kanagawa")),
    ("Niigata", pgettext_lazy("prefecture", "Niigata")),
    ("Toyama", pgettext_lazy("prefecture", "Toyama")),
    ("Ishikawa", pgettext_lazy("prefecture", "Ishikawa")),
    ("Fukui", pgettext_lazy("prefecture", "Fukui")),
    ("Yamanashi", pgettext_lazy("prefecture", "Yamanashi")),
    ("Nagano", pgettext_lazy("prefecture", "Nagano")),
    ("Gifu", pgettext_lazy("prefecture", "Gifu")),
    ("Shizuoka", pgettext_lazy("prefecture", "Shizuoka")),
    ("Aichi", pgettext_lazy("prefecture", "Aichi")),
    ("Mie", pgettext_lazy("prefecture", "Mie")),
    ("Shiga", pgettext_lazy("prefecture", "Shiga")),
    ("Kyoto", pgettext_lazy("prefecture", "Kyoto")),
    ("Osaka", pgettext_lazy("prefecture", "Osaka")),
    ("Hyogo", pgettext_lazy("prefecture", "Hyogo")),
    ("Nara", pgettext_lazy("prefecture", "Nara")),
    ("Wakayama", pgettext_lazy("prefecture", "Wakayama")),
    ("Tottori", pgettext_lazy("prefecture", "Tottori")),
    ("Shimane", pgettext_lazy("prefecture", "Shimane")),
    ("Okayama", pgettext_lazy("prefecture", "Okayama")),
    ("Hiroshima", pgettext_lazy("prefecture", "Hiroshima")),
    ("Yamaguchi", pgettext_lazy("prefecture", "Yamaguchi")),
    ("Tokushima", pgettext_lazy("prefecture", "Tokushima")),
    ("Kagawa", pgettext_lazy("prefecture", "Kagawa")),
    ("Ehime", pgettext_lazy("prefecture", "Ehime")),
    ("Kochi", pgettext_lazy("prefecture", "Kochi")),
    ("Fukuoka", pgettext_lazy("prefecture", "Fukuoka")),
    ("Saga", pgettext_lazy("prefecture", "Saga")),
    ("Nagasaki", pgettext_lazy("prefecture", "Nagasaki")),
    ("Kumamoto", pgettext_lazy("prefecture", "Kumamoto")),
    ("Oita", pgettext_lazy("prefecture", "Oita")),
    ("Miyazaki", pgettext_lazy("prefecture", "Miyazaki")),
    ("Kagoshima", pgettext_lazy("prefecture", "Kagoshima")),
    ("Okinawa", pgettext_lazy("prefecture", "Okinawa")),
]
_PREFECTURE_KEYS = {key.lower(): key for key, _label in PREFECTURES}

LABELS: dict[str, str | Promise] = {
    "name_ja": _("Legal name (Japanese)"),
    "name_en": _("Legal name (English)"),
    "corporate_number": _("Corporate number"),
    "prefecture": _("Prefecture"),
    "locality": _("City (English)"),
    "postal_code": _("Postal code"),
    "address": _("Address"),
    "phone": _("Phone number"),
}


def _single_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def _required(field: str) -> InvalidInput:
    return InvalidInput(
        format_lazy(_("Enter the {field}."), field=LABELS[field]),
        code="field_required",
        field=field,
    )


def _too_long(field: str, limit: int, length: int) -> InvalidInput:
    return InvalidInput(
        format_lazy(
            _("{field} is too long: at most {max} characters (you entered {length})."),
            field=LABELS[field],
            max=limit,
            length=length,
        ),
        code="field_too_long",
        field=field,
    )


def _text(value: Any, *, field: str, limit: int) -> str:
    text = _single_line(value)
    if not text:
        raise _required(field)
    if len(text) > limit:
        raise _too_long(field, limit, len(text))
    if has_control_characters(text):
        raise InvalidInput(
            format_lazy(_("{field} contains characters that cannot be used."), field=LABELS[field]),
            code="invalid_characters",
            field=field,
        )
    return text


def _ascii_text(value: Any, *, field: str, limit: int) -> str:
    # Full-width letters and digits typed with a Japanese input method become ASCII.
    text = _single_line(unicodedata.normalize("NFKC", str(value or "")))
    if not text:
        raise _required(field)
    if not _PRINTABLE_ASCII.fullmatch(text):
        raise InvalidInput(
            format_lazy(
                _(
                    "{field} must be written in ASCII letters, digits, spaces and punctuation "
                    "(it appears in the certificate)."
                ),
                field=LABELS[field],
            ),
            code="not_ascii",
            field=field,
        )
    if len(text) > limit:
        raise _too_long(field, limit, len(text))
    return text


def clean_name_ja(value: Any) -> str:
    """The legal name as registered, in Japanese. Raises ``InvalidInput`` (``field_required``,
    ``field_too_long``, ``invalid_characters``)."""
    return _text(value, field="name_ja", limit=NAME_JA_MAX)


def clean_name_en(value: Any) -> str:
    """The English legal name, the certificate's organizationName: printable ASCII, at most 64
    characters. Raises ``InvalidInput`` (``field_required``, ``not_ascii``, ``field_too_long``)."""
    return _ascii_text(value, field="name_en", limit=NAME_EN_MAX)


def clean_locality(value: Any) -> str:
    """The city, ward or town in English (the certificate's localityName). Raises like
    ``clean_name_en``."""
    return _ascii_text(value, field="locality", limit=LOCALITY_MAX)


def clean_address(value: Any) -> str:
    """The registered head-office address (Japanese is fine). Raises like ``clean_name_ja``."""
    return _text(value, field="address", limit=ADDRESS_MAX)


def clean_prefecture(value: Any) -> str:
    """One of the 47 prefectures by its English name (any letter case). Raises
    ``InvalidInput`` (``field_required``, ``invalid_prefecture``)."""
    text = _single_line(value)
    if not text:
        raise _required("prefecture")
    key = _PREFECTURE_KEYS.get(text.lower())
    if key is None:
        raise InvalidInput(
            _("Choose one of the 47 prefectures (English name, such as Tokyo or Osaka)."),
            code="invalid_prefecture",
            field="prefecture",
        )
    return key


def clean_postal_code(value: Any) -> str:
    """A Japanese postal code as ``123-4567`` (the hyphen is optional on input, full-width
    digits are accepted); empty when not given. Raises ``InvalidInput``
    (``invalid_postal_code``)."""
    text = _single_line(unicodedata.normalize("NFKC", str(value or "")))
    if not text:
        return ""
    match = _JP_POSTAL_CODE.fullmatch(text.replace("〒", "").strip())
    if match is None:
        raise InvalidInput(
            _("Enter the postal code as seven digits, for example 100-0005."),
            code="invalid_postal_code",
            field="postal_code",
        )
    return f"{match.group(1)}-{match.group(2)}"


def corporate_number_check_digit(base: str) -> int:
    """The check digit of a corporate number's twelve base digits.

    法人番号の指定等に関する省令 (財務省令第七十号) 第二条: 9 - (Σ Pn × Qn mod 9), where Pn is
    the n-th digit counting from the right-most (n = 1) and Qn is 1 for odd n, 2 for even n.
    Raises ``ValueError`` unless ``base`` is twelve ASCII digits.
    """
    if len(base) != 12 or not (base.isascii() and base.isdigit()):
        raise ValueError("the base number is twelve digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), 1))
    return 9 - total % 9


def clean_corporate_number(value: Any) -> str:
    """The 13-digit corporate number (法人番号). Spaces and hyphens are ignored and
    full-width digits accepted. Raises ``InvalidInput`` (``field_required``,
    ``invalid_corporate_number`` for the wrong shape, ``corporate_number_check_digit`` when the
    first digit does not match the other twelve)."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    digits = re.sub(r"[\s\-]", "", text)
    if not digits:
        raise _required("corporate_number")
    if len(digits) != 13 or not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            _("The corporate number is 13 digits, for example 7000012050002."),
            code="invalid_corporate_number",
            field="corporate_number",
        )
    if int(digits[0]) != corporate_number_check_digit(digits[1:]):
        raise InvalidInput(
            _(
                "This is not a valid corporate number: its first digit (the check digit) does "
                "not match the other twelve. Please check it against the National Tax "
                "Agency's Corporate Number Publication Site."
            ),
            code="corporate_number_check_digit",
            field="corporate_number",
        )
    return digits


NTA_LOOKUP_URL = "https://www.houjin-bangou.nta.go.jp/henkorireki-johoto.html?selHouzinNo={number}"


def nta_lookup_url(corporate_number: str) -> str:
    """The National Tax Agency's public page for a corporate number, for a person to open."""
    return NTA_LOOKUP_URL.format(number=corporate_number)
