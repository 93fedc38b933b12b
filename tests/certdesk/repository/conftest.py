"""Fixtures for the public repository tests: the lab DNS server (CAA is looked up before
every issuance), a customer who may issue and revoke, and the built-in CA itself."""

from __future__ import annotations

import pytest

import pki
from certdesk.accounts.models import User
from certdesk.suppliers.builtin import builtin_ca
from tests.certdesk.certificates.factories import UserFactory
from tests.certdesk.validation.conftest import dns_zone  # noqa: F401 - fixture


@pytest.fixture
def products() -> None:
    """Put back the products the data migration made: transactional tests (the live server)
    empty every table when they end, and the next one would find none to apply for."""
    from importlib import import_module

    from django.apps import apps

    from certdesk.certificates.models import Product

    if not Product.objects.exists():
        import_module("certdesk.certificates.migrations.0004_default_products").create(apps, None)


@pytest.fixture
def owner(db: None) -> User:
    """An account owner, who may apply for and revoke certificates."""
    return UserFactory()


@pytest.fixture
def ca() -> pki.BuiltinCA:
    """The hierarchy the server publishes (created in the test run's var/ on first use)."""
    return builtin_ca()
