"""The rate limits' counting (config/throttle.py): per scope, in one round trip to Redis, a refusal counted
only up to its own scope, and failing open while Redis is away."""

from __future__ import annotations

import logging
import os
import socket

import pytest
from django.core.cache import caches

from config import throttle
from config.cache import TolerantRedisCache

LIMITS = {"vote": {"guest": (2, 60), "address": (3, 60), "workshop": (100, 60)}}


@pytest.fixture
def limits(settings):
    settings.KEHITTAMO_RATE_LIMITS = LIMITS
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1


def vote(person: str, address: str = "10.0.0.1"):
    return throttle.over_limit("vote", address=address, workshop_id=7, person=person)


def test_each_scope_counts_and_a_refusal_stops_counting_at_its_scope(limits):
    assert [vote("p1"), vote("p1")] == [None, None]
    assert vote("p1") == 60, "the guest's third vote in a minute"
    # The refused vote did not use up the address's or the workshop's share ...
    assert throttle.hits("vote:address:10.0.0.1") == 2
    assert throttle.hits("vote:workshop:7") == 2
    # ... so another guest behind the same address still has one vote left, then the address is full.
    assert vote("p2") is None
    assert vote("p3") == 60
    assert throttle.hits("vote:guest:p3") == 1 and throttle.hits("vote:workshop:7") == 3


def test_the_counters_live_in_redis_with_their_window(limits):
    backend = caches["default"]
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the counters are in the memory cache without REDIS_URL")
    assert vote("p1") is None
    client = backend._cache.get_client(write=True)
    for key in ("vote:guest:p1", "vote:address:10.0.0.1", "vote:workshop:7"):
        full = backend.make_and_validate_key(f"throttle:{key}")
        assert int(client.get(full)) == 1 and 0 < client.ttl(full) <= 60
    # A taken-back hit whose window had just passed leaves no counter without a window behind.
    gone = backend.make_and_validate_key("throttle:vote:address:gone")
    throttle._count_all([("vote:address:gone", 60)], step=-1)
    assert 0 < client.ttl(gone) <= 60


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_while_redis_is_away_the_limits_fail_open(limits, monkeypatch, caplog):
    away = TolerantRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    monkeypatch.setattr(throttle, "caches", {"default": away})
    monkeypatch.setattr(throttle, "cache", away)
    with caplog.at_level(logging.WARNING, logger="config.throttle"):
        assert [vote("p1") for _ in range(5)] == [None] * 5
    assert "throttle counts skipped: Redis unavailable" in caplog.text
