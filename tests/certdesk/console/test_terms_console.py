"""Operators write drafts, publish now or later (never in the past) and schedule the email
notice; published versions never change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from certdesk.audit.models import AuditEvent
from certdesk.terms.models import TermsNotice, TermsVersion
from tests.certdesk.terms.factories import TermsVersionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 in Japan

TEXT = {
    "title_ja": "certdesk 利用規約",
    "title_en": "certdesk Terms of Use",
    "body_ja": "第1条 新しい本文です。",
    "body_en": "Article 1 The new text.",
    "summary_ja": "第1条を書き直しました。",
    "summary_en": "Article 1 was rewritten.",
}


@pytest.fixture(autouse=True)
def _now(clock):
    clock.set(NOW)


def create_draft(console) -> TermsVersion:
    response = console.post("/console/terms/new/", TEXT)
    assert response.status_code == 302
    return TermsVersion.objects.get(status=TermsVersion.Status.DRAFT)


def test_a_new_draft_gets_the_next_number_and_starts_from_the_previous_text(console, operator):
    form = console.get("/console/terms/new/").content.decode()
    assert "certdesk 利用規約" in form  # prefilled from version 1
    draft = create_draft(console)
    assert draft.number == 2
    assert (draft.created_by, draft.created_at) == (operator, NOW)
    assert draft.summary_en == "Article 1 was rewritten."
    event = AuditEvent.objects.get(action="terms.draft_created")
    assert event.actor_id == operator.pk and event.data == {"version": 2}


def test_a_draft_needs_both_languages(console):
    response = console.post("/console/terms/new/", {**TEXT, "body_en": ""})
    assert response.status_code == 422
    assert "英語の本文を入力してください" in response.content.decode()
    assert not TermsVersion.objects.filter(number=2).exists()


def test_only_one_draft_at_a_time(console):
    create_draft(console)
    response = console.post("/console/terms/new/", TEXT)
    assert response.status_code == 409
    assert TermsVersion.objects.count() == 2


def test_a_draft_can_be_edited_and_deleted(console):
    draft = create_draft(console)
    response = console.post(f"/console/terms/{draft.number}/edit/", {**TEXT, "body_en": "Changed."})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.body_en == "Changed."
    assert AuditEvent.objects.get(action="terms.draft_updated").data["changed"] == ["body_en"]
    console.post(f"/console/terms/{draft.number}/delete/")
    assert not TermsVersion.objects.filter(pk=draft.pk).exists()


def test_publish_now(console, operator):
    draft = create_draft(console)
    response = console.post(f"/console/terms/{draft.number}/publish/", {"publish-when": "now"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.published_at, draft.published_by) == ("published", NOW, operator)
    assert AuditEvent.objects.filter(action="terms.published", actor=operator).exists()


def test_publish_at_a_scheduled_time_in_japan_time(console, client):
    draft = create_draft(console)
    console.post(
        f"/console/terms/{draft.number}/publish/",
        {"publish-when": "at", "publish-at": "2026-06-10T09:00"},
    )
    draft.refresh_from_db()
    assert draft.published_at == datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    assert client.get("/terms/2/").status_code == 404  # not public before its time


def test_publishing_in_the_past_is_refused(console):
    draft = create_draft(console)
    response = console.post(
        f"/console/terms/{draft.number}/publish/",
        {"publish-when": "at", "publish-at": "2026-06-01T11:59"},
    )
    assert response.status_code == 422
    assert "過去の日時には公開できません" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.published_at is None


def test_a_published_version_cannot_be_edited_or_deleted(console):
    v1 = TermsVersion.objects.get(number=1)
    before = v1.body_ja
    response = console.post("/console/terms/1/edit/", TEXT)
    assert response.status_code == 302  # sent back to the read-only page
    response = console.post("/console/terms/1/delete/")
    assert response.status_code == 409
    assert "公開済みの版は変更できません" in response.content.decode()
    v1.refresh_from_db()
    assert v1.body_ja == before


def test_a_scheduled_publication_can_be_withdrawn_before_its_time(console):
    draft = create_draft(console)
    console.post(
        f"/console/terms/{draft.number}/publish/",
        {"publish-when": "at", "publish-at": "2026-06-10T09:00"},
    )
    console.post(f"/console/terms/{draft.number}/withdraw/")
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == ("draft", None)
    assert console.post("/console/terms/1/withdraw/").status_code == 409


def test_schedule_the_email_notice(console, operator):
    version = TermsVersionFactory(published_at=NOW)
    response = console.post(
        f"/console/terms/{version.number}/notice/",
        {"notice-when": "at", "notice-at": "2026-06-02T10:00"},
    )
    assert response.status_code == 302
    notice = TermsNotice.objects.get(version=version)
    assert notice.scheduled_for == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    assert AuditEvent.objects.filter(action="terms.notice_scheduled", actor=operator).exists()
    body = console.get("/console/terms/").content.decode()
    assert "予約済み 2026-06-02 10:00" in body


@pytest.mark.parametrize(
    ("published_at", "form", "message"),
    [
        (NOW, {"notice-when": "at", "notice-at": "2026-06-01T08:00"}, "過去の日時"),
        (NOW + timedelta(days=5), {"notice-when": "now"}, "版の公開より前"),
        (None, {"notice-when": "now"}, "この版を公開してください"),
    ],
)
def test_an_impossible_notice_is_refused(console, published_at, form, message):
    if published_at is None:
        version = TermsVersionFactory(status="draft", published_at=None)
    else:
        version = TermsVersionFactory(published_at=published_at)
    response = console.post(f"/console/terms/{version.number}/notice/", form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not TermsNotice.objects.exists()


def test_a_sent_notice_cannot_be_rescheduled(console, clock):
    version = TermsVersionFactory(published_at=NOW)
    console.post(f"/console/terms/{version.number}/notice/", {"notice-when": "now"})
    clock.tick(minutes=1)
    response = console.post(f"/console/terms/{version.number}/notice/", {"notice-when": "now"})
    assert response.status_code == 409
