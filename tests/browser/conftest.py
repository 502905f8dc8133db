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


SETTLE_ANIMATIONS = """() => {
  for (const animation of document.getAnimations()) {
    if (animation.effect && animation.effect.getComputedTiming().endTime !== Infinity) animation.finish();
  }
}"""


@pytest.fixture
def assert_accessible(axe):
    """Run axe-core on the page as it is now; fail on any violation, with the report."""

    def check(page, label: str = ""):
        # Colours are judged at rest: an arrival's fade (the big screen's new row) passes through low
        # contrast for a moment, and a push landing just before the scan would catch it mid-way. Reduced
        # motion switches such effects off, as it does for people who ask for it; whatever still runs is
        # taken to its end.
        page.emulate_media(reduced_motion="reduce")
        page.evaluate(SETTLE_ANIMATIONS)
        try:
            results = axe.run(page)
        finally:
            page.emulate_media(reduced_motion="no-preference")
        assert results.violations_count == 0, f"axe violations on {label or page.url}:\n{results.generate_report()}"

    return check


def _env_on_test_database(django_db_blocker) -> dict[str, str]:
    """The environment of a server process that shares this run's PostgreSQL test database and Redis."""
    from urllib.parse import quote

    from django.db import connection

    from tests.conftest import require_service

    with django_db_blocker.unblock():
        database = connection.settings_dict
        require_service("PostgreSQL (a database another process can share)", connection.vendor == "postgresql")
    user = quote(database["USER"] or "", safe="")
    password = quote(database["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if user else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{credentials}{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        f"/{database['NAME']}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup, django_db_blocker):
    """Daphne serving the real ASGI app (HTTP and WebSockets) against the test database.

    It runs as a separate process started from the command line, exactly as in production, with
    DATABASE_URL pointing at the test database and the same REDIS_URL; tests that use it must commit
    their data (``transactional_db``). An in-memory SQLite test database cannot be shared with
    another process, so without PostgreSQL those tests skip (CI runs PostgreSQL).
    """
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    env = _env_on_test_database(django_db_blocker)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    daphne = Path(sys.executable).with_name("daphne")
    server = subprocess.Popen(
        [str(daphne), "--access-log", os.devnull, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=root,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                break
        except urllib.error.HTTPError:
            break  # it answers; /healthz itself has its own tests
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("Daphne did not start") from None
            time.sleep(0.2)
    yield base
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="session")
def asgi_celery_worker(asgi_live_server, django_db_blocker):
    """A Celery worker process beside ``asgi_live_server``, as in production (batched ranking pushes).

    It starts with ``--purge``: tasks other tests queued without a worker are dropped, not run.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    env = _env_on_test_database(django_db_blocker)
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool", "solo", "--purge", "--loglevel", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    time.sleep(3)  # connected to the broker; a task sent earlier would wait in the queue anyway
    if worker.poll() is not None:
        raise RuntimeError("The Celery worker did not start")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
