"""Recovery codes for the TOTP second factor (the TOTP device itself is django-otp's
``TOTPDevice``). Codes are stored as keyed hashes, never in plain text."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RecoveryCode(models.Model):
    """One single-use code that stands in for a TOTP code when the phone is lost."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"])]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of user {self.user_id}"
