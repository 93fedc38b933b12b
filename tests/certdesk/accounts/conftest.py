"""Fixtures for account tests: a frozen clock, signed-in clients, Bearer clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.test import TestCase
from django.utils import timezone

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent
from tests.certdesk.accounts.factories import PASSWORD, UserFactory


class Client(DjangoClient):
    """A test client whose requests "commit": the on-commit callbacks a request leaves behind
    (mail delivery) run when it returns, as they would after a real transaction."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


class FrozenClock:
    """Replaces ``certdesk.core.clock.now`` for views and services; move it with ``tick``."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def tick(self, **kwargs: float) -> datetime:
        self.value += timedelta(**kwargs)
        return self.value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr("certdesk.core.clock.now", frozen)
    return frozen


@pytest.fixture
def owner(db: Any) -> User:
    return UserFactory(role=User.Role.OWNER)


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def actions(**filters: Any) -> list[str]:
    """Audit actions recorded so far, oldest first."""
    return list(
        AuditEvent.objects.filter(**filters).order_by("pk").values_list("action", flat=True)
    )


class ApiClient:
    """A test client that sends ``Authorization: Bearer`` and JSON."""

    def __init__(self, secret: str | None, **headers: str) -> None:
        self.client = Client()
        self.headers = {**headers}
        if secret:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

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
    """``api_as(user, scopes=[...])``: a client with a fresh API token of ``user``."""
    from certdesk.core import clock as core_clock
    from certdesk.tokens.services import token_create

    def make(user: User, scopes: list[str] | None = None) -> ApiClient:
        created = token_create(
            user=user,
            name="test",
            scopes=scopes or ["account:write"],
            expires_in_days=30,
            now=core_clock.now(),
        )
        return ApiClient(created.secret)

    return make
