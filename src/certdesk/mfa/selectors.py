"""Reads for the second-factor page: whether it is on, since when, codes left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django_otp.plugins.otp_totp.models import TOTPDevice

from certdesk.mfa.models import RecoveryCode

if TYPE_CHECKING:
    from certdesk.accounts.models import User

# At or below this many unused recovery codes the page suggests making new ones.
RECOVERY_CODES_LOW = 3


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    enabled_at: datetime | None = None
    last_used_at: datetime | None = None
    recovery_codes_remaining: int = 0

    @property
    def recovery_codes_low(self) -> bool:
        return self.enabled and self.recovery_codes_remaining <= RECOVERY_CODES_LOW


def mfa_status(*, user: User) -> MfaStatus:
    """The second factor of ``user`` (and only theirs) as the settings page shows it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return MfaStatus(enabled=False)
    return MfaStatus(
        enabled=True,
        enabled_at=device.created_at,
        last_used_at=device.last_used_at,
        recovery_codes_remaining=RecoveryCode.objects.filter(
            user=user, used_at__isnull=True
        ).count(),
    )
