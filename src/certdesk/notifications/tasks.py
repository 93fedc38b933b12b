from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from certdesk.notifications.services import email_deliver, email_deliver_due


@db_task(retries=0)
def deliver_email(message_id: int) -> None:
    email_deliver(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def deliver_due_email() -> None:
    email_deliver_due()
