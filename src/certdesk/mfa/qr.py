"""The provisioning data an authenticator app needs: otpauth URI, QR code and typed secret."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

ISSUER = "certdesk"


@dataclass(frozen=True)
class Provisioning:
    uri: str
    secret: str
    svg: SafeString

    @property
    def secret_grouped(self) -> str:
        """The base32 secret in groups of four, easier to type by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def provisioning(device: TOTPDevice, *, username: str) -> Provisioning:
    """The Key URI Format link of ``device`` and its QR code as inline SVG markup (paths
    only: no script, no style attribute, so the strict CSP allows it)."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{ISSUER}:{username}")
    params = urlencode(
        {
            "secret": secret,
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    uri = f"otpauth://totp/{label}?{params}"
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    markup = image.to_string(encoding="unicode")
    # Our own generated markup (only <svg> and <path>): safe to embed as it is.
    return Provisioning(uri=uri, secret=secret, svg=mark_safe(markup))  # noqa: S308
