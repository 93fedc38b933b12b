"""Reading the terms: which version is current, which one a user still has to accept."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from certdesk.terms.errors import TermsNotAccepted
from certdesk.terms.models import (
    TermsAcceptance,
    TermsCancellation,
    TermsNotice,
    TermsNoticeDelivery,
    TermsVersion,
)

if TYPE_CHECKING:
    from certdesk.accounts.models import Account, User


def terms_grace() -> timedelta:
    return timedelta(days=settings.CERTDESK_TERMS_GRACE_DAYS)


def terms_published(*, now: datetime) -> QuerySet[TermsVersion]:
    """Every version published at ``now`` (scheduled ones excluded), newest first."""
    return TermsVersion.objects.filter(
        status=TermsVersion.Status.PUBLISHED, published_at__lte=now
    ).order_by("-number")


def terms_current(*, now: datetime) -> TermsVersion | None:
    """The newest published version, even while it is not yet in effect: a new customer
    agrees to the newest text."""
    return terms_published(now=now).first()


def terms_published_get(*, number: int, now: datetime) -> TermsVersion | None:
    return terms_published(now=now).filter(number=number).first()


def terms_in_effect(*, account: Account, now: datetime) -> QuerySet[TermsVersion]:
    """Versions in effect for ``account`` at ``now``, newest first: published at least the
    grace period ago, or emailed to this account already (article 11)."""
    emailed = TermsNoticeDelivery.objects.filter(
        version=OuterRef("pk"), account=account, emailed_at__lte=now
    )
    return terms_published(now=now).filter(
        Q(published_at__lte=now - terms_grace()) | Exists(emailed)
    )


def terms_effective_at(*, version: TermsVersion, account: Account) -> datetime | None:
    """When ``version`` takes (or took) effect for ``account``; None for a draft."""
    if version.published_at is None or version.is_draft:
        return None
    by_grace = version.published_at + terms_grace()
    first_email = (
        TermsNoticeDelivery.objects.filter(version=version, account=account)
        .order_by("emailed_at")
        .values_list("emailed_at", flat=True)
        .first()
    )
    if first_email is not None and first_email < by_grace:
        return max(first_email, version.published_at)
    return by_grace


def terms_pending_for(*, user: User, now: datetime) -> TermsVersion | None:
    """The newest version in effect for the user's account that the user has not accepted
    (nor any later one); None for operators, for users without an account and for accounts
    whose closure was requested (they rejected the terms already)."""
    if user.is_staff or user.account_id is None:
        return None
    account = user.account
    if account is None or account.status == account.Status.CLOSURE_REQUESTED:
        return None
    accepted_same_or_later = TermsAcceptance.objects.filter(
        user=user, version__number__gte=OuterRef("number")
    )
    newest = (
        terms_in_effect(account=account, now=now)
        .annotate(accepted=Exists(accepted_same_or_later))
        .first()
    )
    if newest is None or newest.accepted:  # type: ignore[attr-defined]
        return None
    return newest


def terms_require_accepted(*, user: User, now: datetime) -> None:
    """Raise ``TermsNotAccepted`` (403, ``terms_not_accepted``) while a version in effect
    waits for the user's acceptance; for the API, which cannot redirect to the accept page."""
    pending = terms_pending_for(user=user, now=now)
    if pending is not None:
        raise TermsNotAccepted(extra={"terms_version": pending.number})


def terms_acceptances_for_account(*, account: Account) -> QuerySet[TermsAcceptance]:
    return (
        TermsAcceptance.objects.filter(account=account)
        .select_related("user", "version")
        .order_by("-accepted_at", "-id")
    )


def terms_cancellations_for_account(*, account: Account) -> QuerySet[TermsCancellation]:
    return (
        TermsCancellation.objects.filter(account=account)
        .select_related("user", "version")
        .order_by("-requested_at")
    )


def terms_versions_all() -> QuerySet[TermsVersion]:
    """Drafts and published versions, newest number first (the console's list)."""
    return TermsVersion.objects.select_related("notice", "created_by", "published_by").order_by(
        "-number"
    )


def terms_notices_due(*, now: datetime) -> QuerySet[TermsNotice]:
    """Notices whose time has come, of versions already published, not yet completed."""
    return (
        TermsNotice.objects.filter(
            completed_at__isnull=True,
            scheduled_for__lte=now,
            version__status=TermsVersion.Status.PUBLISHED,
            version__published_at__lte=now,
        )
        .select_related("version")
        .order_by("scheduled_for", "pk")
    )
