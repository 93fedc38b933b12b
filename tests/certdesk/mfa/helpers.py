"""Codes an authenticator app would show, computed at the frozen time."""

from __future__ import annotations

from datetime import datetime

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_code(device: TOTPDevice, at: datetime, *, steps: int = 0) -> str:
    """The code shown at ``at`` (``steps`` time steps later or earlier)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = at.timestamp() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice, at: datetime) -> str:
    valid = {totp_code(device, at, steps=s) for s in (-1, 0, 1)}
    n = 0
    while f"{n:06d}" in valid:
        n += 1
    return f"{n:06d}"
