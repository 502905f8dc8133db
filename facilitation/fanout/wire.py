"""What travels: the Redis channel of a workshop, the frames built from an event, the shared client."""

from __future__ import annotations

import json
import threading
from typing import Any

from django.conf import settings
from django.utils import timezone

RESYNC = {"kind": "resync", "id": None, "data": {}}
PAUSED = {"kind": "live.paused", "id": None, "data": {}}


def channel_for(workshop_id: int) -> str:
    """The Redis pub/sub channel of one workshop in this deployment.

    Pub/sub channels are shared by every database of a Redis server, so the name carries the Redis
    database number and the PostgreSQL database's name: a benchmark never delivers into the tests'
    sockets, nor the tests into a benchmark's.
    """
    from redis.connection import parse_url

    redis_db = parse_url(settings.REDIS_URL).get("db", 0) if settings.REDIS_URL else 0
    database = settings.DATABASES["default"]["NAME"]
    return f"kehittamo.{redis_db}.{database}.live.w{workshop_id}"


def encode_frame(event: dict, language: str, now: str) -> str:
    """One language's frame of an event: its text in that language and the server's clock."""
    from facilitation.realtime import event_for_client

    return json.dumps(event_for_client(event, language, now=now))


def control_frame(control: dict) -> str:
    """A ``resync`` or ``live.paused`` frame stamped with the server's clock."""
    return json.dumps({**control, "now": timezone.now().isoformat()})


_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


def redis_client(url: str):
    """One synchronous client per process and URL; its pool is thread-safe and notices a fork."""
    client = _redis_clients.get(url)
    if client is None:
        import redis

        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                client = _redis_clients[url] = redis.Redis.from_url(url)
    return client
