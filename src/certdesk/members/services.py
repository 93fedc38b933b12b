"""Writes for members: invite, accept an invitation, change a role, remove, revoke a link.

Rules (terms 2.2, credentials are never shared): owners and administrators manage members;
only an owner invites or appoints owners and administrators, or changes and removes them;
nobody changes their own role or removes themselves; an account always keeps an active owner.
Every change locks the account row first, so that two owners demoting each other at once
cannot leave the account without one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account, User
from certdesk.accounts.validation import (
    FieldErrors,
    clean_email,
    clean_password,
    clean_text,
    clean_username,
)
from certdesk.audit.services import audit_record
from certdesk.core.digests import secret_digest
from certdesk.core.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from certdesk.members.models import Invitation
from certdesk.members.roles import MANAGER_ROLES, OWNER_ONLY_ROLES, role_label
from certdesk.notifications.services import email_enqueue

if TYPE_CHECKING:
    from django.http import HttpRequest

INVITATION_VALIDITY = timedelta(days=7)
SECRET_BYTES = 32
# Each invitation sends an email: cap how many one account can send, against abuse.
INVITATIONS_PER_HOUR = 20
LANGUAGES = ("ja", "en")

Role = User.Role


invitation_secret_hash = secret_digest


def invitation_accept_url(secret: str) -> str:
    return settings.SITE_URL + reverse("members:accept", kwargs={"secret": secret})


def require_manager(actor: User) -> None:
    if not actor.is_active or actor.account_id is None or actor.role not in MANAGER_ROLES:
        raise PermissionDenied(
            _("Only the account's owners and administrators can manage members.")
        )


def _require_owner_for(actor: User, role: str) -> None:
    if role in OWNER_ONLY_ROLES and actor.role != Role.OWNER:
        raise PermissionDenied(
            _("Only an owner can invite or appoint owners and administrators."),
            code="owner_required",
            field="role",
        )


def _lock_account(actor: User) -> Account:
    """Lock the actor's account row, then re-check the actor's own role as it is now: a
    concurrent change may have demoted or removed them since their request began."""
    account = Account.objects.select_for_update().get(pk=actor.account_id)
    current = User.objects.filter(pk=actor.pk).values_list("role", "is_active").first()
    if current is not None:
        actor.role, actor.is_active = current
    require_manager(actor)
    return account


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidInput(
            _("Choose one of the roles: owner, administrator, member, read-only."),
            code="role_invalid",
            field="role",
        )
    return role


def _email_in_use_error(*, email: str, account_id: int) -> InvalidInput | None:
    existing = User.objects.filter(email__iexact=email).only("account_id", "is_active").first()
    if existing is None:
        return None
    if existing.account_id == account_id and existing.is_active:
        return InvalidInput(
            _("This person is already a member of this account."),
            code="already_member",
            field="email",
        )
    return InvalidInput(
        _(
            "A certdesk user with this email address already exists. Each person signs in "
            "with one user; invite another address."
        ),
        code="email_taken",
        field="email",
    )


def _member_for_update(*, account_id: int, member_id: int) -> User:
    member = (
        User.objects.select_for_update()
        .filter(account_id=account_id, pk=member_id, is_active=True)
        .first()
    )
    if member is None:
        raise NotFound(_("This member does not exist."), code="member_not_found")
    return member


def _check_last_owner(*, account_id: int, member: User, new_role: str | None) -> None:
    """Refuse when ``member`` is the last active owner and would stop being one."""
    if member.role != Role.OWNER or new_role == Role.OWNER:
        return
    others = (
        User.objects.filter(account_id=account_id, role=Role.OWNER, is_active=True)
        .exclude(pk=member.pk)
        .exists()
    )
    if not others:
        raise Conflict(
            _("The account must keep at least one active owner. Appoint another owner first."),
            code="last_owner",
        )


def member_invite(
    *,
    actor: User,
    email: str,
    role: str,
    language: str | None = None,
    now: datetime,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite ``email`` to join the actor's account as ``role``; email them a 7-day link.

    Re-inviting an address with an open invitation replaces its link. The email is written
    in ``language`` (default: the actor's). Raises ``PermissionDenied`` (not a manager;
    ``owner_required``), ``InvalidInput`` (``field_required``, ``invalid_email``,
    ``role_invalid``, ``language_invalid``, ``already_member``, ``email_taken``) and
    ``RateLimited`` (``too_many_invitations``).
    """
    require_manager(actor)
    address = clean_email(email)
    clean_role = _clean_role(role)
    _require_owner_for(actor, clean_role)
    language = language or actor.language
    if language not in LANGUAGES:
        raise InvalidInput(
            _("Choose Japanese or English."), code="language_invalid", field="language"
        )
    account_id = actor.account_id
    assert account_id is not None
    with transaction.atomic():
        account = _lock_account(actor)
        error = _email_in_use_error(email=address, account_id=account_id)
        if error is not None:
            raise error
        window_start = now - timedelta(hours=1)
        recent = list(
            Invitation.objects.filter(account=account, created_at__gt=window_start)
            .order_by("created_at")
            .values_list("created_at", flat=True)[:INVITATIONS_PER_HOUR]
        )
        if len(recent) >= INVITATIONS_PER_HOUR:
            retry_after = int((recent[0] + timedelta(hours=1) - now).total_seconds()) + 1
            raise RateLimited(
                _("Too many invitations in the last hour. Please try again later."),
                retry_after=max(retry_after, 1),
                code="too_many_invitations",
            )
        for previous in Invitation.objects.select_for_update().filter(
            account=account,
            email__iexact=address,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ):
            previous.revoked_at = now
            previous.save(update_fields=["revoked_at"])
            audit_record(
                action="invitation.revoked",
                account=account,
                actor=actor,
                target=previous,
                data={"email": previous.email, "reason": "replaced"},
                request=request,
                now=now,
            )
        secret = secrets.token_urlsafe(SECRET_BYTES)
        invitation = Invitation.objects.create(
            account=account,
            email=address,
            role=clean_role,
            language=language,
            token_hash=invitation_secret_hash(secret),
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_VALIDITY,
        )
        audit_record(
            action="member.invited",
            account=account,
            actor=actor,
            target=invitation,
            data={"email": address, "role": clean_role, "language": language},
            request=request,
            now=now,
        )
        email_enqueue(
            to=address,
            template="members/email/invitation",
            context={
                "inviter_name": actor.full_name or actor.username,
                "organization_name": account.organization_name,
                "account_number": account.number,
                "role_label": role_label(clean_role),
                "accept_url": invitation_accept_url(secret),
                "expires_at": invitation.expires_at,
            },
            language=language,
            account=account,
        )
    return invitation


