"""Domain control validations: proof, per account, that it controls a domain name.

One validation proves one Authorization Domain Name (ADN) by one method. DNS TXT proves the
ADN and every name under it (BR 3.2.2.4.7); the HTTP file proves exactly the FQDN it was
served from (BR 3.2.2.4.18) and never a wildcard. A successful validation may be relied on
by later applications of the same account for the dated reuse period (BR 4.2.1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.validation import lookups

# BR 3.2.2.4.7 / .18: a random value is usable for 30 days after it was created.
TOKEN_LIFETIME = timedelta(days=30)


class DomainValidation(models.Model):
    class Method(models.TextChoices):
        DNS = "dns", _("DNS TXT record")
        HTTP = "http", _("HTTP file")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the record")
        VALID = "valid", _("Validated")
        EXPIRED = "expired", _("Token expired")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="domain_validations"
    )
    name = models.CharField(_("domain name"), max_length=253)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.DNS)
    token = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    validated_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_code = models.CharField(max_length=40, blank=True)
    last_detail = models.CharField(max_length=300, blank=True)
    last_found = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "name", "status"]),
            models.Index(fields=["status", "next_check_at"]),
            models.Index(fields=["account", "validated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.method})"

    # The customer-facing instructions ------------------------------------------------------

    @property
    def record_name(self) -> str:
        """Where the DNS TXT record goes."""
        return lookups.dns_record_name(self.name)

    @property
    def http_filename(self) -> str:
        """The file name under ``/.well-known/pki-validation/``; derived from the token so that
        it is unguessable too."""
        return f"{self.token[:16]}.txt"

    @property
    def http_url(self) -> str:
        return f"http://{self.name}{lookups.HTTP_PATH_PREFIX}{self.http_filename}"

    # Dates ----------------------------------------------------------------------------------

    def token_expires_at(self) -> datetime:
        return self.created_at + TOKEN_LIFETIME

    def reusable_until(self, now: datetime) -> datetime | None:
        """When this validation stops being reusable, judged by the reuse period at ``now``."""
        if self.validated_at is None:
            return None
        return self.validated_at + timedelta(days=pki.dcv_reuse_days(now))

    def is_valid_at(self, now: datetime) -> bool:
        until = self.reusable_until(now)
        return self.status == self.Status.VALID and until is not None and now < until

    def covers(self, adn: str) -> bool:
        """Whether this validation proves control of ``adn`` (a name without ``*.``)."""
        if adn == self.name:
            return True
        return self.method == self.Method.DNS and adn.endswith("." + self.name)
