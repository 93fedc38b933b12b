"""The organisations an account acts for (terms article 4.1(2)).

An OV certificate names an organisation in its subject, so the operator verifies each one
before any certificate may carry it; a DV certificate names none, but an application may
still be filed for an organisation the account represents.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Organization(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", pgettext_lazy("organization", "Rejected")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="organizations"
    )
    name_ja = models.CharField(_("legal name (Japanese)"), max_length=200)
    # The certificate subject's organizationName: ASCII, at most 64 characters (RFC 5280).
    name_en = models.CharField(_("legal name (English)"), max_length=64)
    corporate_number = models.CharField(_("corporate number"), max_length=13)
    country = models.CharField(_("country"), max_length=2, default="JP")
    prefecture = models.CharField(_("prefecture (English)"), max_length=64)
    locality = models.CharField(_("city (English)"), max_length=64)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=500, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who registered it: told (with the account's owners) when the operator decides.
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "corporate_number"], name="organizations_one_per_number"
            )
        ]
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["status", "id"]),
        ]

    def __str__(self) -> str:
        return self.name_ja

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED
