"""Fixtures shared by every test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from tests.certdesk.validation.conftest import dns_zone, http_site  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in Japanese, the default language, and with an empty cache (no CAA
    permission remembered from another test)."""
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    translation.activate("ja")
    yield
    translation.deactivate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)


class _Collector:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.server.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback, with Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(_Collector(server), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        controller.stop()


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return True
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return False
    return bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))


@pytest.fixture(autouse=True)
def _installed_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests empty every table when they end, the data migrations' rows (terms
    version 1, the default products) included; put them back so each such test starts from
    the installed state."""
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    from certdesk.terms.models import TermsVersion

    if not TermsVersion.objects.filter(number=1).exists():
        import_module("certdesk.terms.migrations.0002_version_one").create_version_one(apps, None)
    import_module("certdesk.certificates.migrations.0004_default_products").create(apps, None)


@pytest.fixture(scope="session", autouse=True)
def _lab_resolver() -> Iterator[None]:
    """Every DNS lookup certdesk makes in the suite (CAA before issuance, DCV) goes to a real
    DNS server on loopback with an empty zone, never to the machine's resolver. Tests that
    need records use the ``dns_zone`` fixture, which points the setting at their own server."""
    from django.conf import settings

    from tests.certdesk.validation.servers import LabDnsServer

    with LabDnsServer() as server:
        previous = settings.DCV_DNS_SERVER
        settings.DCV_DNS_SERVER = server.address
        yield
        settings.DCV_DNS_SERVER = previous


# The built-in CA the suite issues from was made on this date, so tests may issue "as of"
# any moment from then until the issuing CA expires (five years later).
CA_CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def _builtin_ca() -> None:
    """Create the suite's built-in CA as of ``CA_CREATED_AT`` before anything loads it."""
    from django.conf import settings

    import pki
    from certdesk.suppliers.builtin import builtin_ca

    pki.BuiltinCA.load_or_create(
        directory=settings.CA_DIR,
        keys=pki.FileKeyStore(settings.CA_DIR / "keys", secret=settings.SECRET_KEY),
        config=pki.CaConfig(base_url=settings.CA_BASE_URL),
        now=CA_CREATED_AT,
    )
    builtin_ca.cache_clear()
