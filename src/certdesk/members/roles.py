"""Role names as members see them, and which roles may manage members."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import User

Role = User.Role

ROLE_LABELS: dict[str, Promise] = {
    Role.OWNER: _("Owner"),
    Role.ADMIN: _("Administrator"),
    Role.MEMBER: _("Member"),
    Role.READ_ONLY: _("Read-only"),
}
ROLE_CHOICES: list[tuple[str, Promise]] = list(ROLE_LABELS.items())
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})
# Roles only an owner may grant, and members only an owner may change or remove.
OWNER_ONLY_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def role_label(role: str) -> Promise | str:
    return ROLE_LABELS.get(role, role)
