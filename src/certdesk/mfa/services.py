"""The TOTP second factor (terms article 2.6): set up, confirm, verify, recovery codes, disable.

TOTP codes are checked against the injected ``now`` with django-otp's drift tolerance, and a
code is never accepted twice (``last_t``). Recovery codes are single-use and stored as
HMAC-SHA256 keyed with the site secret, so a leaked table alone does not reveal them.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from certdesk.accounts.models import User
from certdesk.audit.services import audit_record
from certdesk.core.errors import Conflict, InvalidInput
from certdesk.mfa.models import RecoveryCode
from certdesk.notifications.services import email_enqueue

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 12
DEVICE_NAME = "certdesk"
HMAC_SALT = "certdesk.mfa.recovery-code"

METHOD_TOTP = "totp"
METHOD_RECOVERY_CODE = "recovery_code"


def _normalise(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


def recovery_code_hash(code: str) -> str:
    """The stored form of a recovery code (spaces, hyphens and case ignored)."""
    return salted_hmac(HMAC_SALT, _normalise(code), algorithm="sha256").hexdigest()


def _recovery_code_new() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def mfa_device(user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if two-factor authentication is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def mfa_pending_device(user: User) -> TOTPDevice | None:
    """The device being set up (not yet confirmed by a code), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def mfa_enabled(user: User) -> bool:
    """True when the user has a confirmed TOTP device."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_remaining(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _totp_accepts(device: TOTPDevice, code: str, now: datetime) -> bool:
    """Check a TOTP code at ``now`` (within the device's tolerance, never a code at or before
    the last accepted time step) and remember the step and drift. Call with the device row
    locked."""
    digits = "".join((code or "").split())
    if len(digits) != device.digits or not digits.isdigit() or not digits.isascii():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = now.timestamp()
    if not totp.verify(int(digits), device.tolerance, device.last_t + 1):
        return False
    device.last_t = totp.t()
    device.drift = totp.drift
    device.last_used_at = now
    device.save(update_fields=["last_t", "drift", "last_used_at"])
    return True


def _replace_recovery_codes(user: User, now: datetime) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=recovery_code_hash(c), created_at=now) for c in codes]
    )
    return codes


def _notify(user: User, template: str, context: dict[str, object]) -> None:
    email_enqueue(
        to=user.email,
        template=template,
        context={"user": user, **context},
        language=user.language,
        account=user.account,
    )


def _otp_invalid() -> InvalidInput:
    return InvalidInput(
        _(
            "The code is not correct. Enter the 6-digit code your authenticator app shows now "
            "(check that your phone's clock is right)."
        ),
        code="otp_invalid",
        field="code",
    )


def _password_confirm(*, user: User, password: str, ip: str | None, now: datetime) -> None:
    from certdesk.accounts.services import password_confirm

    password_confirm(user=user, password=password, ip=ip, now=now)


def mfa_setup_start(*, user: User, now: datetime, ip: str | None = None) -> TOTPDevice:
    """Create a fresh, unconfirmed TOTP secret for the user (replacing an unfinished one).

    Raises ``Conflict`` (``mfa_already_enabled``).
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if mfa_enabled(user):
            raise Conflict(
                _("Two-factor authentication is already on."), code="mfa_already_enabled"
            )
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        audit_record(
            action="mfa.setup_started",
            account=user.account,
            actor=user,
            target=device,
            ip=ip,
            now=now,
        )
    return device


