"""Sync database work run from the server's event loop: the live sockets', the hub's and the health check's.

On PostgreSQL it runs in the loop's worker threads, side by side: the default (thread-sensitive)
queues every socket's connect, heartbeat and leave behind one shared thread, and while the request
threads are busy, connects then wait past the server's handshake timeout. The functions run this way
share no thread-bound state. SQLite takes one writer at a time anyway (and the tests' in-memory SQLite
is one connection's), so there the work stays in the one shared thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async as _in_the_shared_thread
from django.db import close_old_connections, connections

_R = TypeVar("_R")


class _InAWorkerThread(SyncToAsync):
    """Channels' ``DatabaseSyncToAsync``, with Django's clean-up called directly.

    A worker thread's connection goes back to the pool before and after each call. Channels' test
    communicator turns channels' own clean-up into a no-op while it drives a consumer (it expects a
    TestCase's single connection); with worker threads that kept one pooled connection checked out per
    call, and the suite's socket tests ran the pool dry.
    """

    def thread_handler(self, loop, *args, **kwargs):
        close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            close_old_connections()


def database_sync_to_async(
    func: Callable[..., _R], executor: ThreadPoolExecutor | None = None
) -> Callable[..., Awaitable[_R]]:
    """``func`` run in a worker thread: the loop's default pool, or ``executor`` (a pool of its own for work
    that must not keep the sockets' connects waiting)."""
    if connections["default"].vendor == "sqlite":
        return _in_the_shared_thread(func)
    return _InAWorkerThread(func, thread_sensitive=False, executor=executor)
