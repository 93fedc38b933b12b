"""Invitations end to end: the email, the single-use link, expiry, replacement, revocation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent
from certdesk.core.errors import Gone, InvalidInput, RateLimited
from certdesk.members.models import Invitation
from certdesk.members.services import invitation_accept, member_invite
from certdesk.terms.models import TermsAcceptance, TermsVersion
from certdesk.terms.selectors import terms_current
from tests.certdesk.members.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Atarashii-Pass-2026!"


def invite(actor: User, email: str = "hanako@example.co.jp", role: str = "member", **kw):
    now = kw.pop("now", timezone.now())
    return member_invite(actor=actor, email=email, role=role, now=now, **kw)


def link_in(message) -> str:
    match = re.search(r"http://testserver(/members/join/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def secret_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def accept(secret: str, username: str = "hanako", now=None, **kw):
    fields = {
        "secret": secret,
        "username": username,
        "password": NEW_PASSWORD,
        "full_name": "佐藤 花子",
        "accept_terms": True,
        "ip": "192.0.2.10",
        "now": now or timezone.now(),
    }
    fields.update(kw)
    return invitation_accept(**fields)


@pytest.fixture
def terms(db) -> TermsVersion:
    version = terms_current(now=timezone.now())
    assert version is not None
    return version


def test_invitation_email_is_sent_in_the_chosen_language_with_a_link(
    owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(owner, email="Hanako@Example.co.jp", role="admin", language="en")
    [message] = mail.outbox
    assert message.to == ["Hanako@example.co.jp"]
    assert message.subject == f"[certdesk] Invitation to join {owner.account.organization_name}"
    assert "as: Administrator" in message.body
    assert invitation.status_at(timezone.now()) == "pending"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    # Only the hash of the link's secret is stored.
    secret = secret_of(link_in(message))
    assert not Invitation.objects.filter(token_hash__contains=secret).exists()
    assert AuditEvent.objects.filter(action="member.invited", account=owner.account).exists()


def test_invitation_email_defaults_to_the_inviters_language(
    owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner)
    [message] = mail.outbox
    assert message.subject == f"[certdesk] {owner.account.organization_name} へのご招待"
    assert "メンバー" in message.body
    assert message.extra_headers["Content-Language"] == "ja"


def test_invitee_joins_through_the_portal_link_once(
    owner, terms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner, role="read_only")
    path = link_in(mail.outbox[0])
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert owner.account.organization_name in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            path,
            {
                "full_name": "佐藤 花子",
                "username": "Hanako.Sato",
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.get(username="hanako.sato")
    assert user.account == owner.account
    assert user.role == User.Role.READ_ONLY
    assert user.email == "hanako@example.co.jp"
    assert user.email_verified
    assert user.check_password(NEW_PASSWORD)
    assert TermsAcceptance.objects.filter(user=user, version=terms, ip="127.0.0.1").exists()
    assert AuditEvent.objects.filter(action="member.joined", target_id=str(user.pk)).exists()
    # The inviter hears about it, in their language.
    joined = mail.outbox[-1]
    assert joined.to == [owner.email]
    assert joined.subject == "[certdesk] hanako.sato さんがアカウントに参加しました"

    # The link is spent: a second use is refused, and nothing more is created.
    again = Client().get(path)
    assert again.status_code == 410
    assert "すでに使用されたか" in again.content.decode()
    assert User.objects.filter(account=owner.account).count() == 2


def test_expired_link_is_refused(owner, django_capture_on_commit_callbacks):
    sent_at = timezone.now() - timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner, now=sent_at)
    secret = secret_of(link_in(mail.outbox[0]))
    with pytest.raises(Gone) as refused:
        accept(secret, now=sent_at + timedelta(days=7, seconds=1))
    assert refused.value.code == "invitation_expired"
    assert not User.objects.filter(username="hanako").exists()
    # Still usable a second before the end.
    user = accept(secret, now=sent_at + timedelta(days=6, hours=23, minutes=59))
    assert user.account == owner.account


def test_expired_link_page_says_so(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner, now=timezone.now() - timedelta(days=8))
    response = Client().get(link_in(mail.outbox[0]))
    assert response.status_code == 410
    assert "有効期限が切れています" in response.content.decode()


def test_unknown_link_is_refused():
    response = Client().get("/members/join/not-a-real-secret/")
    assert response.status_code == 410


def test_reinviting_replaces_the_previous_link(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(owner, role="member")
        second = invite(owner, email="HANAKO@example.co.jp", role="read_only")
    old_secret, new_secret = (secret_of(link_in(m)) for m in mail.outbox)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_open
    with pytest.raises(Gone):
        accept(old_secret)
    user = accept(new_secret)
    assert user.role == User.Role.READ_ONLY


def test_terms_must_be_accepted(owner, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner)
    secret = secret_of(link_in(mail.outbox[0]))
    with pytest.raises(InvalidInput) as refused:
        accept(secret, accept_terms=False)
    assert refused.value.code == "terms_not_accepted"
    assert refused.value.field == "accept_terms"
    assert not User.objects.filter(username="hanako").exists()
    assert Invitation.objects.get().is_open


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"username": "ab"}, "invalid_account_id", "username"),
        ({"username": "has space"}, "invalid_account_id", "username"),
        ({"username": "admin"}, "account_id_reserved", "username"),
        ({"password": "short1A!"}, "password_weak", "password"),
        ({"password": "alllowercaseletters"}, "password_weak", "password"),
        ({"full_name": "  "}, "field_required", "full_name"),
    ],
)
def test_invitee_credentials_follow_registration_rules(
    owner, fields, code, field, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner)
    secret = secret_of(link_in(mail.outbox[0]))
    with pytest.raises(InvalidInput) as refused:
        accept(secret, **fields)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert User.objects.count() == 1
    assert Invitation.objects.get().is_open


def test_taken_account_id_is_shown_next_to_the_field(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner)
    response = Client().post(
        link_in(mail.outbox[0]),
        {
            "full_name": "佐藤 花子",
            "username": owner.username,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            "accept_terms": "on",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["username"] == [
        "このアカウントIDはすでに使われています。別のIDを選んでください。"
    ]
    assert Invitation.objects.get().is_open


def test_address_of_an_existing_user_cannot_be_invited(owner):
    other = UserFactory(email="taken@example.co.jp")
    with pytest.raises(InvalidInput) as refused:
        invite(owner, email="Taken@example.co.jp")
    assert refused.value.code == "email_taken"
    colleague = UserFactory(account=owner.account, role="member")
    with pytest.raises(InvalidInput) as refused:
        invite(owner, email=colleague.email)
    assert refused.value.code == "already_member"
    assert not Invitation.objects.exists()
    assert other.account != owner.account


def test_revoked_link_stops_working(owner, portal_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(owner)
    path = link_in(mail.outbox[0])
    response = portal_as(owner).post(f"/members/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="invitation.revoked", target_id=str(invitation.pk)
    ).exists()
    assert Client().get(path).status_code == 410


def test_invitations_per_hour_are_limited(owner):
    now = timezone.now()
    for i in range(20):
        invite(owner, email=f"p{i}@example.co.jp", now=now)
    with pytest.raises(RateLimited) as limited:
        invite(owner, email="one-more@example.co.jp", now=now + timedelta(minutes=10))
    assert limited.value.code == "too_many_invitations"
    assert limited.value.retry_after == 50 * 60 + 1
    assert Invitation.objects.count() == 20
    invite(owner, email="one-more@example.co.jp", now=now + timedelta(hours=1, seconds=1))


def test_signed_in_user_is_asked_to_sign_out_first(
    owner, portal_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner)
    response = portal_as(owner).get(link_in(mail.outbox[0]))
    assert response.status_code == 200
    assert response.context["signed_in"] is True
    assert "サインアウト" in response.content.decode()
