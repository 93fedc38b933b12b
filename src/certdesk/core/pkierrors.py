"""Turn the PKI core's refusals into certdesk errors, keeping their codes and both messages."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import lazy

import pki
from certdesk.core.errors import InvalidInput


def _message(error: pki.PkiError) -> str:
    return error.message(translation.get_language() or "ja")


pki_message = lazy(_message, str)
"""The error's message in whatever language is active when it is rendered."""


def invalid_input_from(error: pki.PkiError, *, field: str | None = None) -> InvalidInput:
    """An ``InvalidInput`` (422) with the core's stable code, field and bilingual message."""
    return InvalidInput(
        pki_message(error),
        code=error.code,
        field=field or error.field or None,
        extra={"value": error.value} if error.value and error.code != "csr_private_key" else None,
    )
