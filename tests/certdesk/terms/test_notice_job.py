"""The operator's email notice: everybody emailed once, in their language; it makes the new
version effective for the account at that moment; re-runs send nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.notifications.models import OutboundEmail
from certdesk.terms.jobs import send_terms_notices
from certdesk.terms.models import TermsNotice, TermsNoticeDelivery
from certdesk.terms.selectors import terms_effective_at, terms_pending_for
from certdesk.terms.services import terms_notice_schedule
from tests.certdesk.terms.factories import (
    AccountFactory,
    OperatorFactory,
    TermsVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
NOTICE_AT = PUBLISHED + timedelta(days=2)


@pytest.fixture
def customers():
    jp = AccountFactory()
    owner_ja = UserFactory(account=jp, language=User.Language.JA, accepted_terms=PUBLISHED)
    member_en = UserFactory(
        account=jp, role=User.Role.MEMBER, language=User.Language.EN, accepted_terms=PUBLISHED
    )
    UserFactory(account=jp, role=User.Role.MEMBER, is_active=False)  # disabled user: skipped
    closed = AccountFactory(status=Account.Status.DISABLED)
    UserFactory(account=closed)
    other = UserFactory(language=User.Language.EN, accepted_terms=PUBLISHED)
    return {"jp": jp, "owner_ja": owner_ja, "member_en": member_en, "other": other}


@pytest.fixture
def v2(customers):
    version = TermsVersionFactory(published_at=PUBLISHED)
    terms_notice_schedule(actor=OperatorFactory(), version=version, at=NOTICE_AT, now=PUBLISHED)
    return version


def run(now, **kw):
    return send_terms_notices(now=now, dry_run=kw.get("dry_run", False))


def test_nothing_is_sent_before_the_scheduled_time(v2, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = run(NOTICE_AT - timedelta(seconds=1))
    assert summary.startswith("0 user(s)")
    assert mail.outbox == []


def test_every_active_user_of_every_active_account_is_emailed_in_their_language(
    v2, customers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        summary = run(NOTICE_AT)
    assert summary == "3 user(s) in 2 account(s) emailed"
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {
        customers["owner_ja"].email,
        customers["member_en"].email,
        customers["other"].email,
    }
    ja = by_to[customers["owner_ja"].email]
    en = by_to[customers["member_en"].email]
    assert "利用規約を改定しました（第2版）" in ja.subject
    assert "第8条を変更しました。" in ja.body
    assert "/terms/2/?lang=ja" in ja.body
    assert "The terms of use have changed (version 2)" in en.subject
    assert "Article 8 was changed." in en.body
    assert TermsNoticeDelivery.objects.filter(version=v2).count() == 3
    assert TermsNotice.objects.get(version=v2).completed_at == NOTICE_AT
    assert AuditEvent.objects.filter(action="terms.notice_emailed").count() == 2


def test_the_email_makes_the_version_effective_for_that_account_at_once(v2, customers):
    run(NOTICE_AT)
    owner = customers["owner_ja"]
    assert terms_effective_at(version=v2, account=owner.account) == NOTICE_AT
    assert terms_pending_for(user=owner, now=NOTICE_AT) == v2
    assert terms_pending_for(user=owner, now=NOTICE_AT - timedelta(seconds=1)) is None


def test_an_account_that_was_not_emailed_waits_for_the_fifteen_days(v2, customers):
    late = UserFactory(account=AccountFactory(status=Account.Status.DISABLED), accepted_terms=False)
    run(NOTICE_AT)
    assert terms_effective_at(version=v2, account=late.account) == PUBLISHED + timedelta(days=15)


def test_running_again_sends_nothing_twice(v2, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run(NOTICE_AT)
        run(NOTICE_AT + timedelta(minutes=5))
        run(NOTICE_AT + timedelta(days=1))
    assert len(mail.outbox) == 3


def test_a_missed_run_catches_up_and_records_the_actual_moment(v2, customers):
    much_later = NOTICE_AT + timedelta(days=3)
    run(much_later)
    delivery = TermsNoticeDelivery.objects.get(user=customers["other"])
    assert delivery.emailed_at == much_later
    assert terms_effective_at(version=v2, account=customers["other"].account) == much_later


def test_an_interrupted_run_finishes_the_rest_next_time(v2, customers, monkeypatch):
    from certdesk.terms import services

    real = services.email_enqueue

    def flaky(**kwargs):
        if kwargs["to"] == customers["other"].email:
            raise ConnectionError("queue down")
        return real(**kwargs)

    monkeypatch.setattr(services, "email_enqueue", flaky)
    with pytest.raises(ConnectionError):
        run(NOTICE_AT)
    assert TermsNoticeDelivery.objects.filter(user=customers["other"]).count() == 0
    assert TermsNotice.objects.get(version=v2).completed_at is None
    done_first = TermsNoticeDelivery.objects.count()
    monkeypatch.setattr(services, "email_enqueue", real)
    summary = run(NOTICE_AT + timedelta(hours=1))
    assert summary == f"{3 - done_first} user(s) in 1 account(s) emailed"
    assert TermsNoticeDelivery.objects.count() == 3
    # One queued message per user: the failed account's partial work was rolled back.
    queued = OutboundEmail.objects.filter(template="terms/email/new_version")
    assert sorted(queued.values_list("to", flat=True)) == sorted(
        u.email for u in (customers["owner_ja"], customers["member_en"], customers["other"])
    )
    assert TermsNotice.objects.get(version=v2).completed_at is not None


def test_dry_run_sends_and_records_nothing(v2, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = run(NOTICE_AT, dry_run=True)
    assert summary == "3 user(s) in 2 account(s) would be emailed"
    assert mail.outbox == []
    assert not TermsNoticeDelivery.objects.exists()
    assert TermsNotice.objects.get(version=v2).completed_at is None


def test_the_sweep_command_runs_the_notice_job(v2, capsys):
    call_command("sweep", "--now", NOTICE_AT.isoformat())
    out = capsys.readouterr().out
    assert "certdesk.terms.jobs.send_terms_notices: 3 user(s) in 2 account(s) emailed" in out
