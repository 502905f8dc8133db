"""How many HTTP requests one server process runs at once."""

from __future__ import annotations

import asyncio

UNLIMITED_PATHS = frozenset({"/healthz"})


class HttpConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests run their Django code at once; the rest wait their turn.

    Django runs each request's synchronous code in a thread of its own, and the request holds a
    database connection while it runs. Unbounded, a burst of hundreds of votes becomes hundreds of
    threads taking turns on one interpreter lock and waiting for the pool's connections: every request
    slows down and those that wait longest for a connection fail. Waiting in the event loop costs
    nothing, keeps the order, and leaves connections for the WebSocket consumers. WebSockets and
    lifespan messages pass straight through.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = max(1, limit)
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    async def __call__(self, scope, receive, send):
        # /healthz answers at once even when every slot waits for a database that is away: a health check
        # queued behind the requests it should report on would time out instead of saying what is wrong.
        if scope["type"] != "http" or scope.get("path") in UNLIMITED_PATHS:
            return await self.app(scope, receive, send)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            return await self.app(scope, receive, send)
