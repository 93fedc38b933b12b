"""Fixtures for domain-control-validation tests: real DNS and HTTP servers on loopback.

- ``dns_zone``: starts a ``LabDnsServer`` (see ``servers.py``), points
  ``settings.DCV_DNS_SERVER`` at it and yields its ``DnsZone``; add records with
  ``dns_zone.add_txt(...)``, ``add_caa``, ``add_a``, ``add_cname``, or make a name fail with
  ``servfail``/``drop``.
- ``http_site``: starts an ``HttpSite``, sets ``settings.DCV_HTTP_PORT`` to its port and
  ``settings.DCV_HOSTS`` to ``http_site.hosts`` (the names in ``HTTP_SITE_NAMES`` pointing at
  127.0.0.1; ``http_site.add_host(name)`` adds more). Serve a file with
  ``http_site.serve(path, body)``.

Both also set ``DCV_TIMEOUT_SECONDS`` to 2 seconds (loopback answers in milliseconds); a test
of timeouts lowers it further. To use them elsewhere, import them into that folder's
conftest: ``from tests.certdesk.validation.conftest import dns_zone, http_site``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.certdesk.validation.servers import DnsZone, HttpSite, LabDnsServer

HTTP_SITE_NAMES = ("example.com", "www.example.com", "shop.example.jp")
TEST_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def dns_zone(settings) -> Iterator[DnsZone]:
    """A real DNS server on loopback answering from the yielded zone."""
    with LabDnsServer() as server:
        settings.DCV_DNS_SERVER = server.address
        settings.DCV_TIMEOUT_SECONDS = TEST_TIMEOUT_SECONDS
        yield server.zone


@pytest.fixture
def http_site(settings) -> Iterator[HttpSite]:
    """A real HTTP server on loopback that the HTTP check reaches for ``HTTP_SITE_NAMES``."""
    with HttpSite({name: "127.0.0.1" for name in HTTP_SITE_NAMES}) as site:
        settings.DCV_HTTP_PORT = site.port
        settings.DCV_HOSTS = site.hosts
        settings.DCV_TIMEOUT_SECONDS = TEST_TIMEOUT_SECONDS
        yield site
