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
