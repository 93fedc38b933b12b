"""Factories for accounts, users (members), invitations and tokens used by these tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from certdesk.accounts.models import Account, User
from certdesk.terms.selectors import terms_current
from certdesk.terms.services import terms_accept
from certdesk.tokens.services import CreatedToken, token_create

PASSWORD = "Kakunin-Pass-2026!"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    organization_name = factory.Sequence(lambda n: f"株式会社サンプル{n}")
    postal_code = "100-0001"
    address = "東京都千代田区千代田1-1"
    phone = "03-0000-0000"
    email = factory.Sequence(lambda n: f"contact{n}@example.co.jp")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"山田 太郎{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.co.jp")
    email_verified_at = factory.LazyFunction(timezone.now)
    account = factory.SubFactory(AccountFactory)
    role = User.Role.OWNER
    language = User.Language.JA

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def accepted_terms(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Members accept the current terms, as registration and invitations make them do;
        ``accepted_terms=False`` leaves them pending."""
        if not create or extracted is False or self.account_id is None:
            return
        now = timezone.now()
        version = terms_current(now=now)
        if version is not None:
            terms_accept(user=self, version=version, ip="192.0.2.1", now=now)


def member_of(account: Account, role: str, **fields: object) -> User:
    return UserFactory(account=account, role=role, **fields)


def token_for(
    user: User,
    *,
    scopes: list[str] | None = None,
    expires_in_days: int | None = 90,
    now: datetime | None = None,
    name: str = "script",
) -> CreatedToken:
    return token_create(
        user=user,
        name=name,
        scopes=scopes
        or (["account:read"] if user.role == User.Role.READ_ONLY else ["account:write"]),
        expires_in_days=expires_in_days,
        now=now or timezone.now(),
    )


def ago(**kwargs: float) -> datetime:
    return timezone.now() - timedelta(**kwargs)
