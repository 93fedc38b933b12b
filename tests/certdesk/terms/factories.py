"""Factories for accounts, customer users, operators and terms versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from certdesk.accounts.models import Account, User
from certdesk.core import clock
from certdesk.terms.models import TermsVersion
from certdesk.terms.selectors import terms_current
from certdesk.terms.services import terms_accept

PASSWORD = "Riyou-Kiyaku-2026!"
# Version 1 (data migration) is published at 2026-01-01 00:00 JST.
V1_PUBLISHED = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    organization_name = factory.Sequence(lambda n: f"株式会社テスト{n:03d}")
    postal_code = "060-0003"
    address = "北海道札幌市中央区北3条西7丁目"
    phone = "011-000-0000"
    email = factory.Sequence(lambda n: f"info{n}@example.jp")


class UserFactory(DjangoModelFactory):
    """A customer user; ``accepted_terms=False`` leaves the current terms unaccepted."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"kyaku{n}")
    full_name = factory.Sequence(lambda n: f"佐藤 花子{n}")
    email = factory.Sequence(lambda n: f"kyaku{n}@example.jp")
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
    def accepted_terms(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create or extracted is False or self.account_id is None:
            return
        now = extracted if isinstance(extracted, datetime) else clock.now()
        version = terms_current(now=now)
        if version is not None:
            terms_accept(user=self, version=version, ip="192.0.2.1", now=now)


class OperatorFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"op{n}")
    full_name = factory.Sequence(lambda n: f"運用 担当{n}")
    email = factory.Sequence(lambda n: f"op{n}@operator.example")
    email_verified_at = factory.LazyFunction(timezone.now)
    account = None
    is_staff = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class TermsVersionFactory(DjangoModelFactory):
    """A published version (pass ``status="draft", published_at=None`` for a draft)."""

    class Meta:
        model = TermsVersion

    number = factory.LazyFunction(lambda: next_version_number())
    title_ja = factory.LazyAttribute(lambda o: f"利用規約 第{o.number}版")
    title_en = factory.LazyAttribute(lambda o: f"Terms of Use, version {o.number}")
    body_ja = factory.LazyAttribute(lambda o: f"第{o.number}版の本文です。")
    body_en = factory.LazyAttribute(lambda o: f"The text of version {o.number}.")
    summary_ja = "第8条を変更しました。"
    summary_en = "Article 8 was changed."
    status = TermsVersion.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: clock.now())
    created_at = factory.LazyAttribute(lambda o: (o.published_at or timezone.now()) - timedelta(1))
    updated_at = factory.LazyAttribute(lambda o: o.created_at)


def next_version_number() -> int:
    return (
        TermsVersion.objects.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
