"""The one place certdesk reads the wall clock; services take ``now`` as a parameter."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Return the current aware UTC time."""
    return timezone.now()
