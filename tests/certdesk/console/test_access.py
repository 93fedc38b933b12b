"""The console is for operators only: customers get a 404, visitors the sign-in page."""

from __future__ import annotations

import pytest

from tests.certdesk.terms.factories import AccountFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/",
    "/console/accounts/",
    "/console/accounts/{account}/",
    "/console/terms/",
    "/console/terms/new/",
    "/console/terms/1/",
    "/console/audit/",
]


@pytest.fixture
def account():
    return AccountFactory()


@pytest.mark.parametrize("page", PAGES)
def test_operators_see_every_page(console, account, page):
    response = console.get(page.format(account=account.pk))
    assert response.status_code == 200
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_customers_get_not_found(client, account, page):
    owner = UserFactory(account=account)
    client.force_login(owner)
    response = client.get(page.format(account=account.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, account, page):
    path = page.format(account=account.pk)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "action",
    ["/console/accounts/{account}/disable/", "/console/terms/1/publish/", "/console/audit/verify/"],
)
def test_customers_cannot_post_console_actions(client, account, action):
    client.force_login(UserFactory(account=account))
    response = client.post(action.format(account=account.pk), {"reason": "x"})
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.status == "active"


def test_a_disabled_operator_is_not_let_in(client):
    operator = OperatorFactory()
    client.force_login(operator)
    operator.is_active = False
    operator.save()
    response = client.get("/console/")
    assert response.status_code == 302


def test_the_overview_counts_accounts_users_and_pending_closures(console):
    AccountFactory.create_batch(2)
    closing = AccountFactory(status="closure_requested")
    UserFactory(account=closing)
    body = console.get("/console/").content.decode()
    assert "解約申請中" in body
    assert 'href="/console/accounts/?status=closure_requested">1<' in body
