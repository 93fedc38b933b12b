"""The PKI core's error tree.

``PkiError`` is the root. Each refusal carries a stable ``code`` (see :mod:`pki.reasons`), the
offending ``field`` and ``value`` and a message in Japanese and English, so that the caller can
show it without knowing the rule. Mistakes in how the API is called are plain ``TypeError`` /
``ValueError``, as in pyca/cryptography.
"""

from __future__ import annotations

from collections.abc import Mapping

from pki.reasons import REASONS, render


class PkiError(Exception):
    """A refusal by the PKI core: ``code``, ``field``, ``value`` and a bilingual message."""

    def __init__(self, code: str, *, field: str = "", value: object = "", **details: object):
        if code not in REASONS:
            raise ValueError(f"unknown PKI error code: {code!r}")
        self.code = code
        self.field = field
        self.value = "" if value is None else str(value)
        self.details: Mapping[str, object] = dict(details)
        fields = {**self.details, "value": self.value, "field": field}
        self.message_en = render(code, "en", fields)
        self.message_ja = render(code, "ja", fields)
        super().__init__(f"{code}: {self.message_en}")

    def message(self, language: str) -> str:
        """The message in ``language`` ("ja" or "en"; anything else gets English)."""
        return self.message_ja if language == "ja" else self.message_en

    def as_dict(self) -> dict[str, str]:
        """A JSON-friendly summary: code, field, value and both messages."""
        return {
            "code": self.code,
            "field": self.field,
            "value": self.value,
            "message_en": self.message_en,
            "message_ja": self.message_ja,
        }


class CsrRejected(PkiError):
    """The CSR (or what was sent in its place) breaks the issuance policy."""


class PrivateKeySubmitted(CsrRejected):
    """A private key was sent instead of a CSR; it must be treated as compromised.

    Neither the key nor any part of it is kept in the exception: ``value`` stays empty.
    """

    def __init__(self, *, field: str = "csr") -> None:
        super().__init__("csr_private_key", field=field, value="")


class PolicyViolation(PkiError):
    """An issuance or revocation request the policy forbids (validity, profile, reason...)."""


class CaError(PkiError):
    """The built-in CA cannot operate: damaged store, missing or undecryptable key, HSM failure."""
