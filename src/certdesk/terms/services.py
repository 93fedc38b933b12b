"""Writes for the terms of use: accept, reject and cancel, and the operator's versions/notices.

Rules (articles 1.1 and 11): registration accepts the newest published version; a new
version takes effect for an account 15 days after publication or when that account is emailed
about it; a user then accepts it, or the account's owner rejects it and asks for closure
(unpaid invoices stay owed). Drafts are editable, published versions never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account, User
from certdesk.audit.services import audit_record
from certdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certdesk.notifications.services import email_enqueue
from certdesk.terms.models import (
    TermsAcceptance,
    TermsCancellation,
    TermsNotice,
    TermsNoticeDelivery,
    TermsVersion,
)
from certdesk.terms.selectors import terms_notices_due

REASON_MAX = 2000


def _require_published(version: TermsVersion, now: datetime) -> None:
    if version.is_draft or version.published_at is None or version.published_at > now:
        raise InvalidInput(
            _("This version of the terms of use is not published."),
            code="terms_not_published",
            field="version",
        )


def terms_accept(
    *, user: User, version: TermsVersion, ip: str | None, now: datetime
) -> TermsAcceptance:
    """Record that ``user`` accepts ``version``; accepting it again keeps the first record.

    Raises ``InvalidInput`` (``terms_not_published``) for a draft or scheduled version.
    """
    _require_published(version, now)
    with transaction.atomic():
        acceptance, created = TermsAcceptance.objects.get_or_create(
            user=user,
            version=version,
            defaults={"account_id": user.account_id, "accepted_at": now, "ip": ip or None},
        )
        if created:
            audit_record(
                action="terms.accepted",
                account=user.account,
                actor=user,
                target=acceptance,
                data={"version": version.number},
                ip=ip or None,
                now=now,
            )
    return acceptance


def terms_reject_and_cancel(
    *,
    user: User,
    version: TermsVersion,
    password: str,
    confirmed: bool,
    reason: str,
    ip: str | None,
    now: datetime,
) -> TermsCancellation:
    """The account's owner rejects ``version`` and asks to close the account (article 11).

    The account becomes ``closure_requested``: users can still sign in to download their data
    until the operator deletes it; unpaid invoices stay owed.
    Raises ``PermissionDenied`` (``owner_required``) for anyone but an owner,
    ``InvalidInput`` for a missing confirmation or a wrong password, ``Conflict`` when the
    closure was already requested.
    """
    if user.account_id is None or user.role != User.Role.OWNER:
        raise PermissionDenied(
            _("Only the account owner can reject the terms and cancel the account."),
            code="owner_required",
        )
    _require_published(version, now)
    if not confirmed:
        raise InvalidInput(
            _("Tick the box to confirm that you want to cancel the account."),
            code="confirmation_required",
            field="confirm",
        )
    if not password or not user.check_password(password):
        raise InvalidInput(
            _("The password is not correct."), code="wrong_password", field="password"
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long (at most 2000 characters)."),
            code="reason_too_long",
            field="reason",
        )
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=user.account_id)
        if account.status == Account.Status.CLOSURE_REQUESTED:
            raise Conflict(
                _("The closure of this account has already been requested."),
                code="closure_already_requested",
            )
        cancellation = TermsCancellation.objects.create(
            account=account,
            user=user,
            version=version,
            reason=reason,
            requested_at=now,
            ip=ip or None,
        )
        previous = account.status
        account.status = Account.Status.CLOSURE_REQUESTED
        account.closure_requested_at = now
        account.save(update_fields=["status", "closure_requested_at"])
        audit_record(
            action="account.closure_requested",
            account=account,
            actor=user,
            target=cancellation,
            data={"terms_version": version.number, "reason": reason, "previous_status": previous},
            ip=ip or None,
            now=now,
        )
        email_enqueue(
            to=user.email,
            template="terms/email/closure_requested",
            context={"user": user, "account": account, "version": version, "requested_at": now},
            language=user.language,
            account=account,
        )
    user.account = account
    return cancellation


# ---- operator: versions ------------------------------------------------------------------


@dataclass(frozen=True)
class TermsText:
    """The editable content of a version."""

    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    summary_ja: str = ""
    summary_en: str = ""

    def cleaned(self) -> TermsText:
        """Trimmed copy; raises ``InvalidInput`` naming the first empty or too long field."""
        values = {k: (getattr(self, k) or "").strip() for k in self.__dataclass_fields__}
        required = {
            "title_ja": _("Enter the Japanese title."),
            "title_en": _("Enter the English title."),
            "body_ja": _("Enter the Japanese text."),
            "body_en": _("Enter the English text."),
        }
        for field, message in required.items():
            if not values[field]:
                raise InvalidInput(message, code="required", field=field)
        for field in ("title_ja", "title_en"):
            if len(values[field]) > 200:
                raise InvalidInput(
                    _("The title is too long (at most 200 characters)."),
                    code="too_long",
                    field=field,
                )
        return TermsText(**values)


def _require_operator(actor: User) -> None:
    if not (actor.is_active and actor.is_staff):
        raise NotFound()


def _lock_draft(version: TermsVersion) -> TermsVersion:
    locked = TermsVersion.objects.select_for_update().filter(pk=version.pk).first()
    if locked is None:
        raise NotFound(_("This version of the terms of use does not exist."))
    if not locked.is_draft:
        raise Conflict(
            _("A published version can no longer be changed. Create a new version instead."),
            code="terms_published_immutable",
        )
    return locked


def terms_draft_create(
    *, actor: User, text: TermsText, now: datetime, ip: str | None = None
) -> TermsVersion:
    """Create the next version as a draft (its number is the next free one).

    Raises ``Conflict`` (``terms_draft_exists``) when a draft is already being prepared:
    versions are published in number order.
    """
    _require_operator(actor)
    text = text.cleaned()
    with transaction.atomic():
        # Serialise drafts: the newest version row is the lock everybody takes.
        list(TermsVersion.objects.select_for_update().order_by("-number")[:1])
        if TermsVersion.objects.filter(status=TermsVersion.Status.DRAFT).exists():
            raise Conflict(
                _("A draft already exists. Publish or delete it before starting another."),
                code="terms_draft_exists",
            )
        number = (TermsVersion.objects.aggregate(m=Max("number"))["m"] or 0) + 1
        version = TermsVersion.objects.create(
            number=number,
            created_at=now,
            updated_at=now,
            created_by=actor,
            **_text_fields(text),
        )
        audit_record(
            action="terms.draft_created",
            actor=actor,
            target=version,
            data={"version": number},
            now=now,
            ip=ip,
        )
    return version


def _text_fields(text: TermsText) -> dict[str, str]:
    return {k: getattr(text, k) for k in text.__dataclass_fields__}


def terms_draft_update(
    *, actor: User, version: TermsVersion, text: TermsText, now: datetime, ip: str | None = None
) -> TermsVersion:
    """Change a draft's text. Raises ``Conflict`` for a published version."""
    _require_operator(actor)
    text = text.cleaned()
    with transaction.atomic():
        locked = _lock_draft(version)
        changed = [k for k, v in _text_fields(text).items() if getattr(locked, k) != v]
        for key, value in _text_fields(text).items():
            setattr(locked, key, value)
        locked.updated_at = now
        locked.save()
        audit_record(
            action="terms.draft_updated",
            actor=actor,
            target=locked,
            data={"version": locked.number, "changed": changed},
            now=now,
            ip=ip,
        )
    return locked


