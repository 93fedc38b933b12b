from __future__ import annotations

import pytest

from tests.certdesk.terms.conftest import FrozenClock, clock  # noqa: F401
from tests.certdesk.terms.factories import OperatorFactory


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def console(client, operator):
    """A client signed in as an operator."""
    client.force_login(operator)
    return client


__all__ = ["FrozenClock"]
