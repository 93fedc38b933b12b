"""Reads for accounts: reset-link checks and the yearly data reconfirmation (article 2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from certdesk.accounts.models import Account, EmailToken, KnownDevice, User

# Article 2.5: the portal asks for the account data to be reconfirmed once a year.
RECONFIRM_AFTER = timedelta(days=365)


@dataclass(frozen=True)
class Confirmation:
    """When the account data was last confirmed and when it is due again."""

    confirmed_at: datetime | None
    due_at: datetime | None
    overdue: bool


def account_confirmation(*, account: Account, now: datetime) -> Confirmation:
    confirmed = account.data_confirmed_at
    due = confirmed + RECONFIRM_AFTER if confirmed is not None else None
    return Confirmation(confirmed_at=confirmed, due_at=due, overdue=due is None or due <= now)


def reset_link_check(*, token: str, now: datetime) -> EmailToken:
    """The usable password-reset link for ``token``; raises ``NotFound`` (``link_invalid``)
    or ``Gone`` (``link_used``, ``link_expired``)."""
    from certdesk.accounts.services import email_token_check

    return email_token_check(secret=token, purpose=EmailToken.Purpose.RESET, now=now)


def known_devices(*, user: User, limit: int = 20) -> list[KnownDevice]:
    """The user's own recent sign-in places, newest first."""
    return list(KnownDevice.objects.filter(user=user).order_by("-last_seen_at")[:limit])


def user_account_get(*, user: User) -> tuple[User, Account | None]:
    """The caller and their own account (never anybody else's)."""
    fresh = User.objects.select_related("account").get(pk=user.pk)
    return fresh, fresh.account
