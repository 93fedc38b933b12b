"""Mail is queued with the change that causes it and delivered by the worker, with retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from certdesk.notifications.models import OutboundEmail
from certdesk.notifications.services import email_deliver, email_deliver_due, email_enqueue
from tests.conftest import free_port

pytestmark = pytest.mark.django_db

TEMPLATE = "notifications/test_message"


def enqueue(language: str = "ja") -> OutboundEmail:
    return email_enqueue(
        to="taro@example.co.jp", template=TEMPLATE, context={"name": "山田"}, language=language
    )


def test_mail_is_delivered_through_a_real_smtp_server(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue()
    message.refresh_from_db()
    assert message.status == OutboundEmail.Status.SENT
    [received] = smtp_server.messages
    assert received["To"] == "taro@example.co.jp"
    assert received["Subject"] == "certdesk からのお知らせ"
    assert "山田 様" in received.get_content()
    assert received["Content-Language"] == "ja"


def test_mail_is_rendered_in_the_recipients_language(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(language="en")
    [received] = smtp_server.messages
    assert received["Subject"] == "A message from certdesk"
    assert "Dear 山田" in received.get_content()


def test_rolled_back_change_sends_no_mail(smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                enqueue()
                raise RuntimeError("the change failed")
    assert OutboundEmail.objects.count() == 0
    assert smtp_server.messages == []


def test_smtp_outage_delays_mail_and_a_later_sweep_delivers_it(settings, smtp_server):
    port = smtp_server.port
    settings.EMAIL_PORT = free_port()  # nothing listens there: connection refused
    now = timezone.now()
    message = enqueue()
    assert email_deliver(message_id=message.pk, now=now) is False
    message.refresh_from_db()
    assert message.status == OutboundEmail.Status.PENDING
    assert message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at > now

    settings.EMAIL_PORT = port
    # Not due yet: nothing is retried before the backoff has passed.
    assert email_deliver_due(now=now) == 0
    assert email_deliver_due(now=message.next_attempt_at + timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == OutboundEmail.Status.SENT
    assert len(smtp_server.messages) == 1


def test_delivery_is_never_repeated_for_a_sent_message(smtp_server):
    message = enqueue()
    assert email_deliver(message_id=message.pk) is True
    assert email_deliver(message_id=message.pk) is False
    assert len(smtp_server.messages) == 1


def test_outbox_backend_writes_eml_files(settings, tmp_path):
    settings.EMAIL_BACKEND = "certdesk.notifications.backends.OutboxFileBackend"
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    message = enqueue()
    assert email_deliver(message_id=message.pk) is True
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    assert "taro@example.co.jp" in path.read_text()
