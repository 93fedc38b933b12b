"""The members API: list, invite, change role, remove, invitations."""

from __future__ import annotations

import pytest
from django.core import mail

from certdesk.accounts.models import User
from certdesk.members.models import Invitation
from tests.certdesk.members.conftest import ApiClient
from tests.certdesk.members.factories import member_of, token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/account/members"


def test_list_members_with_a_bounded_number_of_queries(
    owner, api_as, django_assert_max_num_queries
):
    for role in ["admin", "member", "read_only", "member"]:
        member_of(owner.account, role)
    member_of(owner.account, "member", is_active=False)
    api = api_as(owner)
    api.get(URL)
    with django_assert_max_num_queries(5):
        response = api.get(URL)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [m["role"] for m in items] == ["owner", "admin", "member", "read_only", "member"]
    assert items[0] == {
        "id": owner.pk,
        "username": owner.username,
        "full_name": owner.full_name,
        "email": owner.email,
        "role": "owner",
        "date_joined": items[0]["date_joined"],
        "last_login": None,
    }


def test_invite_over_the_api(owner, api_as, django_capture_on_commit_callbacks):
    api = api_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"email": "jiro@example.co.jp", "role": "admin", "language": "en"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["invited_by"] == owner.username
    assert "secret" not in body and "token_hash" not in body
    [message] = mail.outbox
    assert message.to == ["jiro@example.co.jp"]
    listed = api.get(f"{URL}/invitations").json()["items"]
    assert [i["email"] for i in listed] == ["jiro@example.co.jp"]
    assert api.get(f"{URL}/invitations/{body['id']}").json()["role"] == "admin"

    assert api.delete(f"{URL}/invitations/{body['id']}").status_code == 204
    assert api.get(f"{URL}/invitations").json()["items"] == []
    again = api.delete(f"{URL}/invitations/{body['id']}")
    assert again.status_code == 409
    assert again.json()["code"] == "invitation_closed"


def test_invite_refusals_are_problems_with_codes(owner, api_as):
    admin = member_of(owner.account, "admin")
    api = api_as(admin)
    response = api.post(URL, {"email": "x@example.co.jp", "role": "owner"})
    assert response.status_code == 403
    assert response.json()["code"] == "owner_required"
    response = api.post(URL, {"email": "not-an-email", "role": "member"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_email"
    assert response.json()["field"] == "email"
    assert not Invitation.objects.exists()


def test_change_role_and_remove(owner, api_as):
    member = member_of(owner.account, "member")
    member_api = ApiClient(token_for(member).secret)
    api = api_as(owner)
    response = api.patch(f"{URL}/{member.pk}", {"role": "read_only"})
    assert response.status_code == 200
    assert response.json()["role"] == "read_only"

    assert api.delete(f"{URL}/{member.pk}").status_code == 204
    member.refresh_from_db()
    assert not member.is_active
    assert api.get(f"{URL}/{member.pk}").status_code == 404
    # The removed member's token no longer opens anything.
    assert member_api.get("/api/v1/account/tokens").status_code == 401


def test_last_owner_over_the_api(owner, api_as):
    api = api_as(owner)
    response = api.patch(f"{URL}/{owner.pk}", {"role": "admin"})
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert response.json()["messages"]["ja"] == (
        "アカウントには有効なオーナーが少なくとも1人必要です。先に別の方をオーナーに任命してください。"
    )
    assert api.delete(f"{URL}/{owner.pk}").json()["code"] == "last_owner"
    owner.refresh_from_db()
    assert owner.role == User.Role.OWNER and owner.is_active


@pytest.mark.parametrize("role", ["member", "read_only"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("post", "", {"email": "x@example.co.jp", "role": "member"}),
        ("get", "/{id}", None),
        ("patch", "/{id}", {"role": "member"}),
        ("delete", "/{id}", None),
        ("get", "/invitations", None),
    ],
)
def test_members_and_read_only_cannot_manage_members(owner, api_as, role, method, path, body):
    user = member_of(owner.account, role)
    target = member_of(owner.account, "read_only" if role == "member" else "member")
    api = api_as(user, scopes=["account:write"] if role == "member" else ["account:read"])
    args = (URL + path.format(id=target.pk),) + ((body,) if body is not None else ())
    response = getattr(api, method)(*args)
    assert response.status_code == 403
    assert response.json()["code"] in {"permission_denied", "insufficient_scope"}
    if role == "member":
        assert response.json()["code"] == "permission_denied"
    target.refresh_from_db()
    assert target.is_active
    assert not Invitation.objects.exists()


def test_unauthenticated_requests_are_refused():
    response = ApiClient(None).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"
