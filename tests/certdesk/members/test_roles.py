"""Who may do what to whom: invitations, role changes, removals, and the last owner."""

from __future__ import annotations

import pytest
from django.utils import timezone

from certdesk.accounts.models import User
from certdesk.audit.models import AuditEvent
from certdesk.core.errors import CertdeskError
from certdesk.members.models import Invitation
from certdesk.members.services import member_invite, member_remove, member_role_change
from certdesk.tokens.models import ApiToken
from tests.certdesk.members.factories import AccountFactory, member_of, token_for

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "read_only"]

# (actor role, role granted) -> error code, or None when allowed.
INVITE_RULES = {
    **{("owner", r): None for r in ROLES},
    ("admin", "owner"): "owner_required",
    ("admin", "admin"): "owner_required",
    ("admin", "member"): None,
    ("admin", "read_only"): None,
    **{("member", r): "permission_denied" for r in ROLES},
    **{("read_only", r): "permission_denied" for r in ROLES},
}


def outcome(call) -> str | None:
    try:
        call()
    except CertdeskError as exc:
        return exc.code
    return None


@pytest.fixture
def account():
    account = AccountFactory()
    member_of(account, "owner", username="first-owner")
    return account


@pytest.mark.parametrize(("actor_role", "role"), sorted(INVITE_RULES))
def test_who_may_invite_which_role(account, actor_role, role):
    actor = member_of(account, actor_role)
    code = outcome(
        lambda: member_invite(actor=actor, email="new@example.co.jp", role=role, now=timezone.now())
    )
    assert code == INVITE_RULES[(actor_role, role)]
    assert Invitation.objects.filter(account=account).exists() == (code is None)


def _change_rule(actor_role: str, target_role: str, new_role: str) -> str | None:
    if actor_role not in ("owner", "admin"):
        return "permission_denied"
    if actor_role == "admin" and (
        "owner" in (target_role, new_role) or "admin" in (target_role, new_role)
    ):
        return "owner_required"
    return None


CHANGE_CASES = [(a, t, n) for a in ROLES for t in ROLES for n in ROLES if t != n]


@pytest.mark.parametrize(("actor_role", "target_role", "new_role"), CHANGE_CASES)
def test_who_may_change_whose_role(account, actor_role, target_role, new_role):
    actor = member_of(account, actor_role)
    target = member_of(account, target_role)
    code = outcome(
        lambda: member_role_change(
            actor=actor, member_id=target.pk, role=new_role, now=timezone.now()
        )
    )
    expected = _change_rule(actor_role, target_role, new_role)
    assert code == expected
    target.refresh_from_db()
    assert target.role == (new_role if expected is None else target_role)
    assert AuditEvent.objects.filter(action="member.role_changed").exists() == (expected is None)


@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("target_role", ROLES)
def test_who_may_remove_whom(account, actor_role, target_role):
    actor = member_of(account, actor_role)
    target = member_of(account, target_role)
    token_for(target)
    code = outcome(lambda: member_remove(actor=actor, member_id=target.pk, now=timezone.now()))
    expected = _change_rule(actor_role, target_role, "member")
    assert code == expected
    target.refresh_from_db()
    assert target.is_active == (expected is not None)
    # A removed member's tokens are revoked with them.
    assert ApiToken.objects.filter(user=target, revoked_at__isnull=True).exists() == (
        expected is not None
    )


def test_sole_owner_cannot_step_down_or_leave():
    owner = member_of(AccountFactory(), "owner")
    now = timezone.now()
    assert (
        outcome(lambda: member_role_change(actor=owner, member_id=owner.pk, role="admin", now=now))
        == "last_owner"
    )
    assert outcome(lambda: member_remove(actor=owner, member_id=owner.pk, now=now)) == "last_owner"
    owner.refresh_from_db()
    assert owner.role == User.Role.OWNER and owner.is_active
    assert not AuditEvent.objects.filter(action__startswith="member.").exists()


def test_a_removed_owner_does_not_count_as_the_remaining_owner():
    account = AccountFactory()
    owner = member_of(account, "owner")
    member_of(account, "owner", is_active=False)
    assert (
        outcome(
            lambda: member_role_change(
                actor=owner, member_id=owner.pk, role="member", now=timezone.now()
            )
        )
        == "last_owner"
    )


def test_nobody_changes_their_own_role_or_removes_themselves(account):
    owner = member_of(account, "owner")
    admin = member_of(account, "admin")
    now = timezone.now()
    assert (
        outcome(lambda: member_role_change(actor=owner, member_id=owner.pk, role="admin", now=now))
        == "own_role"
    )
    assert (
        outcome(lambda: member_role_change(actor=admin, member_id=admin.pk, role="member", now=now))
        == "own_role"
    )
    assert outcome(lambda: member_remove(actor=owner, member_id=owner.pk, now=now)) == "remove_self"
    assert outcome(lambda: member_remove(actor=admin, member_id=admin.pk, now=now)) == "remove_self"


def test_an_owner_hands_over_to_another_owner(account):
    first = User.objects.get(username="first-owner")
    second = member_of(account, "owner")
    member_role_change(actor=second, member_id=first.pk, role="member", now=timezone.now())
    first.refresh_from_db()
    assert first.role == User.Role.MEMBER
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.data == {"username": first.username, "from": "owner", "to": "member"}
    assert event.actor == second
    # Now the last owner: the handover cannot be undone by removing them.
    assert (
        outcome(lambda: member_remove(actor=second, member_id=second.pk, now=timezone.now()))
        == "last_owner"
    )


def test_removal_is_audited_and_keeps_the_user_row(account):
    owner = User.objects.get(username="first-owner")
    member = member_of(account, "member")
    token_for(member)
    member_remove(actor=owner, member_id=member.pk, now=timezone.now())
    member.refresh_from_db()
    assert member.is_active is False
    assert AuditEvent.objects.get(action="member.removed").data["tokens_revoked"] == 1
    assert AuditEvent.objects.filter(action="token.revoked", target_id__isnull=False).count() == 1
    # A removed member cannot be removed again, nor have their role changed.
    assert (
        outcome(lambda: member_remove(actor=owner, member_id=member.pk, now=timezone.now()))
        == "member_not_found"
    )


def test_unknown_role_is_refused(account):
    owner = User.objects.get(username="first-owner")
    member = member_of(account, "member")
    assert (
        outcome(
            lambda: member_role_change(
                actor=owner, member_id=member.pk, role="root", now=timezone.now()
            )
        )
        == "role_invalid"
    )
    assert (
        outcome(
            lambda: member_invite(
                actor=owner, email="x@example.co.jp", role="root", now=timezone.now()
            )
        )
        == "role_invalid"
    )


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    """Each change locks the account row first; on PostgreSQL the two run truly in parallel."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the race needs PostgreSQL")
    account = AccountFactory()
    first = member_of(account, "owner")
    second = member_of(account, "owner")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str | None] = {}

    def demote(actor: User, target: User) -> None:
        barrier.wait()
        try:
            outcomes[actor.username] = outcome(
                lambda: member_role_change(
                    actor=actor, member_id=target.pk, role="member", now=timezone.now()
                )
            )
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values(), key=str) == sorted([None, "permission_denied"], key=str)
    assert User.objects.filter(account=account, role="owner", is_active=True).count() == 1
