"""The console's organisation queue: oldest first, checked by hand against the NTA register,
verified or rejected with a reason the customer is emailed in their language."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from certdesk.accounts.models import User
from certdesk.organizations.models import Organization
from tests.certdesk.certificates.factories import OrganizationFactory
from tests.certdesk.members.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def pending(**fields: object) -> Organization:
    return OrganizationFactory(status=Organization.Status.PENDING, verified_at=None, **fields)


def queue_ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/console/organizations/(\d+)/"', body)]


@pytest.mark.parametrize("page", ["/console/organizations/", "/console/organizations/{o}/"])
def test_customers_get_not_found(client, page):
    organization = pending()
    client.force_login(UserFactory(account=organization.account))
    assert client.get(page.format(o=organization.pk)).status_code == 404


@pytest.mark.parametrize("action", ["verify", "reject"])
def test_customers_cannot_decide(client, action):
    organization = pending()
    client.force_login(UserFactory(account=organization.account))
    response = client.post(
        f"/console/organizations/{organization.pk}/{action}/", {"reject-reason": "x"}
    )
    assert response.status_code == 404
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING


def test_the_queue_lists_organisations_awaiting_verification_oldest_first(console):
    first = pending()
    OrganizationFactory()  # verified: not in the queue
    second = pending()
    body = console.get("/console/organizations/").content.decode()
    assert queue_ids(body) == [first.pk, second.pk]
    verified_body = console.get("/console/organizations/", {"status": "verified"}).content
    assert len(queue_ids(verified_body.decode())) == 1


def test_the_queue_pages_by_keyset_in_a_bounded_number_of_queries(
    console, django_assert_max_num_queries
):
    made = [pending() for _ in range(55)]
    console.get("/console/organizations/")
    with django_assert_max_num_queries(4):
        first = console.get("/console/organizations/").content.decode()
    assert queue_ids(first) == [o.pk for o in made[:50]]
    next_url = re.search(r'href="(\?status=pending&amp;after=\d+)"', first)
    assert next_url
    second = console.get("/console/organizations/" + next_url.group(1).replace("&amp;", "&"))
    assert queue_ids(second.content.decode()) == [o.pk for o in made[50:]]


def test_the_detail_shows_the_number_with_a_link_to_the_nta_site(console):
    organization = pending(corporate_number="7000012050002", name_ja="国税庁")
    body = console.get(f"/console/organizations/{organization.pk}/").content.decode()
    assert "7000012050002" in body
    assert (
        'href="https://www.houjin-bangou.nta.go.jp/henkorireki-johoto.html?selHouzinNo='
        '7000012050002"' in body
    )
    assert "国税庁法人番号公表サイト" in body
    assert organization.account.number in body
    assert "組織を確認済みにする" in body


def test_verifying_emails_the_customer_and_leaves_the_queue(
    console, operator, django_capture_on_commit_callbacks
):
    account = AccountFactory()
    owner = UserFactory(account=account, language=User.Language.EN)
    organization = pending(
        account=account, created_by=owner, name_ja="株式会社さくら", name_en="Sakura K.K."
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"/console/organizations/{organization.pk}/verify/", {"verify-reason": ""}
        )
    assert response.status_code == 302
    assert response["Location"] == "/console/organizations/"
    organization.refresh_from_db()
    assert organization.status == Organization.Status.VERIFIED
    assert organization.verified_by == operator
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert mail.outbox[0].subject == "[certdesk] Sakura K.K. has been verified"
    body = console.get(response["Location"]).content.decode()
    assert "組織「株式会社さくら」を確認済みにし" in body
    assert organization.pk not in queue_ids(body)


def test_rejecting_needs_a_reason_shown_on_the_form(console):
    organization = pending()
    response = console.post(
        f"/console/organizations/{organization.pk}/reject/", {"reject-reason": "  "}
    )
    assert response.status_code == 422
    error = re.search(r'id="id_reject-reason_error".*?</ul>', response.content.decode(), re.S)
    assert error and "理由を入力してください" in error.group(0)
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
    assert mail.outbox == []


def test_rejecting_emails_the_reason_in_the_customers_language(
    console, django_capture_on_commit_callbacks
):
    account = AccountFactory()
    owner = UserFactory(account=account, language=User.Language.JA)
    organization = pending(account=account, created_by=owner, name_ja="株式会社もみじ")
    with django_capture_on_commit_callbacks(execute=True):
        console.post(
            f"/console/organizations/{organization.pk}/reject/",
            {"reject-reason": "法人番号の登録内容と英語名が一致しません。"},
        )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED
    assert organization.status_reason == "法人番号の登録内容と英語名が一致しません。"
    (message,) = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == "[certdesk] 組織「株式会社もみじ」を確認できませんでした"
    assert "法人番号の登録内容と英語名が一致しません。" in message.body
    # The customer sees the reason in the portal too.
    customer = console.__class__()
    customer.force_login(owner)
    page = customer.get(f"/organizations/{organization.pk}/").content.decode()
    assert "法人番号の登録内容と英語名が一致しません。" in page


def test_deciding_twice_shows_the_conflict(console):
    organization = pending()
    console.post(f"/console/organizations/{organization.pk}/verify/", {})
    response = console.post(f"/console/organizations/{organization.pk}/verify/", {})
    assert response.status_code == 409
    assert "organization_already_decided" in response.content.decode()


def test_a_verification_can_be_withdrawn(console):
    organization = OrganizationFactory()
    body = console.get(f"/console/organizations/{organization.pk}/").content.decode()
    assert "確認を取り消す" in body
    console.post(
        f"/console/organizations/{organization.pk}/reject/", {"reject-reason": "法人が解散"}
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED


def test_the_overview_counts_what_waits(console):
    pending()
    pending()
    body = console.get("/console/").content.decode()
    assert re.search(r'確認待ちの組織</dt><dd><a href="/console/organizations/">2<', body)
    assert 'href="/console/applications/"' in body and 'href="/console/products/"' in body
