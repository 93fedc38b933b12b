"""Versioned terms of use (articles 1.1 and 11): versions, acceptances, notices, cancellations.

A published version takes effect for an account ``CERTDESK_TERMS_GRACE_DAYS`` after its
publication, or at the moment that account was emailed about it, whichever comes first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class TermsVersion(models.Model):
    """One numbered text of the terms, in Japanese and English. Immutable once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    number = models.PositiveIntegerField(_("version"), unique=True)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_ja = models.TextField(_("text (Japanese)"))
    body_en = models.TextField(_("text (English)"))
    # What changed since the previous version, in the operator's words.
    summary_ja = models.TextField(_("summary of changes (Japanese)"), blank=True)
    summary_en = models.TextField(_("summary of changes (English)"), blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # In the future while the publication is scheduled.
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["status", "published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="terms_version_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.title_en}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def title(self, language: str | None = None) -> str:
        return self.title_en if (language or get_language() or "ja")[:2] == "en" else self.title_ja

    def body(self, language: str | None = None) -> str:
        return self.body_en if (language or get_language() or "ja")[:2] == "en" else self.body_ja

    def summary(self, language: str | None = None) -> str:
        lang = (language or get_language() or "ja")[:2]
        return self.summary_en if lang == "en" else self.summary_ja


class TermsAcceptance(models.Model):
    """A user agreed to a version: who, which, when, from where."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="terms_acceptances"
    )
    # The account the user acted for at the time (kept if the user later moves or is erased).
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="terms_accept_once"),
        ]
        indexes = [models.Index(fields=["account", "-accepted_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} accepted v{self.version_id}"


class TermsNotice(models.Model):
    """The operator's order to email every customer about a published version at a time."""

    version = models.OneToOneField(TermsVersion, on_delete=models.PROTECT, related_name="notice")
    scheduled_for = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["completed_at", "scheduled_for"])]

    def __str__(self) -> str:
        return f"notice v{self.version_id} at {self.scheduled_for:%Y-%m-%d %H:%M}"


class TermsNoticeDelivery(models.Model):
    """One user of one account was emailed about a version; the first one per account makes
    the version effective for that account at ``emailed_at`` (article 11)."""

    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="deliveries")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="terms_deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(max_length=254)
    emailed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="terms_delivery_once"),
        ]
        indexes = [models.Index(fields=["account", "version", "emailed_at"])]

    def __str__(self) -> str:
        return f"v{self.version_id} -> {self.email} at {self.emailed_at:%Y-%m-%d %H:%M}"


class TermsCancellation(models.Model):
    """An owner rejected a new version and asked to close the account (article 11)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="terms_cancellations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-requested_at"])]

    def __str__(self) -> str:
        return f"closure of {self.account_id} (v{self.version_id})"