def invitation_revoke(
    *, actor: User, invitation_id: int, now: datetime, request: HttpRequest | None = None
) -> Invitation:
    """Revoke an open invitation of the actor's account: its link stops working at once.

    Raises ``PermissionDenied`` (not a manager; ``owner_required`` for an owner or
    administrator invitation revoked by an administrator), ``NotFound``
    (``invitation_not_found``, also for other accounts' ids) and ``Conflict``
    (``invitation_closed``: already accepted or revoked).
    """
    require_manager(actor)
    with transaction.atomic():
        _lock_account(actor)
        invitation = (
            Invitation.objects.select_for_update()
            .filter(account_id=actor.account_id, pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise NotFound(_("This invitation does not exist."), code="invitation_not_found")
        _require_owner_for(actor, invitation.role)
        if not invitation.is_open:
            raise Conflict(
                _("This invitation was already accepted or revoked."), code="invitation_closed"
            )
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            action="invitation.revoked",
            account=invitation.account,
            actor=actor,
            target=invitation,
            data={"email": invitation.email, "reason": "revoked"},
            request=request,
            now=now,
        )
    return invitation


def invitation_for_secret(*, secret: str, now: datetime) -> Invitation:
    """The open, unexpired invitation behind a link, with its account.

    Raises ``Gone`` (``invitation_invalid``: unknown, used or revoked; ``invitation_expired``).
    """
    invitation = (
        Invitation.objects.select_related("account", "invited_by")
        .filter(token_hash=invitation_secret_hash(secret or ""))
        .first()
    )
    _check_usable(invitation, now)
    assert invitation is not None
    return invitation


def _check_usable(invitation: Invitation | None, now: datetime) -> None:
    if invitation is None or not invitation.is_open:
        raise Gone(
            _(
                "This invitation link is not valid: it was already used or revoked. Ask the "
                "account's owner or administrator for a new invitation."
            ),
            code="invitation_invalid",
        )
    if invitation.expires_at <= now:
        raise Gone(
            _(
                "This invitation link has expired. Ask the account's owner or administrator "
                "to invite you again."
            ),
            code="invitation_expired",
        )
    if invitation.account.status == Account.Status.DISABLED:
        raise PermissionDenied(
            _("This account is disabled. Please contact us for details."),
            code="account_disabled",
        )


def _terms_current(now: datetime) -> Any:
    try:
        from certdesk.terms.selectors import terms_current
    except ImportError:
        return None
    return terms_current(now=now)


def _clean_new_user(*, username: str, password: str, full_name: str, user: User) -> tuple[str, str]:
    """Registration's rules for the account ID, name and password, every failure at once."""
    errors = FieldErrors()
    clean_name = errors.run(clean_text, full_name, field="full_name") or ""
    clean_id = errors.run(clean_username, username) or ""
    user.username = clean_id
    user.full_name = clean_name
    errors.run(clean_password, password or "", user=user)
    errors.raise_if_any()
    return clean_id, clean_name


def invitation_accept(
    *,
    secret: str,
    username: str,
    password: str,
    full_name: str,
    accept_terms: bool,
    ip: str | None,
    now: datetime,
    request: HttpRequest | None = None,
) -> User:
    """Turn an invitation into a user of its account with its role; the link is then spent.

    The invitee chooses their own account ID and password (registration's rules) and accepts
    the current terms of use. Their email is verified by following the link. Raises ``Gone``
    (``invitation_invalid``, ``invitation_expired``), ``PermissionDenied``
    (``account_disabled``), ``InvalidInput`` (registration's name, account ID and password
    rules: ``field_required``, ``invalid_account_id``, ``account_id_reserved``,
    ``password_weak``; ``account_id_taken``, ``terms_not_accepted``) and ``Conflict``
    (``email_taken``).
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("account", "invited_by")
            .filter(token_hash=invitation_secret_hash(secret or ""))
            .first()
        )
        _check_usable(invitation, now)
        assert invitation is not None
        account = invitation.account
        candidate = User(email=invitation.email, account=account, role=invitation.role)
        clean_username, full_name = _clean_new_user(
            username=username, password=password, full_name=full_name, user=candidate
        )
        version = _terms_current(now)
        if version is not None and not accept_terms:
            raise InvalidInput(
                _("Please read and accept the terms of use."),
                code="terms_not_accepted",
                field="accept_terms",
            )
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(
                _(
                    "A certdesk user with this email address already exists, so this invitation "
                    "cannot be used. Ask for an invitation to another address."
                ),
                code="email_taken",
            )
        if User.objects.filter(username=clean_username).exists():
            raise _username_taken()
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    clean_username,
                    password,
                    email=invitation.email,
                    full_name=full_name,
                    language=invitation.language,
                    account=account,
                    role=invitation.role,
                    email_verified_at=now,
                    date_joined=now,
                )
        except IntegrityError:
            # A concurrent sign-up took the ID (or the address) between the check and insert.
            raise _username_taken() from None
        if version is not None:
            from certdesk.terms.services import terms_accept

            terms_accept(user=user, version=version, ip=ip, now=now)
        invitation.accepted_at = now
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
        audit_record(
            action="member.joined",
            account=account,
            actor=user,
            target=user,
            data={"invitation": invitation.pk, "role": invitation.role, "email": user.email},
            request=request,
            ip=ip,
            now=now,
        )
        inviter = invitation.invited_by
        if inviter is not None and inviter.is_active and inviter.account_id == account.pk:
            email_enqueue(
                to=inviter.email,
                template="members/email/member_joined",
                context={
                    "recipient_name": inviter.full_name or inviter.username,
                    "member_name": user.full_name,
                    "member_username": user.username,
                    "member_email": user.email,
                    "role_label": role_label(user.role),
                    "organization_name": account.organization_name,
                },
                language=inviter.language,
                account=account,
            )
    return user


def _username_taken() -> InvalidInput:
    return InvalidInput(
        _("This account ID is already taken. Choose another one."),
        code="account_id_taken",
        field="username",
    )


def member_role_change(
    *, actor: User, member_id: int, role: str, now: datetime, request: HttpRequest | None = None
) -> User:
    """Give an active member of the actor's account a new role.

    Raises ``PermissionDenied`` (not a manager; ``owner_required``), ``NotFound``
    (``member_not_found``, also for other accounts' ids), ``InvalidInput`` (``role_invalid``)
    and ``Conflict`` (``last_owner``, ``own_role``).
    """
    require_manager(actor)
    clean_role = _clean_role(role)
    assert actor.account_id is not None
    with transaction.atomic():
        _lock_account(actor)
        member = _member_for_update(account_id=actor.account_id, member_id=member_id)
        if member.role == clean_role:
            return member
        if member.pk == actor.pk:
            # The sole owner learns why stepping down is refused; anyone else, that nobody
            # changes their own role.
            _check_last_owner(account_id=actor.account_id, member=member, new_role=clean_role)
            raise Conflict(
                _("You cannot change your own role. Ask another owner."), code="own_role"
            )
        _require_owner_for(actor, member.role)
        _require_owner_for(actor, clean_role)
        _check_last_owner(account_id=actor.account_id, member=member, new_role=clean_role)
        previous = member.role
        member.role = clean_role
        member.save(update_fields=["role"])
        audit_record(
            action="member.role_changed",
            account=member.account,
            actor=actor,
            target=member,
            data={"username": member.username, "from": previous, "to": clean_role},
            request=request,
            now=now,
        )
    return member


def member_remove(
    *, actor: User, member_id: int, now: datetime, request: HttpRequest | None = None
) -> User:
    """Remove a member: the user is deactivated (kept for the audit trail), their API tokens
    revoked and their sessions end.

    Raises ``PermissionDenied`` (not a manager; ``owner_required``), ``NotFound``
    (``member_not_found``) and ``Conflict`` (``last_owner``, ``remove_self``).
    """
    from certdesk.tokens.services import tokens_revoke_for_user

    require_manager(actor)
    assert actor.account_id is not None
    with transaction.atomic():
        _lock_account(actor)
        member = _member_for_update(account_id=actor.account_id, member_id=member_id)
        if member.pk == actor.pk:
            _check_last_owner(account_id=actor.account_id, member=member, new_role=None)
            raise Conflict(
                _("You cannot remove yourself. Ask another owner or administrator."),
                code="remove_self",
            )
        _require_owner_for(actor, member.role)
        _check_last_owner(account_id=actor.account_id, member=member, new_role=None)
        member.is_active = False
        member.save(update_fields=["is_active"])
        revoked = tokens_revoke_for_user(user=member, actor=actor, now=now, request=request)
        audit_record(
            action="member.removed",
            account=member.account,
            actor=actor,
            target=member,
            data={"username": member.username, "role": member.role, "tokens_revoked": revoked},
            request=request,
            now=now,
        )
    return member
