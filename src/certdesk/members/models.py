"""Invitations: how a second person joins an account with their own credentials (terms 2.2)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Invitation(models.Model):
    """An emailed, single-use, expiring link that lets its holder join ``account`` as ``role``.

    Only the SHA-256 of the link's secret is stored (32 random bytes: a fast hash suffices).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", pgettext_lazy("invitation", "Revoked")
        EXPIRED = "expired", _("Expired")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField(_("email address"), max_length=254)
    role = models.CharField(_("role"), max_length=16)
    language = models.CharField(_("language of the email"), max_length=8)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Closed: accepted (with the user it created) or revoked (by hand, or replaced by a re-invite).
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open link per address and account: a re-invite closes the previous one.
            models.UniqueConstraint(
                "account",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="members_invitation_one_open_per_email",
            ),
        ]
        indexes = [models.Index(fields=["account", "-id"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.account_id} ({self.role})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def status_at(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.PENDING

    def status_label_at(self, now: datetime) -> str:
        return str(self.Status(self.status_at(now)).label)