def mfa_setup_confirm(*, user: User, code: str, now: datetime, ip: str | None = None) -> list[str]:
    """Turn two-factor authentication on once the user proves the app shows the right code;
    return the 10 recovery codes (shown once, stored hashed).

    Raises ``InvalidInput`` (``otp_invalid``; ``mfa_setup_missing`` when no setup was
    started) and ``Conflict`` (``mfa_already_enabled``); on any refusal nothing is enabled.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if mfa_enabled(user):
            raise Conflict(
                _("Two-factor authentication is already on."), code="mfa_already_enabled"
            )
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise InvalidInput(
                _("Start the set-up again: no new secret is waiting for confirmation."),
                code="mfa_setup_missing",
            )
        if not _totp_accepts(device, code, now):
            # The failed check must not leave a half-confirmed device: nothing else changed.
            raise _otp_invalid()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user, now)
        audit_record(
            action="mfa.enabled",
            account=user.account,
            actor=user,
            target=device,
            data={"recovery_codes": len(codes)},
            ip=ip,
            now=now,
        )
        _notify(user, "mfa/email/mfa_enabled", {"at": now, "ip": ip})
    return codes


def mfa_recovery_codes_regenerate(
    *, user: User, password: str, now: datetime, ip: str | None = None
) -> list[str]:
    """Replace all recovery codes with 10 new ones (the old ones stop working).

    Raises ``Conflict`` (``mfa_not_enabled``), ``InvalidInput`` (``wrong_password``) and
    ``RateLimited`` (``login_locked``) after too many wrong passwords.
    """
    if not mfa_enabled(user):
        raise Conflict(_("Two-factor authentication is not on."), code="mfa_not_enabled")
    _password_confirm(user=user, password=password, ip=ip, now=now)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        codes = _replace_recovery_codes(user, now)
        audit_record(
            action="mfa.recovery_codes_regenerated",
            account=user.account,
            actor=user,
            target=user,
            data={"recovery_codes": len(codes)},
            ip=ip,
            now=now,
        )
    return codes


def mfa_disable(
    *, user: User, password: str, code: str, now: datetime, ip: str | None = None
) -> None:
    """Turn two-factor authentication off; needs the password and a current TOTP code (or a
    recovery code).

    Raises ``Conflict`` (``mfa_not_enabled``), ``InvalidInput`` (``wrong_password``,
    ``otp_invalid``) and ``RateLimited`` (``login_locked``).
    """
    if not mfa_enabled(user):
        raise Conflict(_("Two-factor authentication is not on."), code="mfa_not_enabled")
    _password_confirm(user=user, password=password, ip=ip, now=now)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        method = _verify(user=user, code=code, now=now, ip=ip)
        if method is None:
            raise _otp_invalid()
        devices = TOTPDevice.objects.filter(user=user)
        count = devices.count()
        devices.delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit_record(
            action="mfa.disabled",
            account=user.account,
            actor=user,
            target=user,
            data={"devices": count, "confirmed_with": method},
            ip=ip,
            now=now,
        )
        _notify(user, "mfa/email/mfa_disabled", {"at": now, "ip": ip})


def _verify(*, user: User, code: str, now: datetime, ip: str | None) -> str | None:
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=True)
        .order_by("pk")
        .first()
    )
    if device is None:
        return None
    if _totp_accepts(device, code, now):
        return METHOD_TOTP
    normalised = _normalise(code)
    if len(normalised) != RECOVERY_CODE_LENGTH:
        return None
    recovery = (
        RecoveryCode.objects.select_for_update()
        .filter(user=user, used_at__isnull=True, code_hash=recovery_code_hash(normalised))
        .first()
    )
    if recovery is None:
        return None
    recovery.used_at = now
    recovery.save(update_fields=["used_at"])
    remaining = recovery_codes_remaining(user)
    audit_record(
        action="mfa.recovery_code_used",
        account=user.account,
        actor=user,
        target=recovery,
        data={"remaining": remaining},
        ip=ip,
        now=now,
    )
    _notify(user, "mfa/email/recovery_code_used", {"at": now, "ip": ip, "remaining": remaining})
    return METHOD_RECOVERY_CODE


def mfa_verify_method(*, user: User, code: str, now: datetime, ip: str | None = None) -> str | None:
    """Check a second-factor code: a TOTP code (``"totp"``) or an unused recovery code, which
    is consumed (``"recovery_code"``); None when it is not valid."""
    with transaction.atomic():
        return _verify(user=user, code=code, now=now, ip=ip)


def mfa_verify(*, user: User, code: str, now: datetime) -> bool:
    """True when ``code`` is the user's current TOTP code (not used before) or an unused
    recovery code (then consumed)."""
    return mfa_verify_method(user=user, code=code, now=now) is not None
