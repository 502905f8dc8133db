"""The Redis cache, degrading to a miss while Redis is away.

The cache only holds what can be rebuilt (shared page parts, rankings) or what may be forgotten
(throttle counters, the locks that keep two workers off one export). PostgreSQL is the truth: a Redis
outage must not turn every page that reads the cache into a 500. A failed read is a miss, a failed write
is skipped, a failed ``add`` is "not added" (a task then waits and tries again), each logged.
"""

from __future__ import annotations

import logging
import threading

from django.core.cache.backends.redis import RedisCache
from redis import RedisError

logger = logging.getLogger(__name__)


def _tolerant(name: str, fallback):
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            logger.warning("cache %s skipped: Redis unavailable (%s)", name, type(error).__name__)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


def _default(key, default=None, *args, **kwargs):
    return default


def _delta(key, delta=1, *args, **kwargs):
    return delta  # a counter that starts again: throttles fail open


_clients_lock = threading.Lock()
_clients: dict[tuple, object] = {}


class TolerantRedisCache(RedisCache):
    """``RedisCache`` whose calls never raise because Redis cannot be reached (see the module's docstring).

    Its Redis client, and so its connection pool, is one per process. Django makes a cache object per
    thread and, under ASGI, per request; each of Django's objects makes a pool of its own, so every request
    that touched the cache opened a new connection to Redis (about 3 ms of a comment's POST, see
    docs/performance.md). redis-py's pools are thread-safe and start afresh in a forked child.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._client_key = (tuple(self._servers), repr(sorted(self._options.items())))  # once, not per call

    @property
    def _cache(self):
        client = _clients.get(self._client_key)
        if client is None:
            with _clients_lock:
                client = _clients.get(self._client_key)
                if client is None:
                    client = _clients[self._client_key] = self._class(self._servers, **self._options)
        return client

    get = _tolerant("get", _default)
    get_many = _tolerant("get_many", lambda *args, **kwargs: {})
    has_key = _tolerant("has_key", False)
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", lambda data, *args, **kwargs: list(data))
    add = _tolerant("add", False)
    touch = _tolerant("touch", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    incr = _tolerant("incr", _delta)
    decr = _tolerant("decr", lambda key, delta=1, *args, **kwargs: -delta)
    clear = _tolerant("clear", False)

    def pipeline(self, key: str):
        """A Redis pipeline (no transaction) on the server that holds ``key``, a key made with
        ``make_and_validate_key``: several commands in one round trip. It raises RedisError like Redis."""
        return self._cache.get_client(key, write=True).pipeline(transaction=False)
