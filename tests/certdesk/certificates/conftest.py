"""Fixtures for the certificate tests: a frozen clock and signed-in portal clients. The lab
DNS and HTTP servers (``dns_zone``, ``http_site``) come from the root conftest."""

from __future__ import annotations

from tests.certdesk.members.conftest import clock, owner, portal_as  # noqa: F401
