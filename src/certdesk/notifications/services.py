"""Queue and deliver email. Queuing is part of the caller's transaction; delivery retries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from certdesk.core import clock
from certdesk.notifications.models import OutboundEmail

if TYPE_CHECKING:
    from certdesk.accounts.models import Account

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


def email_enqueue(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str,
    account: Account | None = None,
) -> OutboundEmail:
    """Render ``<template>_subject.txt`` and ``<template>.txt`` in ``language`` and queue them.

    Delivery is scheduled when the surrounding transaction commits; if it rolls back the mail
    is never sent, and if SMTP is down the worker retries with backoff.
    """
    ctx = {"SITE_URL": settings.SITE_URL, "language": language, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())
        body = render_to_string(f"{template}.txt", ctx)
    message = OutboundEmail.objects.create(
        to=to,
        subject=subject[:300],
        body=body,
        language=language,
        template=template,
        account=account,
    )
    transaction.on_commit(lambda: _schedule_delivery(message.pk))
    return message


def _schedule_delivery(message_id: int) -> None:
    from certdesk.notifications.tasks import deliver_email

    try:
        deliver_email(message_id)
    except Exception:  # noqa: BLE001 - the periodic sweep delivers it later
        logger.warning("could not schedule delivery of email %s; sweep will retry", message_id)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** (attempts - 1), 6 * 3600))


def email_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Send one queued message; on failure record the error and when to try again."""
    now = now or clock.now()
    with transaction.atomic():
        message = (
            OutboundEmail.objects.select_for_update()
            .filter(pk=message_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if message is None:
            return False
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Content-Language": message.language, "X-Certdesk-Template": message.template},
        )
        message.attempts += 1
        try:
            get_connection(fail_silently=False).send_messages([email])
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboundEmail.Status.FAILED
            message.next_attempt_at = now + _backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return False
        message.status = OutboundEmail.Status.SENT
        message.sent_at = now
        message.last_error = ""
        message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True


def email_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Deliver every pending message whose retry time has come; return how many were sent."""
    now = now or clock.now()
    due = list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(email_deliver(message_id=pk, now=now) for pk in due)
