"""A frozen clock for views and middleware (``certdesk.core.clock.now``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def tick(self, **kwargs: float) -> datetime:
        self.value += timedelta(**kwargs)
        return self.value

    def set(self, value: datetime) -> None:
        self.value = value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
    monkeypatch.setattr("certdesk.core.clock.now", frozen)
    return frozen
