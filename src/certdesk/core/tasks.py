"""The worker runs every periodic job on a schedule, exactly as ``certdesk sweep`` does.

Every minute: domain validations are re-checked on a backoff that starts at one minute, and
each job is cheap when it has nothing to do. A run still going when the next is due makes
that one skip (the lock), never run twice at once."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from certdesk.core import clock
from certdesk.core.sweep import sweep_run

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("certdesk-sweep")
def periodic_sweep() -> None:
    for job, summary in sweep_run(now=clock.now()):
        logger.info("sweep %s: %s", job, summary)
