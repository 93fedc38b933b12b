"""Article 11: a version takes effect 15 days after publication, or when the customer is
emailed about it, whichever comes first; registration accepts the newest published text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from certdesk.terms.models import TermsNoticeDelivery, TermsVersion
from certdesk.terms.selectors import (
    terms_current,
    terms_effective_at,
    terms_in_effect,
    terms_pending_for,
)
from certdesk.terms.services import terms_accept
from tests.certdesk.terms.factories import (
    V1_PUBLISHED,
    AccountFactory,
    OperatorFactory,
    TermsVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_version_one_is_published_from_new_year_2026_in_japan():
    v1 = TermsVersion.objects.get(number=1)
    assert v1.status == TermsVersion.Status.PUBLISHED
    assert v1.published_at == V1_PUBLISHED
    assert terms_current(now=V1_PUBLISHED - timedelta(seconds=1)) is None
    assert terms_current(now=V1_PUBLISHED) == v1


@pytest.mark.parametrize(
    ("emailed_after", "now_after", "in_effect"),
    [
        (None, 14 * DAY, False),  # within the 15 days, not emailed
        (None, 15 * DAY - timedelta(seconds=1), False),
        (None, 15 * DAY, True),  # exactly 15 days after publication
        (None, 40 * DAY, True),
        (3 * DAY, 2 * DAY, False),  # the email has not gone out yet
        (3 * DAY, 3 * DAY, True),  # effective the moment it is emailed
        (3 * DAY, 10 * DAY, True),
        (20 * DAY, 16 * DAY, True),  # emailed late: the 15 days came first
    ],
)
def test_effect_is_fifteen_days_or_the_email_whichever_first(emailed_after, now_after, in_effect):
    account = AccountFactory()
    v2 = TermsVersionFactory(published_at=PUBLISHED)
    if emailed_after is not None:
        user = UserFactory(account=account, accepted_terms=False)
        TermsNoticeDelivery.objects.create(
            version=v2,
            account=account,
            user=user,
            email=user.email,
            emailed_at=PUBLISHED + emailed_after,
        )
    now = PUBLISHED + now_after
    assert (v2 in terms_in_effect(account=account, now=now)) is in_effect
    expected = PUBLISHED + min(emailed_after or 15 * DAY, 15 * DAY)
    assert terms_effective_at(version=v2, account=account) == expected


def test_an_email_to_one_customer_does_not_bring_the_date_forward_for_another():
    emailed, other = AccountFactory(), AccountFactory()
    v2 = TermsVersionFactory(published_at=PUBLISHED)
    user = UserFactory(account=emailed, accepted_terms=False)
    TermsNoticeDelivery.objects.create(
        version=v2, account=emailed, user=user, email=user.email, emailed_at=PUBLISHED + DAY
    )
    now = PUBLISHED + 2 * DAY
    assert v2 in terms_in_effect(account=emailed, now=now)
    assert v2 not in terms_in_effect(account=other, now=now)


def test_registration_accepts_the_newest_published_version_even_within_its_fifteen_days():
    v2 = TermsVersionFactory(published_at=PUBLISHED)
    TermsVersionFactory(published_at=PUBLISHED + 30 * DAY)  # scheduled, not yet public
    now = PUBLISHED + DAY
    assert terms_current(now=now) == v2
    user = UserFactory(accepted_terms=False)
    terms_accept(user=user, version=terms_current(now=now), ip="198.51.100.7", now=now)
    # Having accepted v2, the user owes nothing for v1 nor for v2 once it takes effect.
    for later in (now, PUBLISHED + 20 * DAY):
        assert terms_pending_for(user=user, now=later) is None


def test_drafts_are_never_current():
    TermsVersionFactory(status=TermsVersion.Status.DRAFT, published_at=None)
    assert terms_current(now=PUBLISHED).number == 1


def test_pending_is_the_newest_version_in_effect_not_yet_accepted():
    user = UserFactory(accepted_terms=PUBLISHED - DAY)  # accepted v1
    v2 = TermsVersionFactory(published_at=PUBLISHED)
    assert terms_pending_for(user=user, now=PUBLISHED + DAY) is None
    assert terms_pending_for(user=user, now=PUBLISHED + 15 * DAY) == v2
    v3 = TermsVersionFactory(published_at=PUBLISHED + 20 * DAY)
    assert terms_pending_for(user=user, now=PUBLISHED + 36 * DAY) == v3
    terms_accept(user=user, version=v3, ip=None, now=PUBLISHED + 36 * DAY)
    assert terms_pending_for(user=user, now=PUBLISHED + 36 * DAY) is None


def test_a_user_who_never_accepted_anything_owes_the_version_in_effect():
    user = UserFactory(accepted_terms=False)
    assert terms_pending_for(user=user, now=PUBLISHED).number == 1


def test_operators_never_have_terms_pending():
    assert terms_pending_for(user=OperatorFactory(), now=PUBLISHED + 400 * DAY) is None


def test_each_user_of_an_account_accepts_for_themselves():
    owner = UserFactory(accepted_terms=PUBLISHED - DAY)
    member = UserFactory(account=owner.account, role="member", accepted_terms=PUBLISHED - DAY)
    v2 = TermsVersionFactory(published_at=PUBLISHED)
    now = PUBLISHED + 16 * DAY
    terms_accept(user=owner, version=v2, ip=None, now=now)
    assert terms_pending_for(user=owner, now=now) is None
    assert terms_pending_for(user=member, now=now) == v2


def test_accepting_twice_keeps_the_first_record():
    user = UserFactory(accepted_terms=False)
    v1 = TermsVersion.objects.get(number=1)
    first = terms_accept(user=user, version=v1, ip="203.0.113.5", now=PUBLISHED)
    again = terms_accept(user=user, version=v1, ip="203.0.113.99", now=PUBLISHED + DAY)
    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.accepted_at, again.ip) == (PUBLISHED, "203.0.113.5")
    assert user.terms_acceptances.count() == 1


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
def test_an_unpublished_version_cannot_be_accepted(kind):
    from certdesk.core.errors import InvalidInput

    if kind == "draft":
        version = TermsVersionFactory(status=TermsVersion.Status.DRAFT, published_at=None)
    else:
        version = TermsVersionFactory(published_at=PUBLISHED + DAY)
    user = UserFactory(accepted_terms=False)
    with pytest.raises(InvalidInput) as exc:
        terms_accept(user=user, version=version, ip=None, now=PUBLISHED)
    assert exc.value.code == "terms_not_published"
    assert not user.terms_acceptances.exists()
