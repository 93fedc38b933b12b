"""The worker runs every periodic job on a schedule, exactly as ``certdesk sweep`` does."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from certdesk.core import clock
from certdesk.core.sweep import sweep_run

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("certdesk-sweep")
def periodic_sweep() -> None:
    for job, summary in sweep_run(now=clock.now()):
        logger.info("sweep %s: %s", job, summary)
