"""Two processes asking for a CRL at the same moment, both finding the latest one stale: one
CRL is published under the next number and both serve it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

import pki
from certdesk.core import clock
from certdesk.repository import services
from certdesk.repository.models import CrlRecord
from certdesk.repository.services import crl_current

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_requests_publish_one_crl_and_serve_it(
    ca: pki.BuiltinCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("an in-memory SQLite database is one connection; the race needs two")
    now = clock.now()
    stale = crl_current(slug=ca.issuing.slug, now=now)
    later = now + timedelta(minutes=2)
    both_looked = threading.Barrier(2, timeout=10)
    real = services.crl_latest
    waited = threading.local()

    def latest_then_wait(*, authority: str) -> CrlRecord | None:
        # Each request's first look waits for the other's, so both decide on the same number.
        found = real(authority=authority)
        if not getattr(waited, "done", False):
            waited.done = True
            both_looked.wait()
        return found

    monkeypatch.setattr(services, "crl_latest", latest_then_wait)
    served: list[CrlRecord] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            served.append(crl_current(slug=ca.issuing.slug, now=later))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert [record.number for record in served] == [stale.number + 1] * 2
    assert bytes(served[0].der) == bytes(served[1].der)
    assert CrlRecord.objects.filter(authority=ca.issuing.slug).count() == 2
