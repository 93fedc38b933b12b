"""Customer accounts (the tenant) and the users who sign in to them."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    """A customer: the tenant every certificate, member and token belongs to."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DISABLED = "disabled", _("Disabled")
        CLOSURE_REQUESTED = "closure_requested", _("Closure requested")

    organization_name = models.CharField(_("organisation name"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    address = models.CharField(_("postal address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=32)
    email = models.EmailField(_("contact email"), max_length=254)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=500, blank=True)
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    # Article 2.3/2.5: account data is reconfirmed once a year.
    data_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization_name"])]

    def __str__(self) -> str:
        return f"{self.number} {self.organization_name}"

    @property
    def number(self) -> str:
        """The account number shown to people, e.g. ``A000042``."""
        return f"A{self.pk:06d}" if self.pk else "A------"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username=(username or "").strip().lower())

    def create_user(self, username: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(username=username.strip().lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with their own login: a member of one account, or an operator (no account)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Administrator")
        MEMBER = "member", _("Member")
        READ_ONLY = "read_only", _("Read-only")

    class Language(models.TextChoices):
        JA = "ja", "日本語"
        EN = "en", "English"

    username = models.CharField(
        _("account ID"),
        max_length=32,
        unique=True,
        help_text=_("3-32 characters: lower-case letters, digits, '.', '_' and '-'."),
    )
    full_name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email address"), max_length=254)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # A changed email waits here until the new address is verified.
    pending_email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.JA
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        _("operator"),
        default=False,
        help_text=_("Operators run the console; they have no account."),
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["account", "role"])]

    def __str__(self) -> str:
        return self.username

    @property
    def is_operator(self) -> bool:
        return self.is_staff

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def can_manage_account(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}

    def can_write(self) -> bool:
        return self.role != self.Role.READ_ONLY


class EmailToken(models.Model):
    """A single-use link sent by email: verify an address, confirm a changed one, or reset a
    password. Only the SHA-256 of the secret is stored."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("Email address verification")
        CHANGE = "change", _("Email address change")
        RESET = "reset", _("Password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    # The address the link was sent to (for a change: the new address).
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.email}"


class LoginThrottle(models.Model):
    """Failed sign-in bookkeeping per login ID (known or not): the row every attempt on that
    ID locks, so that concurrent failures are counted exactly."""

    username = models.CharField(max_length=64, unique=True)
    # Failures before this moment no longer count (the end of the last lockout).
    counted_from = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username


class LoginFailure(models.Model):
    """One failed sign-in (wrong password, unknown ID or wrong second factor)."""

    username = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["username", "created_at"])]

    def __str__(self) -> str:
        return f"{self.username} {self.created_at:%Y-%m-%d %H:%M}"


class KnownDevice(models.Model):
    """A browser (device cookie) and IP address a user has signed in from (article 2.4)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    device_id = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "device_id", "ip"], name="accounts_knowndevice_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "device_id"]),
            models.Index(fields=["user", "ip"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.device_id[:8]} {self.ip}"
