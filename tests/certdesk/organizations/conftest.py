"""Fixtures for the organisation tests: members of each role, a frozen clock, Bearer and
portal clients, and the data of a real organisation (the National Tax Agency itself)."""

from __future__ import annotations

from typing import Any

import pytest

from certdesk.accounts.models import User
from tests.certdesk.members.conftest import api_as, clock, owner, portal_as  # noqa: F401
from tests.certdesk.members.factories import member_of
from tests.certdesk.terms.factories import OperatorFactory

# The National Tax Agency's own corporate number, as it publishes it.
NTA_NUMBER = "7000012050002"
# Another published number (a company's, from its own public material): 4 checks 011001098993.
OTHER_NUMBER = "4011001098993"


def organization_fields(**overrides: Any) -> dict[str, str]:
    fields = {
        "name_ja": "国税庁",
        "name_en": "National Tax Agency",
        "corporate_number": NTA_NUMBER,
        "prefecture": "Tokyo",
        "locality": "Chiyoda-ku",
        "postal_code": "100-8978",
        "address": "東京都千代田区霞が関3-1-1",
        "phone": "03-3581-4161",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def member(owner: User) -> User:  # noqa: F811
    return member_of(owner.account, User.Role.MEMBER)  # type: ignore[arg-type]


@pytest.fixture
def reader(owner: User) -> User:  # noqa: F811
    return member_of(owner.account, User.Role.READ_ONLY)  # type: ignore[arg-type]


@pytest.fixture
def operator(db: Any) -> User:
    return OperatorFactory()
