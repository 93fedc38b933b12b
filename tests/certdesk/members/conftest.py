"""Fixtures for member and token tests: a frozen clock and Bearer-authenticated clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from certdesk.accounts.models import User
from tests.certdesk.members.factories import AccountFactory, UserFactory, token_for


class FrozenClock:
    """Replaces ``certdesk.core.clock.now`` for the views; move it with ``tick``/``set``."""

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
    frozen = FrozenClock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr("certdesk.core.clock.now", frozen)
    return frozen


@pytest.fixture
def owner(db: Any) -> User:
    return UserFactory(role=User.Role.OWNER, account=AccountFactory())


class ApiClient:
    """A test client that sends ``Authorization: Bearer`` and JSON."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.headers)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            path, data=data or {}, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, data: Any = None) -> Any:
        return self.client.patch(
            path, data=data or {}, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api_as() -> Callable[..., ApiClient]:
    """``api_as(user, scopes=[...])``: a client carrying a fresh token of ``user``."""

    def make(user: User, scopes: list[str] | None = None) -> ApiClient:
        if scopes is None:
            scopes = (
                ["account:read", "certificates:read", "billing:read"]
                if user.role == User.Role.READ_ONLY
                else ["account:write", "certificates:write", "billing:read"]
            )
        return ApiClient(token_for(user, scopes=scopes).secret)

    return make


@pytest.fixture
def portal_as() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
