"""The member tests' fixtures (frozen clock, Bearer and portal clients) serve tokens too."""

from tests.certdesk.members.conftest import api_as, clock, owner, portal_as  # noqa: F401
