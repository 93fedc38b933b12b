"""The Members page: list, invite, change a role, remove, revoke; who may open it."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import User
from certdesk.members.models import Invitation
from tests.certdesk.members.factories import member_of

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_owner_sees_members_and_open_invitations(owner, portal_as, django_assert_max_num_queries):
    admin = member_of(owner.account, "admin")
    client = portal_as(owner)
    client.post(
        "/members/invite/", {"email": "a@example.co.jp", "role": "member", "language": "ja"}
    )
    client.get("/members/")
    with django_assert_max_num_queries(12):
        response = client.get("/members/")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>メンバー</h1>" in page
    assert admin.username in page and owner.username in page
    assert "a@example.co.jp" in page
    assert "招待中" in page
    # Strict CSP: no inline scripts or styles.
    assert "<script" not in page and "style=" not in page


def test_invite_from_the_portal(owner, portal_as, django_capture_on_commit_callbacks):
    client = portal_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/members/invite/",
            {"email": "b@example.co.jp", "role": "admin", "language": "en"},
            follow=True,
        )
    assert response.redirect_chain == [("/members/", 302)]
    assert "b@example.co.jp に招待メールを送信しました。" in text(response)
    [message] = mail.outbox
    assert message.subject.startswith("[certdesk] Invitation to join")


def test_invite_refusal_is_shown_next_to_the_field(owner, portal_as):
    admin = member_of(owner.account, "admin")
    response = portal_as(admin).post(
        "/members/invite/", {"email": "c@example.co.jp", "role": "owner", "language": "ja"}
    )
    assert response.status_code == 422
    assert response.context["invite_form"].errors["role"] == [
        "オーナーや管理者を招待・任命できるのはオーナーのみです。"
    ]
    taken = portal_as(admin).post(
        "/members/invite/", {"email": owner.email.upper(), "role": "member", "language": "ja"}
    )
    assert taken.context["invite_form"].errors["email"] == [
        "この方はすでにこのアカウントのメンバーです。"
    ]
    assert not Invitation.objects.exists()


def test_change_a_role_from_the_portal(owner, portal_as):
    member = member_of(owner.account, "member")
    response = portal_as(owner).post(f"/members/{member.pk}/role/", {"role": "admin"}, follow=True)
    assert response.redirect_chain == [("/members/", 302)]
    member.refresh_from_db()
    assert member.role == User.Role.ADMIN
    assert f"{member.username} の権限を「管理者」に変更しました。" in text(response)


def test_last_owner_message_is_shown_in_the_row(owner, portal_as):
    response = portal_as(owner).post(f"/members/{owner.pk}/role/", {"role": "member"})
    assert response.status_code == 409
    assert response.context["row_errors"] == {
        owner.pk: "アカウントには有効なオーナーが少なくとも1人必要です。"
        "先に別の方をオーナーに任命してください。"
    }
    owner.refresh_from_db()
    assert owner.role == User.Role.OWNER


def test_remove_after_confirmation(owner, portal_as):
    member = member_of(owner.account, "member")
    client = portal_as(owner)
    confirm = client.get(f"/members/{member.pk}/remove/")
    assert confirm.status_code == 200
    assert "API トークンも直ちに使えなくなります" in text(confirm)
    member.refresh_from_db()
    assert member.is_active
    response = client.post(f"/members/{member.pk}/remove/", follow=True)
    assert response.redirect_chain == [("/members/", 302)]
    member.refresh_from_db()
    assert not member.is_active
    assert member.username not in re.sub(
        r"<ul class=\"messages\".*?</ul>", "", text(response), flags=re.S
    )


def test_removing_oneself_is_refused_on_the_confirmation_page(owner, portal_as):
    member_of(owner.account, "owner")
    response = portal_as(owner).post(f"/members/{owner.pk}/remove/")
    assert response.status_code == 409
    assert "ご自身を削除することはできません。" in text(response)
    owner.refresh_from_db()
    assert owner.is_active


@pytest.mark.parametrize("role", ["member", "read_only"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/members/"),
        ("post", "/members/invite/"),
        ("post", "/members/{id}/role/"),
        ("get", "/members/{id}/remove/"),
    ],
)
def test_members_and_read_only_get_403(owner, portal_as, role, method, path):
    user = member_of(owner.account, role)
    client = portal_as(user)
    url = path.format(id=owner.pk)
    response = client.get(url) if method == "get" else client.post(url, {"role": "member"})
    assert response.status_code == 403
    assert "メンバーを管理できるのは、アカウントのオーナーと管理者のみです。" in text(response)
    owner.refresh_from_db()
    assert owner.role == User.Role.OWNER


def test_anonymous_visitors_are_sent_to_sign_in(db, client):
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_follows_the_users_language(owner, portal_as):
    User.objects.filter(pk=owner.pk).update(language="en")
    owner.refresh_from_db()
    page = text(portal_as(owner).get("/members/"))
    assert "<h1>Members</h1>" in page
    assert "Invite a member" in page and "Owner" in page
