"""Account search with keyset pages; disabling and re-enabling accounts and users."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.console.selectors import account_search
from tests.certdesk.terms.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def numbers_on(body: str) -> list[str]:
    return re.findall(r'href="/console/accounts/\d+/">(A\d{6})<', body)


@pytest.fixture
def shops():
    a = AccountFactory(organization_name="株式会社さくら商店", email="info@sakura.example")
    UserFactory(account=a, username="sakura-admin", email="admin@sakura.example")
    b = AccountFactory(organization_name="Maple Trading KK", email="hello@maple.example")
    UserFactory(account=b, username="maple", email="it@maple.example")
    c = AccountFactory(organization_name="Sakuragaoka Clinic")
    return a, b, c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("さくら", [0]),
        ("sakura", [0, 2]),  # user ID / email of the first, name of the third
        ("it@maple.example", [1]),  # a user's email
        ("hello@maple", [1]),  # the contact email
        ("maple", [1]),
        ("nothing-like-this", []),
    ],
)
def test_search_by_name_user_id_and_email(console, shops, query, expected):
    body = console.get("/console/accounts/", {"q": query}).content.decode()
    assert numbers_on(body) == [shops[i].number for i in expected]


@pytest.mark.parametrize("form", ["{n}", "A{n:06d}", "a{n:06d}", " A{n:06d} "])
def test_search_by_account_number(console, shops, form):
    target = shops[1]
    body = console.get("/console/accounts/", {"q": form.format(n=target.pk)}).content.decode()
    assert numbers_on(body) == [target.number]


def test_filter_by_status(console, shops):
    Account.objects.filter(pk=shops[2].pk).update(status=Account.Status.DISABLED)
    body = console.get("/console/accounts/", {"status": "disabled"}).content.decode()
    assert numbers_on(body) == [shops[2].number]


def test_keyset_pages_walk_every_account_once_in_a_bounded_number_of_queries(
    console, django_assert_max_num_queries
):
    accounts = AccountFactory.create_batch(7)
    for account in accounts:
        UserFactory.create_batch(2, account=account, accepted_terms=False)
    page = account_search(size=3)
    seen = [a.number for a in page.items]
    assert [a.user_count for a in page.items] == [2, 2, 2]
    while page.next_cursor is not None:
        with django_assert_max_num_queries(1):
            page = account_search(size=3, after=page.next_cursor)
        seen += [a.number for a in page.items]
    assert seen == [a.number for a in accounts]


def test_the_list_page_does_not_grow_queries_with_rows(console, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(60):
        UserFactory(account=account, accepted_terms=False)
    with django_assert_max_num_queries(3):  # session, user, the page
        response = console.get("/console/accounts/")
    body = response.content.decode()
    assert len(numbers_on(body)) == 50
    next_link = re.search(r'href="(\?after=\d+)" rel="next"', body).group(1)
    second = console.get("/console/accounts/" + next_link.replace("&amp;", "&")).content.decode()
    assert len(numbers_on(second)) == 10
    assert 'rel="next"' not in second


def test_the_detail_page_shows_users_terms_and_closure(console, shops):
    account = shops[0]
    body = console.get(f"/console/accounts/{account.pk}/").content.decode()
    assert "sakura-admin" in body
    assert "192.0.2.1" in body  # the IP of the terms acceptance
    assert console.get("/console/accounts/999999/").status_code == 404


def test_disabling_an_account_emails_its_owner_and_records_the_operator(
    console, operator, django_capture_on_commit_callbacks
):
    account = AccountFactory()
    owner_en = UserFactory(account=account, language=User.Language.EN)
    UserFactory(account=account, role=User.Role.MEMBER)  # members are not emailed
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"/console/accounts/{account.pk}/disable/",
            {"reason": "Unpaid for 30 days"},
            REMOTE_ADDR="10.0.0.5",
        )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.status, account.disabled_reason) == ("disabled", "Unpaid for 30 days")
    assert [m.to for m in mail.outbox] == [[owner_en.email]]
    assert "has been disabled" in mail.outbox[0].subject
    assert "Unpaid for 30 days" in mail.outbox[0].body
    event = AuditEvent.objects.get(action="account.disabled")
    assert (event.actor_id, event.account_id, event.ip) == (operator.pk, account.pk, "10.0.0.5")
    assert event.data["reason"] == "Unpaid for 30 days"


def test_disabling_needs_a_reason_and_changes_nothing_without_one(console):
    account = AccountFactory()
    UserFactory(account=account)
    response = console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "  "})
    assert response.status_code == 422
    assert "理由を入力してください" in response.content.decode()
    account.refresh_from_db()
    assert account.status == "active"
    assert not AuditEvent.objects.filter(action="account.disabled").exists()
    assert mail.outbox == []


def test_a_customer_of_a_disabled_account_is_signed_out_with_an_explanation(console):
    from django.test import Client

    account = AccountFactory()
    owner = UserFactory(account=account)
    console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "規約違反"})
    customer = Client()
    customer.force_login(owner)
    response = customer.get("/dashboard/")
    assert response.status_code == 403
    assert "アカウントは停止されています" in response.content.decode()
    # The session is over: the next page is the sign-in redirect.
    again = customer.get("/dashboard/")
    assert again.status_code == 302
    assert "/accounts/login/" in again["Location"]


def test_re_enabling_restores_access_and_tells_the_owner(
    console, django_capture_on_commit_callbacks
):
    from django.test import Client

    client = Client()
    account = AccountFactory()
    owner = UserFactory(account=account)
    console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "確認中"})
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(f"/console/accounts/{account.pk}/enable/", {"reason": "確認済み"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.status, account.disabled_reason) == ("active", "")
    assert "利用を再開しました" in mail.outbox[-1].subject
    assert AuditEvent.objects.filter(action="account.enabled", account=account).count() == 1
    client.force_login(owner)
    assert client.get("/dashboard/").status_code == 200


def test_re_enabling_keeps_a_pending_closure(console):
    account = AccountFactory(status=Account.Status.CLOSURE_REQUESTED)
    Account.objects.filter(pk=account.pk).update(closure_requested_at="2026-06-01T00:00:00Z")
    console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "x"})
    console.post(f"/console/accounts/{account.pk}/enable/", {"reason": "y"})
    account.refresh_from_db()
    assert account.status == Account.Status.CLOSURE_REQUESTED


def test_disabling_twice_is_refused(console):
    account = AccountFactory()
    console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "x"})
    response = console.post(f"/console/accounts/{account.pk}/disable/", {"reason": "x"})
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="account.disabled").count() == 1


def test_disabling_one_user_ends_their_sign_in_only(console, operator):
    from django.test import Client

    client = Client()
    account = AccountFactory()
    owner = UserFactory(account=account)
    member = UserFactory(account=account, role=User.Role.MEMBER)
    response = console.post(
        f"/console/accounts/{account.pk}/users/{member.pk}/disable/", {"reason": "退職"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    event = AuditEvent.objects.get(action="user.disabled")
    assert (event.actor_id, event.account_id, event.target_id) == (
        operator.pk,
        account.pk,
        str(member.pk),
    )
    client.force_login(member)
    assert client.get("/dashboard/").status_code == 302  # inactive users have no session
    client.force_login(owner)
    assert client.get("/dashboard/").status_code == 200
    console.post(f"/console/accounts/{account.pk}/users/{member.pk}/enable/", {"reason": "復職"})
    member.refresh_from_db()
    assert member.is_active


def test_a_user_of_another_account_is_not_found_under_this_one(console):
    account, other = AccountFactory(), AccountFactory()
    stranger = UserFactory(account=other)
    response = console.post(
        f"/console/accounts/{account.pk}/users/{stranger.pk}/disable/", {"reason": "x"}
    )
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