def terms_draft_delete(
    *, actor: User, version: TermsVersion, now: datetime, ip: str | None = None
) -> None:
    """Delete a draft. Raises ``Conflict`` for a published version."""
    _require_operator(actor)
    with transaction.atomic():
        locked = _lock_draft(version)
        number = locked.number
        audit_record(
            action="terms.draft_deleted",
            actor=actor,
            target=locked,
            data={"version": number},
            now=now,
            ip=ip,
        )
        locked.delete()


def terms_publish(
    *,
    actor: User,
    version: TermsVersion,
    at: datetime | None,
    now: datetime,
    ip: str | None = None,
) -> TermsVersion:
    """Publish a draft now (``at`` None) or at a later moment (scheduled).

    Raises ``InvalidInput`` (``publish_in_past``) for a moment before ``now`` or before the
    previous version's publication, ``Conflict`` if the version is not a draft.
    """
    _require_operator(actor)
    at = now if at is None else at
    if at < now:
        raise InvalidInput(
            _("A version cannot be published in the past. Choose now or a later time."),
            code="publish_in_past",
            field="published_at",
        )
    with transaction.atomic():
        locked = _lock_draft(version)
        previous = (
            TermsVersion.objects.filter(status=TermsVersion.Status.PUBLISHED)
            .order_by("-number")
            .first()
        )
        if previous is not None and previous.published_at and at < previous.published_at:
            raise InvalidInput(
                _("Version %(number)s is scheduled later; publish this one after it.")
                % {"number": previous.number},
                code="publish_before_previous",
                field="published_at",
            )
        locked.status = TermsVersion.Status.PUBLISHED
        locked.published_at = at
        locked.published_by = actor
        locked.updated_at = now
        locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        audit_record(
            action="terms.published",
            actor=actor,
            target=locked,
            data={"version": locked.number, "published_at": at.isoformat(), "scheduled": at > now},
            now=now,
            ip=ip,
        )
    return locked


