"""The cache while Redis is away: misses and skipped writes, never an exception (PostgreSQL is the truth)."""

from __future__ import annotations

import logging
import socket

import pytest
from django.core.cache.backends.redis import RedisCache

from config.cache import TolerantRedisCache


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def away():
    return TolerantRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}})


def test_the_plain_redis_cache_raises_while_redis_is_away():
    from redis import ConnectionError as RedisConnectionError

    plain = RedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {})
    with pytest.raises(RedisConnectionError):
        plain.get("key")


def test_every_call_degrades_to_a_miss_or_a_skipped_write(away, caplog):
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert away.get("panel") is None
        assert away.get("panel", "fallback") == "fallback"
        assert away.get_many(["a", "b"]) == {}
        assert away.has_key("a") is False
        assert away.set("a", 1) is None
        assert away.set_many({"a": 1, "b": 2}) == ["a", "b"]  # Django's "these were not set"
        assert away.add("lock", 1) is False  # nobody gets the lock: the task tries again later
        assert away.touch("lock") is False
        assert away.delete("lock") is False
        assert away.delete_many(["a"]) is None
        assert away.incr("failures") == 1  # a throttle's counter starts again: it fails open
        assert away.clear() is False
    assert "cache get skipped: Redis unavailable (ConnectionError)" in caplog.text


def test_a_missing_counter_still_raises_value_error_when_redis_is_there(settings):
    import os

    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL not set")
    present = TolerantRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "kehittamo-test-cache"})
    with pytest.raises(ValueError):
        present.incr("never-set-counter-key")


def test_cache_objects_of_every_thread_share_one_connection_pool(settings):
    """Django makes a cache object per thread and, under ASGI, per request; each used to open its own
    connection to Redis. Forty of them, each in a thread of its own, now share one (the bound leaves room for
    other clients of the same Redis server)."""
    import os
    import threading

    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL not set")
    url = os.environ["REDIS_URL"]
    params = {"KEY_PREFIX": "kehittamo-test-pool", "OPTIONS": {"socket_timeout": 5}}
    TolerantRedisCache(url, params).get("warm-up")  # the pool's first connection
    server = TolerantRedisCache(url, params)._cache.get_client(write=True)
    connections_before = server.info("stats")["total_connections_received"]

    def one_request():
        TolerantRedisCache(url, params).get("panel")  # a fresh object, as a request's cache is

    for _ in range(40):
        request = threading.Thread(target=one_request)
        request.start()
        request.join()
    assert server.info("stats")["total_connections_received"] - connections_before < 10
    assert TolerantRedisCache(url, params)._cache is TolerantRedisCache(url, dict(params))._cache
    other_options = TolerantRedisCache(url, {"OPTIONS": {"socket_timeout": 1}})
    assert other_options._cache is not TolerantRedisCache(url, params)._cache
