"""Publishing (sync, any thread): one Redis ``PUBLISH`` per event, kept and retried while Redis is away."""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable

from django.conf import settings

from facilitation.fanout.hubs import forget_hub, live_hubs
from facilitation.fanout.wire import channel_for, redis_client

logger = logging.getLogger(__name__)

RETRY_LIMIT = 1000  # unpublished messages kept per process while Redis is away ...
RETRY_FOR = 60.0  # ... for at most this many seconds (the pages catch up by id after the resync anyway)
RETRY_EVERY = 1.0  # seconds between two retries


def publish(workshop_id: int, groups: Iterable[str], message: dict | None = None, *, control: str = "") -> None:
    """Send an event (or a control such as ``resubscribe``) to the sockets in ``groups`` of every process.

    Called after commit. A lost push is tolerated (the pages catch up by id), so a Redis failure is
    logged, not raised into the request that already committed.
    """
    body = {"groups": list(groups)}
    if control:
        body["control"] = control
    else:
        body["event"] = message
    data = json.dumps(body, separators=(",", ":"))
    if settings.REDIS_URL:
        _publish_or_keep(settings.REDIS_URL, channel_for(workshop_id), data)
        return
    for hub in live_hubs():
        try:
            hub.loop.call_soon_threadsafe(hub.dispatch, workshop_id, data, context=contextvars.Context())
        except RuntimeError:  # the loop closed in between
            forget_hub(hub.loop)


_unsent_lock = threading.Lock()
_unsent: deque[tuple[float, str, str, str]] = deque(maxlen=RETRY_LIMIT)  # (since, url, channel, data)
_retrier: threading.Thread | None = None


def _publish_or_keep(url: str, channel: str, data: str) -> None:
    """PUBLISH, or keep the message for the retry thread when Redis cannot be reached (logged, not raised)."""
    import redis

    with _unsent_lock:
        waiting = bool(_unsent)
    if not waiting:  # while earlier ones wait, queue behind them: the order stays
        try:
            redis_client(url).publish(channel, data)
            return
        except redis.RedisError as error:
            logger.warning("live push not published (Redis: %s); retrying", type(error).__name__)
    _keep(url, channel, data)


def _keep(url: str, channel: str, data: str) -> None:
    global _retrier
    with _unsent_lock:
        if len(_unsent) == _unsent.maxlen:
            logger.warning("live push dropped: %s unpublished pushes waiting already", RETRY_LIMIT)
        _unsent.append((time.monotonic(), url, channel, data))
        if _retrier is None or not _retrier.is_alive():
            _retrier = threading.Thread(target=_retry_unsent, name="kehittamo-live-retry", daemon=True)
            _retrier.start()


def _retry_unsent() -> None:
    """Publish the kept messages in order once Redis answers again; give up on those older than ``RETRY_FOR``."""
    import redis

    while True:
        time.sleep(RETRY_EVERY)
        with _unsent_lock:
            if not _unsent:
                return
        while True:
            with _unsent_lock:
                if not _unsent:
                    break
                item = _unsent[0]
                since, url, channel, data = item
                if time.monotonic() - since > RETRY_FOR:
                    _unsent.popleft()
                    logger.warning("live push given up after %.0f s; the pages catch up by id", RETRY_FOR)
                    continue
            try:
                redis_client(url).publish(channel, data)
            except redis.RedisError:
                break  # still away: try again after a pause
            with _unsent_lock:
                if _unsent and _unsent[0] is item:
                    _unsent.popleft()
