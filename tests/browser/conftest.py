"""Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between page actions are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context (own cookies), desktop-sized unless told otherwise."""
    contexts = []

    def open_page(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, locale="en-US", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_accessible(axe):
    """Run axe-core on the page as it is now; fail on any violation, with the report."""

    def check(page, label: str = ""):
        results = axe.run(page)
        assert results.violations_count == 0, f"axe violations on {label or page.url}:\n{results.generate_report()}"

    return check


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup, django_db_blocker):
    """Daphne serving the real ASGI app (HTTP and WebSockets) against the test database, in a child process.

    The child is forked after the test database exists, so it inherits its name; tests that use it
    must commit their data (``transactional_db``). An in-memory SQLite test database cannot be
    shared with another process, so those runs skip (CI runs PostgreSQL).
    """
    from functools import partial

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from tests.conftest import require_service

    with django_db_blocker.unblock():
        in_memory = any(c.vendor == "sqlite" and c.is_in_memory_db() for c in connections.all())
        require_service("PostgreSQL (a database another process can share)", not in_memory)
        connections.close_all()  # the child must open its own connections, not share these sockets
        # Forked while unblocked: the child may use the database, which pytest-django blocks by default.
        process = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
        process.start()
    if not process.ready.wait(timeout=20):
        process.terminate()
        raise RuntimeError("Daphne did not start")
    yield f"http://127.0.0.1:{process.port.value}"
    process.terminate()
    process.join(timeout=10)