def terms_publication_cancel(
    *, actor: User, version: TermsVersion, now: datetime, ip: str | None = None
) -> TermsVersion:
    """Turn a scheduled (not yet published) version back into a draft, with its notice.

    Raises ``Conflict`` (``terms_already_public``) once the publication moment has passed.
    """
    _require_operator(actor)
    with transaction.atomic():
        locked = TermsVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None:
            raise NotFound(_("This version of the terms of use does not exist."))
        if locked.is_draft:
            raise Conflict(_("This version is not scheduled."), code="terms_not_scheduled")
        if locked.published_at is not None and locked.published_at <= now:
            raise Conflict(
                _("This version is already public and can no longer be withdrawn."),
                code="terms_already_public",
            )
        if TermsVersion.objects.filter(number__gt=locked.number).exists():
            raise Conflict(
                _("A later version exists; withdraw or delete it first."),
                code="terms_later_version_exists",
            )
        TermsNotice.objects.filter(version=locked).delete()
        was = locked.published_at
        locked.status = TermsVersion.Status.DRAFT
        locked.published_at = None
        locked.published_by = None
        locked.updated_at = now
        locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        audit_record(
            action="terms.publication_cancelled",
            actor=actor,
            target=locked,
            data={"version": locked.number, "was_scheduled_for": was.isoformat() if was else None},
            now=now,
            ip=ip,
        )
    return locked


def terms_notice_schedule(
    *,
    actor: User,
    version: TermsVersion,
    at: datetime | None,
    now: datetime,
    ip: str | None = None,
) -> TermsNotice:
    """Order the email notice of a published (or scheduled) version for ``at`` (None: now).

    Raises ``InvalidInput`` for a draft, a moment in the past or before the publication,
    ``Conflict`` when the notice has already been sent.
    """
    _require_operator(actor)
    at = now if at is None else at
    if version.is_draft or version.published_at is None:
        raise InvalidInput(
            _("Publish the version before scheduling its email notice."),
            code="terms_not_published",
            field="version",
        )
    if at < now:
        raise InvalidInput(
            _("The notice cannot be sent in the past. Choose now or a later time."),
            code="notice_in_past",
            field="scheduled_for",
        )
    if at < version.published_at:
        raise InvalidInput(
            _("The notice cannot be sent before the version is published."),
            code="notice_before_publication",
            field="scheduled_for",
        )
    with transaction.atomic():
        notice = TermsNotice.objects.select_for_update().filter(version=version).first()
        if notice is not None and (notice.completed_at or notice.scheduled_for <= now):
            raise Conflict(
                _("The email notice of this version has already been sent or is being sent."),
                code="notice_already_sent",
            )
        if notice is None:
            notice = TermsNotice(version=version, created_at=now, created_by=actor)
        notice.scheduled_for = at
        notice.save()
        audit_record(
            action="terms.notice_scheduled",
            actor=actor,
            target=version,
            data={"version": version.number, "scheduled_for": at.isoformat()},
            now=now,
            ip=ip,
        )
    return notice


# ---- the notice job --------------------------------------------------------------------


def _notice_recipients(version: TermsVersion) -> dict[int, list[User]]:
    """Active users of active accounts not yet emailed about ``version``, by account."""
    already = TermsNoticeDelivery.objects.filter(version=version).values("user_id")
    users = (
        User.objects.filter(
            is_active=True,
            is_staff=False,
            account__isnull=False,
            account__status=Account.Status.ACTIVE,
        )
        .exclude(pk__in=already)
        .select_related("account")
        .order_by("account_id", "pk")
    )
    by_account: dict[int, list[User]] = {}
    for user in users.iterator(chunk_size=2000):
        by_account.setdefault(user.account_id, []).append(user)  # type: ignore[arg-type]
    return by_account


def terms_notice_send_due(*, now: datetime, dry_run: bool = False) -> tuple[int, int]:
    """Email every due notice to every active user of every active account, each in their
    language, recording the delivery (which puts the version in effect for that account now).

    Idempotent: users already emailed are skipped; a run that was missed or interrupted
    catches up on the next one. Returns (accounts, emails).
    """
    accounts_done = emails = 0
    for notice in terms_notices_due(now=now):
        version = notice.version
        for recipients in _notice_recipients(version).values():
            accounts_done += 1
            emails += len(recipients)
            if dry_run:
                continue
            # One transaction per account: the mail and the record that it was sent go
            # together, and an interruption leaves the finished accounts finished.
            with transaction.atomic():
                account = recipients[0].account
                for user in recipients:
                    TermsNoticeDelivery.objects.create(
                        version=version,
                        account=account,
                        user=user,
                        email=user.email,
                        emailed_at=now,
                    )
                    email_enqueue(
                        to=user.email,
                        template="terms/email/new_version",
                        context={
                            "user": user,
                            "account": account,
                            "version": version,
                            "title": version.title(user.language),
                            "summary": version.summary(user.language),
                        },
                        language=user.language,
                        account=account,
                    )
                audit_record(
                    action="terms.notice_emailed",
                    account=account,
                    target=version,
                    data={"version": version.number, "recipients": len(recipients)},
                    now=now,
                )
        if not dry_run:
            with transaction.atomic():
                TermsNotice.objects.filter(pk=notice.pk, completed_at__isnull=True).update(
                    completed_at=now
                )
                audit_record(
                    action="terms.notice_completed",
                    target=version,
                    data={"version": version.number},
                    now=now,
                )
    return accounts_done, emails
