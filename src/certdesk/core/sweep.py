"""Periodic jobs. Each is ``job(*, now, dry_run) -> str`` (a one-line summary), listed by
dotted path in ``settings.CERTDESK_SWEEP_JOBS``; ``certdesk sweep --now`` runs them all as of
one moment and the worker runs them on schedule, so no rule about days reads the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string


class SweepJob(Protocol):
    def __call__(self, *, now: datetime, dry_run: bool) -> str: ...


@cache
def sweep_jobs() -> tuple[tuple[str, Callable[..., str]], ...]:
    return tuple((path, import_string(path)) for path in settings.CERTDESK_SWEEP_JOBS)


@receiver(setting_changed)
def _reset_jobs(*, setting: str, **kwargs: object) -> None:
    if setting == "CERTDESK_SWEEP_JOBS":
        sweep_jobs.cache_clear()


def sweep_run(*, now: datetime, dry_run: bool = False) -> list[tuple[str, str]]:
    """Run every periodic job once as of ``now``; return (job, summary) pairs."""
    return [(path, job(now=now, dry_run=dry_run)) for path, job in sweep_jobs()]
