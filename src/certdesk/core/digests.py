"""Digests of high-entropy secrets (API tokens, email and invitation links)."""

from __future__ import annotations

import hashlib


def secret_digest(secret: str) -> str:
    """The SHA-256 hex digest under which a random secret is stored and looked up.

    The secrets are at least 32 random bytes, so a fast hash is enough: nothing can be
    guessed, and lookups by digest stay a single indexed query.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
