"""Writes for customer accounts (terms articles 2.1-2.6): registration, email links, sign-in
with lockout and new-device alerts, password reset and change, profile and account data.

Sign-in failures are counted per login ID, known or not, so the answer never tells whether
an ID exists; ``CERTDESK_LOGIN_MAX_FAILURES`` failures within ``CERTDESK_LOGIN_FAILURE_WINDOW``
seconds lock the ID for ``CERTDESK_LOGIN_LOCKOUT_SECONDS``.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import (
    Account,
    EmailToken,
    KnownDevice,
    LoginFailure,
    LoginThrottle,
    User,
)
from certdesk.accounts.validation import (
    PASSWORD_MAX_INPUT,
    FieldErrors,
    clean_email,
    clean_language,
    clean_password,
    clean_phone,
    clean_postal_code,
    clean_text,
    clean_username,
    has_control_characters,
)
from certdesk.audit.services import audit_record, client_ip
from certdesk.core.digests import secret_digest
from certdesk.core.errors import (
    AuthenticationFailed,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from certdesk.notifications.services import email_enqueue

if TYPE_CHECKING:
    from django.http import HttpRequest

    from certdesk.terms.models import TermsVersion

TOKEN_BYTES = 32
# "Send again": at most one link a minute and six a day (the first one included).
RESEND_INTERVAL = timedelta(seconds=60)
LINKS_PER_DAY = 6
# Password reset mails per user and hour; further requests are dropped silently.
RESETS_PER_HOUR = 3
LOGIN_KEY_MAX = 64
USER_AGENT_MAX = 300
TERMS_RETRY_AFTER = 3600


# ---- helpers --------------------------------------------------------------------------------


token_hash = secret_digest


def _token_hours() -> timedelta:
    return timedelta(hours=settings.CERTDESK_EMAIL_TOKEN_HOURS)


def _link(purpose: str, secret: str) -> str:
    name = (
        "accounts:password_reset_confirm"
        if purpose == EmailToken.Purpose.RESET
        else "accounts:verify"
    )
    return settings.SITE_URL + reverse(name, kwargs={"token": secret})


def _token_create(*, user: User, purpose: str, email: str, now: datetime) -> tuple[EmailToken, str]:
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    record = EmailToken.objects.create(
        user=user,
        purpose=purpose,
        email=email,
        token_hash=token_hash(secret),
        created_at=now,
        expires_at=now + _token_hours(),
    )
    return record, secret


def _send_link(
    *, user: User, purpose: str, email: str, now: datetime, language: str | None = None
) -> EmailToken:
    """Create a link of ``purpose`` for ``email`` and queue the mail (caller's transaction)."""
    record, secret = _token_create(user=user, purpose=purpose, email=email, now=now)
    template = {
        EmailToken.Purpose.VERIFY: "accounts/email/verify",
        EmailToken.Purpose.CHANGE: "accounts/email/email_change_verify",
        EmailToken.Purpose.RESET: "accounts/email/password_reset",
    }[EmailToken.Purpose(purpose)]
    email_enqueue(
        to=email,
        template=template,
        context={
            "user": user,
            "link": _link(purpose, secret),
            "expires_at": record.expires_at,
            "hours": settings.CERTDESK_EMAIL_TOKEN_HOURS,
        },
        language=language or user.language,
        account=user.account,
    )
    return record


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _login_key(username: str) -> str:
    """The login ID as failures are counted: lower case, bounded, printable."""
    key = (username or "").strip().lower()[:LOGIN_KEY_MAX]
    return "".join(c for c in key if not has_control_characters(c))


def _is_plausible_id(username: str) -> bool:
    raw = (username or "").strip()
    return bool(raw) and len(raw) <= LOGIN_KEY_MAX and not has_control_characters(raw)


def _is_manager(user: User) -> bool:
    return user.account_id is not None and user.role in {User.Role.OWNER, User.Role.ADMIN}


def _account_id_taken() -> InvalidInput:
    return InvalidInput(
        _("This account ID is already taken. Please choose another one."),
        code="account_id_taken",
        field="username",
    )


def _email_taken(field_name: str = "email") -> InvalidInput:
    return InvalidInput(
        _("This email address is already registered. Sign in, or reset your password."),
        code="email_taken",
        field=field_name,
    )


# ---- registration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """What a customer enters to create an account (article 2.1)."""

    username: str
    password: str
    full_name: str
    organization_name: str
    postal_code: str
    address: str
    email: str
    phone: str
    language: str
    terms_version: int | None
    accept_terms: bool


def _terms_current(now: datetime) -> TermsVersion:
    from certdesk.terms.selectors import terms_current

    version = terms_current(now=now)
    if version is None:
        raise ServiceUnavailable(
            _(
                "Registration is not possible right now because no terms of use are published. "
                "Please try again later."
            ),
            retry_after=TERMS_RETRY_AFTER,
            code="terms_unavailable",
        )
    return version


def account_register(*, data: Registration, ip: str | None, now: datetime) -> User:
    """Create an account with its owner, record the acceptance of the current terms and email
    a verification link, all in one transaction.

    Raises ``ServiceUnavailable`` (``terms_unavailable``) and ``InvalidInput`` listing every
    field error (``account_id_taken``, ``account_id_reserved``, ``invalid_account_id``,
    ``email_taken``, ``invalid_email``, ``invalid_phone``, ``invalid_postal_code``,
    ``field_too_long``, ``field_required``, ``password_weak``, ``invalid_language``,
    ``terms_not_accepted``, ``terms_outdated``); nothing is saved on a refusal.
    """
    version = _terms_current(now)
    errors = FieldErrors()
    username = errors.run(clean_username, data.username)
    full_name = errors.run(clean_text, data.full_name, field="full_name")
    organization_name = errors.run(clean_text, data.organization_name, field="organization_name")
    postal_code = errors.run(clean_postal_code, data.postal_code)
    address = errors.run(clean_text, data.address, field="address")
    email = errors.run(clean_email, data.email)
    phone = errors.run(clean_phone, data.phone)
    language = errors.run(clean_language, data.language)
    if username and User.objects.filter(username__iexact=username).exists():
        errors.add(_account_id_taken())
    if email and User.objects.filter(email__iexact=email).exists():
        errors.add(_email_taken())
    candidate = User(username=username or "", email=email or "", full_name=full_name or "")
    errors.run(clean_password, data.password or "", user=candidate)
    if not data.accept_terms:
        errors.add(
            InvalidInput(
                _("Please read the terms of use and tick the box to accept them."),
                code="terms_not_accepted",
                field="accept_terms",
            )
        )
    elif data.terms_version != version.number:
        errors.add(
            InvalidInput(
                format_lazy(
                    _(
                        "The terms of use have been updated to version {number}. Please read "
                        "the new version and accept it."
                    ),
                    number=version.number,
                ),
                code="terms_outdated",
                field="terms_version",
                extra={"terms_version": version.number},
            )
        )
    errors.raise_if_any()
    assert username and email and full_name and organization_name and address and phone
    assert language and postal_code is not None
    password_hash = make_password(data.password)

    from certdesk.terms.services import terms_accept

    with transaction.atomic():
        account = Account.objects.create(
            organization_name=organization_name,
            postal_code=postal_code,
            address=address,
            phone=phone,
            email=email,
            created_at=now,
            data_confirmed_at=now,
        )
        user = User(
            username=username,
            full_name=full_name,
            email=email,
            phone=phone,
            language=language,
            account=account,
            role=User.Role.OWNER,
            date_joined=now,
            password=password_hash,
        )
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Somebody registered the same ID or address a moment ago.
            if User.objects.filter(username=username).exists():
                raise _account_id_taken() from None
            raise _email_taken() from None
        terms_accept(user=user, version=version, ip=ip, now=now)
        audit_record(
            action="account.registered",
            account=account,
            actor=user,
            target=account,
            data={
                "username": username,
                "organization_name": organization_name,
                "email": email,
                "language": language,
                "terms_version": version.number,
            },
            ip=ip,
            now=now,
        )
        _send_link(user=user, purpose=EmailToken.Purpose.VERIFY, email=email, now=now)
    return user


# ---- email verification -----------------------------------------------------------------------


def _token_lock(*, secret: str, purposes: list[str], now: datetime) -> EmailToken:
    record = (
        EmailToken.objects.select_for_update()
        .filter(token_hash=token_hash(secret or ""), purpose__in=purposes)
        .first()
    )
    _token_raise_if_unusable(record, now)
    assert record is not None
    return record


def _token_raise_if_unusable(record: EmailToken | None, now: datetime) -> None:
    if record is None:
        raise NotFound(
            _("This link is not valid. Check that you opened the complete link from the email."),
            code="link_invalid",
        )
    if record.used_at is not None:
        raise Gone(
            _("This link has already been used. Each link works only once."), code="link_used"
        )
    if record.expires_at <= now:
        raise Gone(
            _("This link has expired. Please ask for a new one."),
            code="link_expired",
            extra={"expired_at": record.expires_at.isoformat()},
        )


def email_token_check(*, secret: str, purpose: str, now: datetime) -> EmailToken:
    """The usable link for ``secret``; raises ``NotFound`` (``link_invalid``) or ``Gone``
    (``link_used``, ``link_expired``)."""
    record = (
        EmailToken.objects.select_related("user")
        .filter(token_hash=token_hash(secret or ""), purpose=purpose)
        .first()
    )
    _token_raise_if_unusable(record, now)
    assert record is not None
    return record


def _superseded() -> Gone:
    return Gone(
        _("This link is no longer valid because a newer one was sent. Use the latest email."),
        code="link_superseded",
    )


def email_verify(*, token: str, now: datetime, ip: str | None = None) -> User:
    """Use a verification link: confirm the address, or apply a pending email change.

    Raises ``NotFound`` (``link_invalid``), ``Gone`` (``link_used``, ``link_expired``,
    ``link_superseded``) and ``Conflict`` (``email_taken``).
    """
    with transaction.atomic():
        record = _token_lock(
            secret=token, purposes=[EmailToken.Purpose.VERIFY, EmailToken.Purpose.CHANGE], now=now
        )
        user = (
            User.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=record.user_id)
        )
        if record.purpose == EmailToken.Purpose.VERIFY:
            if user.email.lower() != record.email.lower():
                raise _superseded()
            user.email_verified_at = now
            user.save(update_fields=["email_verified_at"])
            audit_record(
                action="email.verified",
                account=user.account,
                actor=user,
                target=user,
                data={"email": user.email},
                ip=ip,
                now=now,
            )
        else:
            if user.pending_email.lower() != record.email.lower():
                raise _superseded()
            if User.objects.filter(email__iexact=record.email).exclude(pk=user.pk).exists():
                raise Conflict(
                    _("This email address is now used by another user, so it cannot be yours."),
                    code="email_taken",
                )
            old = user.email
            user.email = record.email
            user.pending_email = ""
            user.email_verified_at = now
            user.save(update_fields=["email", "pending_email", "email_verified_at"])
            audit_record(
                action="email.changed",
                account=user.account,
                actor=user,
                target=user,
                data={"old": old, "new": user.email},
                ip=ip,
                now=now,
            )
        record.used_at = now
        record.save(update_fields=["used_at"])
    return user


