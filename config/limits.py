"""How many HTTP requests one server process runs at once."""

from __future__ import annotations

import asyncio

UNLIMITED_PATHS = frozenset({"/healthz"})


class HttpConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests run their Django code at once; the rest wait their turn.

    A request holds a database connection while its synchronous code runs. With a thread per request
    (Django's own handler) and no limit, a burst of hundreds of votes became hundreds of threads taking
    turns on one interpreter lock and waiting for the pool's connections: every request slowed down and
    those that waited longest for a connection failed. Waiting in the event loop costs nothing, keeps the
    order, and leaves connections for the WebSocket consumers; the HTTP handler (config/http_handler.py)
    has as many worker threads as this lets requests in. WebSockets and lifespan messages pass straight
    through.
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
