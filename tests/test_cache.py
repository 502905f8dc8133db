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
