"""Browser tests: Playwright drives Debian's Chromium against a live server.

Screenshots go to ``test-output/screenshots/`` so that people can look at the pages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            # One browser flow at a time per worker; keep them on one xdist worker.
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page_for(browser):  # type: ignore[no-untyped-def]
    """``page_for(language)`` opens a fresh browser context whose UI language is set (a
    desktop window unless ``width``/``height`` say otherwise). At the end, the test fails if
    the browser reported a CSP violation, a script error, a 5xx or a missing static file."""
    contexts = []
    problems: list[str] = []

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        # The strict CSP reports what it blocks on the console: every such line is a bug.
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    def open_page(language: str, *, width: int = 1200, height: int = 900):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            locale="ja-JP" if language == "ja" else "en-US",
            extra_http_headers={"Accept-Language": language},
            viewport={"width": width, "height": height},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} {response.url}")
                if response.status >= 500 or (response.status == 404 and "/static/" in response.url)
                else None
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)


@pytest.fixture
def screenshot():  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# ---- helpers for the flows ----------------------------------------------------------------


class Shots:
    """Numbered full-page screenshots of one flow: ``e2e_<lang>_<nn>_<step>.png``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.taken: list[Path] = []

    def __call__(self, page, step: str) -> Path:  # type: ignore[no-untyped-def]
        """Save the whole page; fail if anything makes the page wider than the window."""
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{step}: the page is {overflow}px wider than the window"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.prefix}_{len(self.taken) + 1:02d}_{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots_for():  # type: ignore[no-untyped-def]
    """``shots_for("e2e_ja")`` numbers the screenshots of one flow."""
    return Shots


@pytest.fixture
def mail_to():  # type: ignore[no-untyped-def]
    """``mail_to(address, template)``: the last email of ``template`` delivered to ``address``
    (Django's locmem outbox), with the queued row it was sent from."""
    from django.core import mail

    from certdesk.notifications.models import OutboundEmail

    def find(address: str, template: str):  # type: ignore[no-untyped-def]
        row = OutboundEmail.objects.filter(to=address, template=template).order_by("-pk").first()
        assert row is not None, f"no {template} email was queued for {address}"
        sent = [
            m
            for m in mail.outbox
            if address in m.to and m.extra_headers.get("X-Certdesk-Template") == template
        ]
        assert sent, f"the {template} email to {address} was queued but not delivered"
        return sent[-1], row

    return find


def totp_code(secret: str, *, step: int | None = None) -> str:
    """The code an authenticator app shows for ``secret`` (base32, spaces allowed) in the
    current 30-second step, or in time step ``step``.

    Before the current step's code is returned, a step about to end is waited out: a code typed
    a second before the step changes is accepted with one step of drift, which the server then
    remembers, and that would make the next code the test computes from the wall clock miss."""
    import base64
    import time

    from django_otp.oath import TOTP

    compact = "".join(secret.split()).upper()
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    if step is None:
        remaining = 30 - time.time() % 30
        if remaining < 5:
            time.sleep(remaining + 0.1)
        totp.time = time.time()
    else:
        totp.time = step * 30 + 1
    return f"{totp.token():06d}"
