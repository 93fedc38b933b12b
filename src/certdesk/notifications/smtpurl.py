"""Parse ``CERTDESK_SMTP_URL`` (``smtp://user:pass@host:port``, ``smtps://`` or ``?starttls=1``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def smtp_settings_from_url(url: str) -> dict[str, Any]:
    """Return Django EMAIL_* settings; raises ValueError for a non-SMTP scheme."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"CERTDESK_SMTP_URL must be smtp:// or smtps://, not {parts.scheme!r}")
    query = parse_qs(parts.query)
    ssl = parts.scheme == "smtps"
    return {
        "EMAIL_HOST": parts.hostname or "127.0.0.1",
        "EMAIL_PORT": parts.port or (465 if ssl else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": ssl,
        "EMAIL_USE_TLS": query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": 20,
    }
