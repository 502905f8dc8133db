"""The HTTP concurrency limit: a burst of requests runs at most ``limit`` at a time, WebSockets pass."""

from __future__ import annotations

import asyncio

import pytest

from config.limits import HttpConcurrencyLimit


@pytest.mark.asyncio
async def test_at_most_limit_requests_run_at_once_and_all_finish():
    running = peak = done = 0

    async def app(scope, receive, send):
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    limited = HttpConcurrencyLimit(app, 3)
    await asyncio.gather(*(limited({"type": "http"}, None, None) for _ in range(20)))
    assert peak == 3 and done == 20


@pytest.mark.asyncio
async def test_websockets_are_not_limited():
    started = asyncio.Event()
    release = asyncio.Event()

    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            started.set()
        else:
            await release.wait()

    limited = HttpConcurrencyLimit(app, 1)
    blocking = asyncio.ensure_future(limited({"type": "http"}, None, None))
    await asyncio.sleep(0)
    await asyncio.wait_for(limited({"type": "websocket"}, None, None), timeout=1)
    assert started.is_set()
    release.set()
    await blocking


@pytest.mark.asyncio
async def test_the_health_check_does_not_wait_behind_stuck_requests():
    release = asyncio.Event()
    answered = []

    async def app(scope, receive, send):
        if scope["path"] == "/healthz":
            answered.append(scope["path"])
        else:
            await release.wait()  # e.g. waiting for a database connection that does not come

    limited = HttpConcurrencyLimit(app, 1)
    stuck = [asyncio.ensure_future(limited({"type": "http", "path": "/w/1/live/"}, None, None)) for _ in range(3)]
    await asyncio.sleep(0)
    await asyncio.wait_for(limited({"type": "http", "path": "/healthz"}, None, None), timeout=1)
    assert answered == ["/healthz"]
    release.set()
    await asyncio.gather(*stuck)