def email_verification_resend(*, user: User, now: datetime, ip: str | None = None) -> str:
    """Send the verification link again (to the pending new address if there is one);
    return the address.

    Raises ``Conflict`` (``already_verified``) and ``RateLimited`` (``resend_too_soon``,
    ``resend_limit``) with ``retry_after``.
    """
    with transaction.atomic():
        locked = (
            User.objects.select_for_update(of=("self",)).select_related("account").get(pk=user.pk)
        )
        if locked.pending_email:
            purpose, to = EmailToken.Purpose.CHANGE, locked.pending_email
        elif not locked.email_verified:
            purpose, to = EmailToken.Purpose.VERIFY, locked.email
        else:
            raise Conflict(_("Your email address is already verified."), code="already_verified")
        recent = list(
            EmailToken.objects.filter(
                user=locked,
                purpose__in=[EmailToken.Purpose.VERIFY, EmailToken.Purpose.CHANGE],
                created_at__gt=now - timedelta(days=1),
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        if recent and recent[0] > now - RESEND_INTERVAL:
            retry = _seconds_until(recent[0] + RESEND_INTERVAL, now)
            raise RateLimited(
                format_lazy(
                    _(
                        "We have just sent a link. Please wait {seconds} seconds before asking "
                        "again."
                    ),
                    seconds=retry,
                ),
                retry_after=retry,
                code="resend_too_soon",
            )
        if len(recent) >= LINKS_PER_DAY:
            retry = _seconds_until(recent[-1] + timedelta(days=1), now)
            raise RateLimited(
                format_lazy(
                    _(
                        "We have sent {count} links in the last 24 hours. Please check your "
                        "spam folder, or try again in {hours} hours."
                    ),
                    count=len(recent),
                    hours=math.ceil(retry / 3600),
                ),
                retry_after=retry,
                code="resend_limit",
            )
        _send_link(user=locked, purpose=purpose, email=to, now=now)
        audit_record(
            action="email.verification_resent",
            account=locked.account,
            actor=locked,
            target=locked,
            data={"email": to, "purpose": purpose},
            ip=ip,
            now=now,
        )
    return to


# ---- sign-in --------------------------------------------------------------------------------


def login_lock_remaining(*, username: str, now: datetime) -> int | None:
    """Seconds until the login ID may try again, or None when it is not locked."""
    throttle = LoginThrottle.objects.filter(username=_login_key(username)).first()
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return _seconds_until(throttle.locked_until, now)


def login_locked_error(retry_after: int, now: datetime) -> RateLimited:
    until = timezone.localtime(now + timedelta(seconds=retry_after))
    return RateLimited(
        format_lazy(
            _(
                "Too many failed sign-in attempts for this account ID. For your security it is "
                "locked until {time} Japan time (in about {minutes} minutes). Please try again "
                "then, or "
                "reset your password."
            ),
            time=until.strftime("%H:%M"),
            minutes=max(1, math.ceil(retry_after / 60)),
        ),
        retry_after=retry_after,
        code="login_locked",
    )


def _raise_if_locked(username: str, now: datetime) -> None:
    retry = login_lock_remaining(username=username, now=now)
    if retry is not None:
        raise login_locked_error(retry, now)


def login_failure_record(
    *, username: str, ip: str | None, now: datetime, reason: str = "invalid_credentials"
) -> int | None:
    """Count a failed sign-in (wrong password, unknown ID, wrong second factor) and lock the
    ID when the limit is reached; return the lockout in seconds when this failure locked it.

    Commits on its own: a failure stays counted although the caller then refuses.
    """
    key = _login_key(username)
    user = User.objects.select_related("account").filter(username=key).first()
    window = timedelta(seconds=settings.CERTDESK_LOGIN_FAILURE_WINDOW)
    with transaction.atomic():
        LoginThrottle.objects.get_or_create(username=key)
        throttle = LoginThrottle.objects.select_for_update().get(username=key)
        LoginFailure.objects.create(username=key, ip=ip or None, created_at=now)
        failures = LoginFailure.objects.filter(username=key, created_at__gt=now - window)
        if throttle.counted_from is not None:
            failures = failures.filter(created_at__gte=throttle.counted_from)
        count = failures.count()
        account = user.account if user is not None else None
        audit_record(
            action="login.failed",
            account=account,
            target=user,
            data={"username": key, "reason": reason, "failures": count},
            ip=ip,
            now=now,
        )
        if count < settings.CERTDESK_LOGIN_MAX_FAILURES:
            return None
        lockout = settings.CERTDESK_LOGIN_LOCKOUT_SECONDS
        throttle.locked_until = now + timedelta(seconds=lockout)
        # Failures before the lock ends do not count again afterwards.
        throttle.counted_from = throttle.locked_until
        throttle.save(update_fields=["locked_until", "counted_from"])
        audit_record(
            action="login.locked",
            account=account,
            target=user,
            data={"username": key, "failures": count, "locked_until": throttle.locked_until},
            ip=ip,
            now=now,
        )
    return lockout


def _disabled_error(user: User) -> PermissionDenied:
    if user.account is not None and user.account.status == Account.Status.DISABLED:
        message = _("This account is disabled, so nobody can sign in to it. Please contact us.")
    else:
        message = _(
            "Your user is disabled, so you cannot sign in. Please ask your account's "
            "administrator or contact us."
        )
    return PermissionDenied(message, code="account_disabled")


def credentials_check(*, username: str, password: str, ip: str | None, now: datetime) -> User:
    """The user whose login ID and password these are.

    Raises ``RateLimited`` (``login_locked``, with ``retry_after``) while the ID is locked,
    ``AuthenticationFailed`` (``invalid_credentials``: the same for an unknown ID and a wrong
    password; each counts towards the lockout) and ``PermissionDenied``
    (``account_disabled``) for a disabled user or account.
    """
    key = _login_key(username)
    _raise_if_locked(key, now)
    password = password or ""
    user = None
    if key and _is_plausible_id(username):
        user = User.objects.select_related("account").filter(username=key).first()
    if user is not None and len(password) <= PASSWORD_MAX_INPUT:
        valid = user.check_password(password)
    else:
        # Hash anyway: an unknown ID must take as long to refuse as a wrong password.
        make_password(password[:PASSWORD_MAX_INPUT])
        valid = False
    if not valid:
        login_failure_record(username=key, ip=ip, now=now)
        raise AuthenticationFailed(
            _("The account ID or the password is not correct."), code="invalid_credentials"
        )
    assert user is not None
    disabled = not user.is_active or (
        user.account is not None and user.account.status == Account.Status.DISABLED
    )
    if disabled:
        with transaction.atomic():
            audit_record(
                action="login.refused",
                account=user.account,
                target=user,
                data={"username": key, "reason": "disabled"},
                ip=ip,
                now=now,
            )
        raise _disabled_error(user)
    return user


def login_second_factor(*, user: User, code: str, ip: str | None, now: datetime) -> str:
    """Check the sign-in's second step; return how it was passed (``totp`` or
    ``recovery_code``).

    Raises ``RateLimited`` (``login_locked``) and ``AuthenticationFailed`` (``otp_invalid``,
    counted towards the lockout).
    """
    from certdesk.mfa.services import mfa_verify_method

    _raise_if_locked(user.username, now)
    method = mfa_verify_method(user=user, code=code or "", now=now, ip=ip)
    if method is None:
        login_failure_record(username=user.username, ip=ip, now=now, reason="otp_invalid")
        raise AuthenticationFailed(
            _(
                "The code is not correct. Enter the 6-digit code your authenticator app shows "
                "now, or one of your recovery codes."
            ),
            code="otp_invalid",
            field="code",
        )
    return method


def password_confirm(
    *, user: User, password: str, ip: str | None, now: datetime, field_name: str = "password"
) -> None:
    """Check a signed-in user's password before a sensitive change; a wrong one counts
    towards the sign-in lockout.

    Raises ``RateLimited`` (``login_locked``) and ``InvalidInput`` (``wrong_password``).
    """
    _raise_if_locked(user.username, now)
    password = password or ""
    if len(password) > PASSWORD_MAX_INPUT or not user.check_password(password):
        login_failure_record(username=user.username, ip=ip, now=now, reason="wrong_password")
        raise InvalidInput(
            _("The password is not correct."), code="wrong_password", field=field_name
        )


@dataclass(frozen=True)
class SignIn:
    """The outcome of a completed sign-in."""

    user: User
    new_device: bool
    new_ip: bool
    alerted: bool


def user_signed_in(
    *,
    user: User,
    ip: str | None,
    user_agent: str,
    device_id: str,
    method: str,
    now: datetime,
) -> SignIn:
    """Record a completed sign-in: reset the failure count, remember the device and IP, and
    email the user when either is new (never on the first sign-in of a user)."""
    user_agent = (user_agent or "")[:USER_AGENT_MAX]
    with transaction.atomic():
        # A completed sign-in starts the failure count afresh (the audit log keeps them).
        LoginFailure.objects.filter(username=_login_key(user.username)).delete()
        known = KnownDevice.objects.filter(user=user)
        first_ever = not known.exists()
        device_known = known.filter(device_id=device_id).exists()
        ip_known = known.filter(ip=ip).exists() if ip else True
        row = known.filter(device_id=device_id, ip=ip or None).first()
        if row is None:
            KnownDevice.objects.create(
                user=user,
                device_id=device_id,
                ip=ip or None,
                user_agent=user_agent,
                first_seen_at=now,
                last_seen_at=now,
            )
        else:
            row.last_seen_at = now
            row.user_agent = user_agent
            row.save(update_fields=["last_seen_at", "user_agent"])
        alert = not first_ever and not (device_known and ip_known)
        audit_record(
            action="login.succeeded",
            account=user.account,
            actor=user,
            target=user,
            data={
                "method": method,
                "new_device": not device_known,
                "new_ip": not ip_known,
                "alerted": alert,
            },
            ip=ip,
            now=now,
        )
        if alert:
            email_enqueue(
                to=user.email,
                template="accounts/email/new_sign_in",
                context={
                    "user": user,
                    "at": now,
                    "ip": ip or "-",
                    "user_agent": user_agent or "-",
                    "password_change_url": settings.SITE_URL + reverse("accounts:password_change"),
                    "password_reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
                },
                language=user.language,
                account=user.account,
            )
    return SignIn(user=user, new_device=not device_known, new_ip=not ip_known, alerted=alert)


def user_signed_out(*, user: User, ip: str | None, now: datetime) -> None:
    with transaction.atomic():
        audit_record(action="logout", account=user.account, actor=user, target=user, ip=ip, now=now)


# ---- passwords --------------------------------------------------------------------------------


def _password_changed(*, user: User, action: str, ip: str | None, now: datetime) -> None:
    """After a new password: end pending reset links, unlock the ID, audit, tell the user."""
    EmailToken.objects.filter(
        user=user, purpose=EmailToken.Purpose.RESET, used_at__isnull=True
    ).update(used_at=now)
    LoginFailure.objects.filter(username=_login_key(user.username)).delete()
    LoginThrottle.objects.filter(username=_login_key(user.username)).update(locked_until=None)
    audit_record(action=action, account=user.account, actor=user, target=user, ip=ip, now=now)
    email_enqueue(
        to=user.email,
        template="accounts/email/password_changed",
        context={
            "user": user,
            "at": now,
            "ip": ip or "-",
            "password_reset_url": settings.SITE_URL + reverse("accounts:password_reset"),
        },
        language=user.language,
        account=user.account,
    )


def password_reset_request(*, email: str, ip: str | None, now: datetime) -> None:
    """Email a reset link when an active user has this address; answer the same either way.

    Raises ``InvalidInput`` (``invalid_email``) only for a malformed address.
    """
    address = clean_email(email)
    user = (
        User.objects.select_related("account").filter(email__iexact=address, is_active=True).first()
    )
    if user is None or (
        user.account is not None and user.account.status == Account.Status.DISABLED
    ):
        return
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        recent = EmailToken.objects.filter(
            user=user, purpose=EmailToken.Purpose.RESET, created_at__gt=now - timedelta(hours=1)
        ).count()
        if recent >= RESETS_PER_HOUR:
            return
        _send_link(user=user, purpose=EmailToken.Purpose.RESET, email=user.email, now=now)
        audit_record(
            action="password.reset_requested",
            account=user.account,
            actor=user,
            target=user,
            ip=ip,
            now=now,
        )


def password_reset_complete(*, token: str, password: str, ip: str | None, now: datetime) -> User:
    """Set a new password with a reset link (single use).

    Raises ``NotFound`` (``link_invalid``), ``Gone`` (``link_used``, ``link_expired``) and
    ``InvalidInput`` (``password_weak``).
    """
    record = email_token_check(secret=token, purpose=EmailToken.Purpose.RESET, now=now)
    clean_password(password or "", user=record.user)
    password_hash = make_password(password)
    with transaction.atomic():
        record = _token_lock(secret=token, purposes=[EmailToken.Purpose.RESET], now=now)
        user = (
            User.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=record.user_id)
        )
        user.password = password_hash
        user.save(update_fields=["password"])
        record.used_at = now
        record.save(update_fields=["used_at"])
        _password_changed(user=user, action="password.reset", ip=ip, now=now)
    return user


def password_change(
    *, user: User, current_password: str, new_password: str, ip: str | None, now: datetime
) -> User:
    """Change the signed-in user's password (the current one is required).

    Raises ``RateLimited`` (``login_locked``), ``InvalidInput`` (``wrong_password``,
    ``password_weak``, ``password_unchanged``).
    """
    password_confirm(
        user=user, password=current_password, ip=ip, now=now, field_name="current_password"
    )
    if new_password == current_password:
        raise InvalidInput(
            _("The new password must be different from the current one."),
            code="password_unchanged",
            field="new_password",
        )
    errors = FieldErrors()
    errors.run(clean_password, new_password or "", user=user, field="new_password")
    errors.raise_if_any()
    password_hash = make_password(new_password)
    with transaction.atomic():
        locked = (
            User.objects.select_for_update(of=("self",)).select_related("account").get(pk=user.pk)
        )
        locked.password = password_hash
        locked.save(update_fields=["password"])
        _password_changed(user=locked, action="password.changed", ip=ip, now=now)
    user.password = password_hash
    return user


# ---- profile and account data ----------------------------------------------------------------


@dataclass(frozen=True)
class UserChanges:
    """A user's own data; None leaves a field as it is."""

    full_name: str | None = None
    phone: str | None = None
    language: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class AccountChanges:
    """The account's data (owners and administrators); None leaves a field as it is."""

    organization_name: str | None = None
    postal_code: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class ProfileResult:
    user: User
    changed: list[str] = field(default_factory=list)
    account_changed: list[str] = field(default_factory=list)
    email_change_requested: str | None = None


def _prefixed(errors: FieldErrors, prefix: str, rule: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return rule(*args, **kwargs)
    except InvalidInput as exc:
        exc.field = prefix + (exc.field or "")
        errors.add(exc)
        return None


def _permission_account_data() -> PermissionDenied:
    return PermissionDenied(
        _("Only the account's owners and administrators can change the account data."),
        code="permission_denied",
    )


def profile_update(
    *,
    user: User,
    user_changes: UserChanges | None = None,
    account_changes: AccountChanges | None = None,
    now: datetime,
    ip: str | None = None,
) -> ProfileResult:
    """Change the user's own data and (owners, administrators) the account's data, all or
    nothing. A new login email is only stored as pending: a link goes to the new address and
    a notice to the old one; it is applied when the link is opened.

    Raises ``PermissionDenied`` (``permission_denied``) and ``InvalidInput`` listing every
    field error (account fields are named ``account.<field>``; ``email_taken`` among them).
    """
    if account_changes is not None and not _is_manager(user):
        raise _permission_account_data()
    errors = FieldErrors()
    user_values: dict[str, str] = {}
    new_email: str | None = None
    if user_changes is not None:
        uc = user_changes
        if uc.full_name is not None:
            user_values["full_name"] = errors.run(clean_text, uc.full_name, field="full_name") or ""
        if uc.phone is not None:
            user_values["phone"] = errors.run(clean_phone, uc.phone, required=False) or ""
        if uc.language is not None:
            user_values["language"] = errors.run(clean_language, uc.language) or ""
        if uc.email is not None:
            new_email = errors.run(clean_email, uc.email)
            if new_email and new_email.lower() != user.email.lower():
                if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
                    errors.add(_email_taken())
    account_values: dict[str, str] = {}
    if account_changes is not None:
        ac = account_changes
        prefix = "account."
        rules: list[tuple[str, Any, dict[str, Any]]] = [
            ("organization_name", clean_text, {"field": "organization_name"}),
            ("postal_code", clean_postal_code, {}),
            ("address", clean_text, {"field": "address"}),
            ("phone", clean_phone, {}),
            ("email", clean_email, {}),
        ]
        for name, rule, kwargs in rules:
            value = getattr(ac, name)
            if value is not None:
                account_values[name] = _prefixed(errors, prefix, rule, value, **kwargs) or ""
    errors.raise_if_any()

    result = ProfileResult(user=user)
    with transaction.atomic():
        locked = (
            User.objects.select_for_update(of=("self",)).select_related("account").get(pk=user.pk)
        )
        for name, value in user_values.items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                result.changed.append(name)
        if new_email is not None:
            if new_email.lower() == locked.email.lower():
                if locked.pending_email:
                    locked.pending_email = ""
                    result.changed.append("pending_email")
            elif new_email.lower() != locked.pending_email.lower():
                locked.pending_email = new_email
                result.changed.append("pending_email")
                result.email_change_requested = new_email
        if result.changed:
            locked.save(update_fields=[n for n in result.changed])
            audit_record(
                action="profile.updated",
                account=locked.account,
                actor=locked,
                target=locked,
                data={
                    "changed": result.changed,
                    **({"language": locked.language} if "language" in result.changed else {}),
                },
                ip=ip,
                now=now,
            )
        if result.email_change_requested:
            _send_link(
                user=locked, purpose=EmailToken.Purpose.CHANGE, email=new_email or "", now=now
            )
            email_enqueue(
                to=locked.email,
                template="accounts/email/email_change_notice",
                context={"user": locked, "new_email": new_email, "at": now, "ip": ip or "-"},
                language=locked.language,
                account=locked.account,
            )
            audit_record(
                action="email.change_requested",
                account=locked.account,
                actor=locked,
                target=locked,
                data={"old": locked.email, "new": new_email},
                ip=ip,
                now=now,
            )
        if account_values:
            account = Account.objects.select_for_update().get(pk=locked.account_id)
            for name, value in account_values.items():
                if getattr(account, name) != value:
                    setattr(account, name, value)
                    result.account_changed.append(name)
            if result.account_changed:
                account.save(update_fields=result.account_changed)
                audit_record(
                    action="account.updated",
                    account=account,
                    actor=locked,
                    target=account,
                    data={"changed": result.account_changed},
                    ip=ip,
                    now=now,
                )
            locked.account = account
    for name in [*user_values, "pending_email", "email"]:
        setattr(user, name, getattr(locked, name))
    user.account = locked.account
    result.user = user
    return result


def account_data_confirm(*, user: User, now: datetime, ip: str | None = None) -> Account:
    """Article 2.5: an owner or administrator confirms the account data is current.

    Raises ``PermissionDenied`` (``permission_denied``).
    """
    if not _is_manager(user):
        raise _permission_account_data()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=user.account_id)
        previous = account.data_confirmed_at
        account.data_confirmed_at = now
        account.save(update_fields=["data_confirmed_at"])
        audit_record(
            action="account.data_confirmed",
            account=account,
            actor=user,
            target=account,
            data={"previous": previous},
            ip=ip,
            now=now,
        )
    user.account = account
    return account


def user_set_language(
    *, user: User, language: str, request: HttpRequest | None = None, now: datetime | None = None
) -> User:
    """Save the user's language (pages and every email to them). Raises ``InvalidInput``
    (``invalid_language``)."""
    language = clean_language(language)
    if user.language == language:
        return user
    with transaction.atomic():
        previous = user.language
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        audit_record(
            action="user.language_changed",
            account=user.account,
            actor=user,
            target=user,
            data={"from": previous, "to": language},
            ip=client_ip(request),
            now=now,
        )
    return user
