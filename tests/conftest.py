"""Fixtures shared by every test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in Japanese, the default language."""
    from django.utils import translation

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
def _terms_version_one(request: pytest.FixtureRequest) -> None:
    """Transactional tests empty every table when they end, the data migration's terms
    version 1 included; put it back so each such test starts from the installed state."""
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    from certdesk.terms.models import TermsVersion

    if not TermsVersion.objects.filter(number=1).exists():
        import_module("certdesk.terms.migrations.0002_version_one").create_version_one(apps, None)
