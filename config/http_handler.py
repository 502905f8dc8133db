"""Django's HTTP side of the ASGI server: each request's synchronous work in one trip to a worker thread.

Django's own ``ASGIHandler`` builds the middleware for async use. Kehittämö's middleware and views are
synchronous, so for every request that handler starts a new thread (asgiref's ``ThreadSensitiveContext``)
and crosses between the event loop and it four times: for the ``request_started`` signal, into the
middleware, back to the loop to resolve the URL and into the thread again for the view, and once more
for ``response.close()``. On a 2-core machine each crossing cost ~0.2 ms of CPU and the thread ~0.4 ms;
a request that does nothing but pass the middleware with a session cost 6.1 ms in-process, 3.3 ms
here (docs/performance.md, "Session 14").

``PooledASGIHandler`` runs Django the way a threaded WSGI server does. The body is read on the loop;
``request_started``, the request, the middleware and the view, and for an ordinary response its close
(``request_finished``, which hands the database connection back to the pool) run in one call on a pool
of long-lived threads; the response is sent from the loop. A synchronous streaming response (a file, the
CSV export) is read whole in that call, as Django's own handler also does under ASGI. Async views (the
health check) still work: Django's sync handler runs them with ``async_to_sync`` on the server's loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

# Paths that HttpConcurrencyLimit lets through at once also get threads of their own, so that the health
# check answers while every request thread waits for a database that is away.
RESERVED_THREADS = 2


class PooledASGIHandler(ASGIHandler):
    """An ASGI application for Django's HTTP requests, with ``threads`` worker threads (at least the number of
    requests let in at once) and ``RESERVED_THREADS`` more for ``reserved_paths``."""

    def __init__(self, threads: int, reserved_paths: frozenset[str] = frozenset()):
        super().__init__()
        self.reserved_paths = reserved_paths
        self._requests = ThreadPoolExecutor(max(1, threads), thread_name_prefix="http")
        self._reserved = ThreadPoolExecutor(RESERVED_THREADS, thread_name_prefix="http-reserved")

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        pool = self._reserved if scope.get("path") in self.reserved_paths else self._requests
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=False, executor=pool)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if not response.closed:  # an asynchronous stream: closed once it has been sent
                    await sync_to_async(response.close, thread_sensitive=False, executor=pool)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """Django's synchronous handling of one request, as in a WSGI server (in a worker thread)."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # the ASGI server chunks the file itself
        if response.streaming:
            if response.is_async:
                return response
            # Read a synchronous stream whole in the thread that made it, as Django's own handler does: its
            # queries use this thread's database connection, which request_finished then hands back.
            response.streaming_content = _replay(list(response.streaming_content))
        response.close()  # request_finished: the database connection goes back to the pool
        return response


async def _replay(chunks: list[bytes]):
    for chunk in chunks:
        yield chunk
