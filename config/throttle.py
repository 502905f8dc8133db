"""Rate limits counted in the cache: the one mechanism behind every throttle of the platform.

A counter per key lives for one window from its first hit (``cache.add`` then ``cache.incr``, so
every process sees the same count). The join-code guessing limit and the limits on posting,
voting, joining, saving a room's summary and calling for help in a live workshop all count here. The sizes are settings
(``KEHITTAMO_RATE_LIMITS``), chosen so that a 300-person hall behind one address never meets them;
``RATE_LIMIT_FACTOR`` scales them all (the benchmarks raise them that way).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import JsonResponse
from django.utils.translation import gettext as _
from redis import RedisError

from config.cache import TolerantRedisCache
from config.errors import too_many_requests

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The address the request came from, as the server saw it."""
    return request.META.get("REMOTE_ADDR", "")


def count(key: str, window: int) -> int:
    """One more hit on ``key``; returns the hits in its window (which runs from the first hit)."""
    key = f"throttle:{key}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def _count_all(counters: list[tuple[str, int]], step: int = 1) -> list[int]:
    """``count`` for several (key, window) at once: one round trip where the cache is Redis (a vote or a
    post counts three scopes, which were six round trips). ``step`` -1 takes a hit back."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, TolerantRedisCache):  # the embedded defaults' memory cache: no round trips to save
        return [count(key, window) if step > 0 else _take_back(key) for key, window in counters]
    keys = [backend.make_and_validate_key(f"throttle:{key}") for key, _window in counters]
    try:
        with backend.pipeline(keys[0]) as pipe:
            for key, (_name, window) in zip(keys, counters, strict=True):
                if step > 0:
                    pipe.set(key, 0, ex=window, nx=True)  # a window runs from its first hit
                    pipe.incr(key)
                else:
                    pipe.decr(key)
                    # Had its window just passed, DECR made a key without one: give it one (Redis 7).
                    pipe.expire(key, window, nx=True)
            replies = pipe.execute()
    except RedisError as error:
        logger.warning("throttle counts skipped: Redis unavailable (%s)", type(error).__name__)
        return [step] * len(counters)  # counters that start again: throttles fail open
    return [int(reply) for reply in replies[(1 if step > 0 else 0) :: 2]]  # the INCRs or the DECRs


def _take_back(key: str) -> int:
    try:
        return cache.decr(f"throttle:{key}")
    except ValueError:  # its window has passed
        return 0


def hits(key: str) -> int:
    """The hits on ``key`` in its current window, without adding one."""
    return cache.get(f"throttle:{key}") or 0


def _limits(action: str) -> dict[str, tuple[int, int]]:
    factor = settings.KEHITTAMO_RATE_LIMIT_FACTOR
    return {
        scope: (max(1, int(limit * factor)), window)
        for scope, (limit, window) in settings.KEHITTAMO_RATE_LIMITS.get(action, {}).items()
    }


def over_limit(
    action: str,
    *,
    request=None,
    address: str | None = None,
    workshop_id: int | None = None,
    person: str | None = None,
    room_id: int | None = None,
    scopes: tuple[str, ...] = ("guest", "room", "address", "workshop"),
) -> int | None:
    """Count one ``action`` (post, vote, join, summary, help) and say whether it goes over a limit.

    Checked per person (a guest or an account), then per room (for an action in one), then per client
    address, then per workshop, in the order of the action's settings; a refusal
    stops counting there, so one flooding guest does not use up the address's or the workshop's share.
    Only the given ``scopes`` are counted. The client address is ``address`` when given (a WebSocket's
    scope has no request), else the request's. Returns the window's length in seconds (for ``Retry-After``)
    when over a limit, else None.
    """
    if address is None:
        address = client_address(request)
    subjects = {"guest": person, "room": room_id, "address": address, "workshop": workshop_id}
    counted = [
        (f"{action}:{scope}:{subjects[scope]}", limit, window)
        for scope, (limit, window) in _limits(action).items()
        if scope in scopes and subjects.get(scope) not in (None, "")
    ]
    if not counted:
        return None
    hits_now = _count_all([(key, window) for key, _limit, window in counted])
    for index, ((_key, limit, window), hit) in enumerate(zip(counted, hits_now, strict=True)):
        if hit > limit:
            # All were counted in one trip; a refusal stops counting at its scope, so the later ones
            # (the address's, the workshop's share) get their hit back.
            later = [(key, seconds) for key, _limit, seconds in counted[index + 1 :]]
            if later:
                _count_all(later, step=-1)
            return window
    return None


def message() -> str:
    return _("Too much was sent in a short time. Wait a moment and try again: what you wrote is kept.")


def refusal(request, retry_after: int, *, as_json: bool):
    """429: JSON ``{"error": ...}`` for the page's script, else the friendly page; both say when to retry."""
    if as_json:
        response = JsonResponse({"error": message(), "retry_after": retry_after}, status=429)
    else:
        response = too_many_requests(request)
    response["Retry-After"] = str(retry_after)
    return response
