"""Products, applications and issued certificates: the certificate lifecycle's records.

A certificate's status is never stored: it follows from ``revoked_at`` and ``not_after`` at
the moment asked, so no sweep is needed to keep it true and no row can say "valid" after
expiry.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Product(models.Model):
    """What a customer can buy: a profile, a name limit, a price and who fulfils it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    profile = models.CharField(_("profile"), max_length=32)
    max_names = models.PositiveIntegerField(_("maximum names"), default=1)
    price_jpy = models.PositiveIntegerField(_("price (JPY, before tax)"))
    supplier = models.CharField(_("supplier"), max_length=32, default="builtin")
    is_active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name_en

    def display_name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en

    @property
    def is_ov(self) -> bool:
        return self.profile.startswith("ov-")


class Application(models.Model):
    """A request for one certificate: a CSR, its names, and what it still waits for."""

    class Status(models.TextChoices):
        PENDING = "pending", _("In progress")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", pgettext_lazy("application", "Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    class Approval(models.TextChoices):
        NOT_REQUIRED = "not_required", _("Not required")
        WAITING = "waiting", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", pgettext_lazy("approval", "Rejected")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="applications"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="applications")
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    renewal_of = models.ForeignKey(
        "certificates.Certificate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
    )
    csr_pem = models.TextField()
    common_name = models.CharField(max_length=253, blank=True)
    names = models.JSONField(default=list)
    key_description = models.CharField(max_length=40)
    # SHA-256 of the subject public key info: spots a renewal that reuses the old key.
    key_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    approval = models.CharField(
        max_length=16, choices=Approval.choices, default=Approval.NOT_REQUIRED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    # The last reason issuance could not go ahead (e.g. a CAA record), shown to the customer.
    blocked_code = models.CharField(max_length=40, blank=True)
    blocked_detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    # An Idempotency-Key sent with the API request that created it (per account).
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["status", "approval", "id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="certificates_application_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.common_name or (self.names or [''])[0]}"

    @property
    def number(self) -> str:
        return f"R{self.pk:08d}" if self.pk else "R--------"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class ApplicationName(models.Model):
    """One name of an application and the validation that proves (or will prove) it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="dcv")
    name = models.CharField(max_length=253)
    validation = models.ForeignKey(
        "validation.DomainValidation", on_delete=models.PROTECT, related_name="uses"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "name"], name="certificates_app_name")
        ]

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    """An issued certificate, as the supplier returned it."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", pgettext_lazy("certificate", "Revoked")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="certificates"
    )
    application = models.OneToOneField(
        Application,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificate",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="certificates")
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    renewal_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_by"
    )
    supplier = models.CharField(max_length=32)
    issuer = models.CharField(max_length=64)
    # Lower-case hex without leading zeros: one spelling per serial, so lookups are exact.
    serial = models.CharField(max_length=64)
    common_name = models.CharField(max_length=253, blank=True)
    names = models.JSONField(default=list)
    key_description = models.CharField(max_length=40)
    key_fingerprint = models.CharField(max_length=64)
    fingerprint_sha256 = models.CharField(max_length=64)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    pem = models.TextField()
    chain_pem = models.TextField()
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.PositiveSmallIntegerField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="certificates_unique_serial")
        ]
        indexes = [
            models.Index(fields=["account", "-id"], name="cert_account_id"),
            models.Index(fields=["account", "not_after", "id"], name="cert_account_expiry"),
            models.Index(fields=["account", "serial"], name="cert_account_serial"),
            models.Index(fields=["serial"], name="cert_serial"),
            models.Index(fields=["account", "issued_at", "id"], name="cert_account_issued"),
            models.Index(
                fields=["account", "issued_at", "id"],
                name="cert_account_revoked",
                condition=models.Q(revoked_at__isnull=False),
            ),
            models.Index(
                fields=["account", "not_after", "id"],
                name="cert_account_live_expiry",
                condition=models.Q(revoked_at__isnull=True),
            ),
            # The CRL and its freshness check read only the revoked certificates of one CA.
            models.Index(
                fields=["issuer", "revoked_at"],
                name="cert_issuer_revoked",
                condition=models.Q(revoked_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.common_name or (self.names or [''])[0]} ({self.serial})"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.not_after < now:
            return self.Status.EXPIRED
        return self.Status.VALID

    @property
    def serial_colon_hex(self) -> str:
        """The serial as browsers show it: upper-case octets separated by colons."""
        digits = self.serial if len(self.serial) % 2 == 0 else "0" + self.serial
        return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2)).upper()

    @property
    def serial_int(self) -> int:
        return int(self.serial, 16)


def serial_hex(serial: int) -> str:
    """A serial number as ``Certificate.serial`` stores it: lower-case hex, no leading zeros."""
    return format(serial, "x")


class CertificateName(models.Model):
    """One name a certificate carries, one row each: the index behind host search.

    ``account`` is copied from the certificate so that "which of my certificates cover
    www.example.com" is one index range, with no join to decide tenancy.
    """

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=253)

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "name", "certificate"], name="certname_account_name_cert"
            ),
            models.Index(fields=["certificate", "name"], name="certname_certificate_name"),
            models.Index(fields=["name"], name="certname_name"),
        ]

    def __str__(self) -> str:
        return self.name
