"""Factories for accounts and their users, and the data a registration form posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from certdesk.accounts.models import Account, User
from certdesk.core import clock
from certdesk.terms.selectors import terms_current
from certdesk.terms.services import terms_accept

PASSWORD = "Shomeisho-Kanri-2026!"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    organization_name = factory.Sequence(lambda n: f"株式会社サンプル{n:03d}")
    postal_code = "100-0001"
    address = "東京都千代田区千代田1-1"
    phone = "03-1234-5678"
    email = factory.Sequence(lambda n: f"contact{n}@sample.example.jp")
    data_confirmed_at = factory.LazyFunction(timezone.now)


class UserFactory(DjangoModelFactory):
    """A customer user who accepted the current terms (``accepted_terms=False`` to skip)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"riyousha{n}")
    full_name = factory.Sequence(lambda n: f"山田 太郎{n}")
    email = factory.Sequence(lambda n: f"riyousha{n}@sample.example.jp")
    email_verified_at = factory.LazyFunction(timezone.now)
    phone = "090-1234-5678"
    account = factory.SubFactory(AccountFactory)
    role = User.Role.OWNER
    language = User.Language.JA

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def accepted_terms(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False or self.account_id is None:
            return
        now = extracted if isinstance(extracted, datetime) else clock.now()
        version = terms_current(now=now)
        if version is not None:
            terms_accept(user=self, version=version, ip="192.0.2.1", now=now)


def member_of(account: Account, role: str = User.Role.MEMBER, **kwargs: Any) -> User:
    return UserFactory(account=account, role=role, **kwargs)


def registration_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid registration as the portal form posts it."""
    version = terms_current(now=clock.now())
    data: dict[str, Any] = {
        "username": "tanaka-web",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "full_name": "田中 花子",
        "organization_name": "株式会社タナカ商事",
        "postal_code": "530-0001",
        "address": "大阪府大阪市北区梅田1-2-3",
        "email": "hanako.tanaka@tanaka-shoji.example.jp",
        "phone": "06-1234-5678",
        "language": "ja",
        "terms_version": version.number if version is not None else "",
        "accept_terms": "on",
    }
    data.update(overrides)
    if "password" in overrides and "password_confirm" not in overrides:
        data["password_confirm"] = overrides["password"]
    return data


def api_registration(**overrides: Any) -> dict[str, Any]:
    """The same registration as the JSON body of ``POST /api/v1/accounts``."""
    data = registration_data()
    data.pop("password_confirm")
    data["accept_terms"] = True
    data.update(overrides)
    return data
