"""After a new version takes effect, the customer must accept it (or the owner cancels)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.terms.models import TermsAcceptance, TermsCancellation
from tests.certdesk.terms.factories import (
    PASSWORD,
    OperatorFactory,
    TermsVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
IN_EFFECT = PUBLISHED + timedelta(days=15)


@pytest.fixture
def v2(clock):
    clock.set(PUBLISHED - timedelta(days=30))
    return TermsVersionFactory(
        published_at=PUBLISHED,
        summary_ja="第8条（規約の変更）を明確にしました。",
        summary_en="Article 8 (changes to these terms) was clarified.",
    )


@pytest.fixture
def owner(v2, clock):
    return UserFactory()  # accepted v1 at clock time


def signed_in(client, user):
    client.force_login(user)
    return client


def test_within_the_fifteen_days_nothing_is_asked(client, owner, clock):
    clock.set(IN_EFFECT - timedelta(minutes=1))
    response = signed_in(client, owner).get("/dashboard/")
    assert response.status_code == 200


def test_once_in_effect_every_page_leads_to_the_accept_page(client, owner, clock):
    clock.set(IN_EFFECT)
    response = signed_in(client, owner).get("/dashboard/?tab=1")
    assert response.status_code == 302
    assert response["Location"] == "/terms/accept/?next=%2Fdashboard%2F%3Ftab%3D1"
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "第2版の本文です。" in body
    assert "第8条（規約の変更）を明確にしました。" in body
    assert "?lang=en" in body  # the English text is one click away
    assert "未払い" in body  # unpaid invoices stay owed


def test_the_accept_page_shows_the_english_text_on_request(client, owner, clock):
    clock.set(IN_EFFECT)
    body = signed_in(client, owner).get("/terms/accept/?lang=en").content.decode()
    assert "The text of version 2." in body
    assert "Article 8 (changes to these terms) was clarified." in body


@pytest.mark.parametrize("path", ["/terms/", "/terms/1/", "/static/certdesk/site.css"])
def test_terms_pages_and_static_files_stay_reachable(client, owner, clock, path):
    clock.set(IN_EFFECT)
    assert signed_in(client, owner).get(path).status_code == 200


def test_the_api_is_not_redirected(client, owner, clock):
    clock.set(IN_EFFECT)
    response = signed_in(client, owner).get("/api/v1/openapi.json")
    assert response.status_code == 200


def test_signing_out_stays_possible(client, owner, clock):
    clock.set(IN_EFFECT)
    from django.urls import reverse

    response = signed_in(client, owner).post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "/terms/accept/" not in response["Location"]


def test_accepting_records_user_version_time_and_ip_then_returns(client, owner, v2, clock):
    clock.set(IN_EFFECT + timedelta(hours=1))
    response = signed_in(client, owner).post(
        "/terms/accept/", {"version": "2", "next": "/dashboard/"}, REMOTE_ADDR="203.0.113.44"
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    acceptance = TermsAcceptance.objects.get(user=owner, version=v2)
    assert acceptance.accepted_at == IN_EFFECT + timedelta(hours=1)
    assert acceptance.ip == "203.0.113.44"
    assert acceptance.account_id == owner.account_id
    event = AuditEvent.objects.get(action="terms.accepted", data__version=2)
    assert (event.actor_id, event.account_id, event.ip) == (
        owner.pk,
        owner.account_id,
        "203.0.113.44",
    )
    assert client.get("/dashboard/").status_code == 200


def test_an_outside_next_url_is_not_followed(client, owner, clock):
    clock.set(IN_EFFECT)
    response = signed_in(client, owner).post(
        "/terms/accept/", {"version": "2", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/dashboard/"


def test_accepting_a_page_of_an_older_version_accepts_nothing(client, owner, clock):
    clock.set(IN_EFFECT)
    response = signed_in(client, owner).post("/terms/accept/", {"version": "1"})
    assert response.status_code == 409
    assert not TermsAcceptance.objects.filter(user=owner, version__number=2).exists()


def test_nothing_pending_sends_the_user_on(client, owner, clock):
    clock.set(IN_EFFECT - timedelta(days=1))
    response = signed_in(client, owner).get("/terms/accept/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_operators_are_never_asked(client, v2, clock):
    clock.set(IN_EFFECT)
    response = signed_in(client, OperatorFactory()).get("/console/")
    assert response.status_code == 200


def test_owner_cancels_with_password_and_confirmation(
    client, owner, v2, clock, django_capture_on_commit_callbacks
):
    clock.set(IN_EFFECT)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, owner).post(
            "/terms/accept/cancel/",
            {
                "version": "2",
                "confirm": "on",
                "password": PASSWORD,
                "reason": "新しい第8条に同意できません",
            },
            REMOTE_ADDR="198.51.100.20",
        )
    assert response.status_code == 302
    account = Account.objects.get(pk=owner.account_id)
    assert account.status == Account.Status.CLOSURE_REQUESTED
    assert account.closure_requested_at == IN_EFFECT
    cancellation = TermsCancellation.objects.get(account=account)
    assert (cancellation.version, cancellation.user, cancellation.ip) == (
        v2,
        owner,
        "198.51.100.20",
    )
    assert cancellation.reason == "新しい第8条に同意できません"
    event = AuditEvent.objects.get(action="account.closure_requested")
    assert event.account_id == account.pk and event.actor_id == owner.pk
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "未払い" in mail.outbox[0].body
    # Still signed in, not asked again, and told that the closure is pending.
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "解約が申し出られています" in page.content.decode()


def test_the_cancellation_email_is_in_the_owners_language(
    client, v2, clock, django_capture_on_commit_callbacks
):
    owner = UserFactory(language=User.Language.EN)
    clock.set(IN_EFFECT)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(client, owner).post(
            "/terms/accept/cancel/", {"version": "2", "confirm": "on", "password": PASSWORD}
        )
    assert "close account" in mail.outbox[0].subject
    assert "unpaid" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"password": PASSWORD}, "チェック"),
        ({"confirm": "on", "password": "wrong-password-123"}, "パスワードが正しくありません"),
        ({"confirm": "on"}, "パスワードが正しくありません"),
    ],
)
def test_cancellation_needs_confirmation_and_the_password(
    client, owner, clock, form, field_message
):
    clock.set(IN_EFFECT)
    response = signed_in(client, owner).post("/terms/accept/cancel/", {"version": "2", **form})
    assert response.status_code == 422
    assert field_message in response.content.decode()
    owner.account.refresh_from_db()
    assert owner.account.status == Account.Status.ACTIVE
    assert not TermsCancellation.objects.exists()
    assert not AuditEvent.objects.filter(action="account.closure_requested").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("role", [User.Role.ADMIN, User.Role.MEMBER, User.Role.READ_ONLY])
def test_only_the_owner_can_cancel(client, owner, clock, role):
    member = UserFactory(account=owner.account, role=role, password=PASSWORD)
    clock.set(IN_EFFECT)
    page = signed_in(client, member).get("/terms/accept/").content.decode()
    assert "アカウントの所有者" in page
    assert 'action="/terms/accept/cancel/"' not in page
    response = client.post(
        "/terms/accept/cancel/", {"version": "2", "confirm": "on", "password": PASSWORD}
    )
    assert response.status_code == 403
    owner.account.refresh_from_db()
    assert owner.account.status == Account.Status.ACTIVE
    assert not TermsCancellation.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, v2, clock):
    clock.set(IN_EFFECT)
    response = client.get("/terms/accept/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
