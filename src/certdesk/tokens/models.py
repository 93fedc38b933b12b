"""Personal API tokens: a user's bearer credential for the REST API."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the secret is stored.

    The secret is 32 random bytes from ``secrets``: with that much entropy a fast hash is
    enough (no dictionary or brute force can reach it), and a fast hash is what lets every
    API request find its token by an indexed lookup instead of a slow KDF per request.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", pgettext_lazy("api token", "Revoked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    # Denormalised from user.account so that listing and tenant scoping need no join.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(pgettext_lazy("api token", "name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["user", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    def is_usable_at(self, now: datetime) -> bool:
        return self.status_at(now) == self.Status.ACTIVE
