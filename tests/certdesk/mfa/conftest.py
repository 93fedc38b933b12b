"""The account tests' fixtures (frozen clock, committing client, signed-in clients) serve
the second-factor tests too."""

from tests.certdesk.accounts.conftest import clock, owner, signed_in  # noqa: F401
