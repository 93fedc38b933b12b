"""The public terms pages and version 1's text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from certdesk.terms.models import TermsVersion
from tests.certdesk.terms.factories import TermsVersionFactory

pytestmark = pytest.mark.django_db

SEED = Path("/work/shared/seed/000_487cdc3b8f25d5a2.txt")


def test_current_terms_are_public_in_japanese_by_default(client, clock):
    response = client.get("/terms/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "certdesk 利用規約" in body
    assert "第11条（規約の変更）" not in body  # v1 numbering: changes are article 8
    assert "第8条（規約の変更）" in body
    assert 'href="?lang=en"' in body


def test_the_english_text_is_one_click_away(client, clock):
    body = client.get("/terms/?lang=en").content.decode()
    assert "certdesk Terms of Use" in body
    assert "Article 8 (Changes to these terms)" in body
    assert "15 days after it is" in body


def test_version_one_covers_the_required_articles():
    v1 = TermsVersion.objects.get(number=1)
    for heading in [
        "目的と利用の許諾",
        "アカウントIDおよびパスワード",
        "アカウントの削除",
        "禁止事項",
        "保守等による停止",
        "サービスの終了",
        "規約の変更",
        "通知",
        "証明書供給元への情報提供",
    ]:
        assert heading in v1.body_ja
    for heading in [
        "Purpose and licence",
        "account ID and password",
        "Deletion of an account",
        "Prohibited acts",
        "Suspension for maintenance",
        "End of the service",
        "Changes to these terms",
        "Notices",
        "certificate suppliers",
    ]:
        assert heading in v1.body_en
    assert "90日前" in v1.body_ja and "90 days" in v1.body_en
    assert "15日" in v1.body_ja and "15 days" in v1.body_en


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not on this machine")
def test_version_one_is_written_fresh_not_copied_from_the_seed():
    seed = "".join(SEED.read_text().split())
    text = "".join(TermsVersion.objects.get(number=1).body_ja.split())
    window = 25
    copied = {
        text[i : i + window] for i in range(len(text) - window) if text[i : i + window] in seed
    }
    assert copied == set()


def test_earlier_versions_stay_readable_and_are_marked(client, clock):
    TermsVersionFactory(published_at=clock() - timedelta(days=1))
    body = client.get("/terms/1/").content.decode()
    assert "以前の版" in body
    assert "第2版の本文です。" in client.get("/terms/").content.decode()


def test_drafts_and_scheduled_versions_are_not_public(client, clock):
    TermsVersionFactory(status=TermsVersion.Status.DRAFT, published_at=None)
    assert client.get("/terms/2/").status_code == 404
    TermsVersion.objects.filter(number=2).delete()
    TermsVersionFactory(published_at=clock() + timedelta(days=1))
    assert client.get("/terms/2/").status_code == 404
    assert "certdesk 利用規約" in client.get("/terms/").content.decode()


def test_the_list_shows_every_published_version_newest_first(client, clock):
    TermsVersionFactory(published_at=datetime(2026, 5, 1, tzinfo=UTC))
    body = client.get("/terms/versions/").content.decode()
    assert body.index('href="/terms/2/"') < body.index('href="/terms/1/"')
    assert "15日後" in body
