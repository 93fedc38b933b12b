"""Fixtures for the API-wide tests: a customer who registered, verified their email and
accepted the terms through the public API, and a token obtained with their password; and the
lab DNS server of the validation tests, so that the certificate endpoints' lookups (domain
validation, CAA before issuing) never leave loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from certdesk.accounts.models import User
from certdesk.core import clock
from certdesk.notifications.models import OutboundEmail
from certdesk.terms.models import TermsVersion
from certdesk.terms.selectors import terms_current
from tests.certdesk.terms.factories import TermsVersionFactory
from tests.certdesk.validation.conftest import dns_zone  # noqa: F401
from tests.certdesk.validation.servers import DnsZone

PASSWORD = "Fuzz-Kensa-Pass-2026!"
_serial = count(1)
_VERIFY_LINK = re.compile(r"/accounts/verify/([A-Za-z0-9_-]+)/")


@dataclass
class Customer:
    user: User
    password: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def current_terms() -> TermsVersion:
    """The terms in effect: version 1 of the data migration, or (after a transactional test
    flushed it) a version published a month ago."""
    version = terms_current(now=clock.now())
    if version is None:
        TermsVersionFactory(published_at=clock.now() - timedelta(days=30))
        version = terms_current(now=clock.now())
    assert version is not None
    return version


def register_customer(client: Client | None = None, *, prefix: str = "fuzz") -> Customer:
    """Register through ``POST /api/v1/accounts``, open the emailed link through
    ``POST /api/v1/accounts/verify-email`` and sign in with ``POST /api/v1/auth/token``:
    the token carries every scope an owner may have."""
    client = client or Client()
    n = next(_serial)
    username = f"{prefix}-{n}"
    email = f"{prefix}{n}@example.co.jp"
    version = current_terms()
    registered = client.post(
        "/api/v1/accounts",
        {
            "username": username,
            "password": PASSWORD,
            "full_name": f"検査 太郎{n}",
            "organization_name": f"株式会社検査{n}",
            "postal_code": "100-0001",
            "address": "東京都千代田区千代田1-1",
            "email": email,
            "phone": "03-1234-5678",
            "language": "ja",
            "terms_version": version.number,
            "accept_terms": True,
        },
        content_type="application/json",
    )
    assert registered.status_code == 201, registered.content
    mail = OutboundEmail.objects.filter(to=email).latest("pk")
    match = _VERIFY_LINK.search(mail.body)
    assert match, mail.body
    verified = client.post(
        "/api/v1/accounts/verify-email", {"token": match.group(1)}, content_type="application/json"
    )
    assert verified.status_code == 200, verified.content
    assert verified.json()["email_verified"] is True
    issued = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": PASSWORD, "name": "fuzz"},
        content_type="application/json",
    )
    assert issued.status_code == 201, issued.content
    return Customer(
        user=User.objects.get(username=username), password=PASSWORD, secret=issued.json()["secret"]
    )


@pytest.fixture
def customer(db: Any) -> Customer:
    return register_customer()


@pytest.fixture
def wsgi_in_test_transaction(db: Any) -> Iterator[None]:
    """Requests sent straight to the WSGI application (schemathesis) end with Django's
    ``close_old_connections``, which on PostgreSQL closes the connection that holds the test's
    transaction; unhook it for the test, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _lab_dns(dns_zone: DnsZone) -> DnsZone:  # noqa: F811
    """Every API test resolves against the lab DNS server on loopback."""
    return dns_zone
