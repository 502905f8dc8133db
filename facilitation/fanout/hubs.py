"""One hub per event loop: its sockets by group, its Redis subscription, its debounced pushes."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import logging
import os
import random
import threading
from collections.abc import Awaitable, Callable, Iterable

from django.conf import settings
from django.utils import timezone

from config.db_threads import database_sync_to_async
from facilitation.fanout.members import Member, Subscriber, background
from facilitation.fanout.wire import PAUSED, RESYNC, channel_for, control_frame, encode_frame

logger = logging.getLogger(__name__)

STATS_GAP = 1.0  # seconds between two debounced pushes of one key in one process
HEALTH_INTERVAL = 10.0  # an idle subscription pings Redis this often ...
HEALTH_TIMEOUT = 3 * HEALTH_INTERVAL  # ... and counts as dropped after this long without a byte
RECONNECT_MAX = 5.0  # seconds, cap of the reconnect back-off
SUBSCRIBE_TIMEOUT = 3.0  # how long a joiner waits for Redis to confirm its workshop's subscription


_hubs_lock = threading.Lock()
_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (created on first use)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        with _hubs_lock:
            # pytest runs each async test in a loop of its own: forget the hubs of closed loops.
            for stale in [other for other in _hubs if other.is_closed()]:
                del _hubs[stale]
            found = _hubs.setdefault(loop, Hub(loop))
    return found


def live_hubs() -> list[Hub]:
    with _hubs_lock:
        return [hub for loop, hub in _hubs.items() if not loop.is_closed()]


def forget_hub(loop: asyncio.AbstractEventLoop) -> None:
    with _hubs_lock:
        _hubs.pop(loop, None)


def debounce(key: object, func: Callable[[], None]) -> None:
    """Run ``func`` (sync, may use the database) soon, at most once per ``STATS_GAP`` per key and process.

    Callable from any thread. Where no hub runs in this process (the Celery worker, a management
    command) ``func`` runs at once.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None and loop in _hubs:
        _hubs[loop].debounce(key, func)
        return
    for candidate in live_hubs():
        if candidate.loop.is_running():
            try:
                candidate.loop.call_soon_threadsafe(candidate.debounce, key, func, context=contextvars.Context())
                return
            except RuntimeError:
                forget_hub(candidate.loop)
    func()


def _run_sync(func: Callable[[], None]) -> Awaitable[None]:
    """Run sync database work in a worker thread, as the consumers do."""
    return database_sync_to_async(func)()


class _Debounced:
    __slots__ = ("again", "last", "running", "timer")

    def __init__(self, last: float) -> None:
        self.last = last  # loop time of the last run's start
        self.timer: asyncio.TimerHandle | None = None
        self.running = False
        self.again = False  # changed while running: run once more after the gap


class Hub:
    """This event loop's sockets by group, its Redis subscription, its debounced pushes."""

    _names = itertools.count(1)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: dict[Subscriber, Member] = {}
        self.groups: dict[str, set[Member]] = {}
        self.workshops: dict[int, int] = {}  # workshop id -> local sockets
        self.name = f"kehittamo-live-{os.getpid()}-{next(self._names)}"
        self._lock = asyncio.Lock()  # subscription changes, connect and close
        self._reader: asyncio.Task | None = None
        self._client = None
        self._pubsub = None
        self._confirmations: dict[str, asyncio.Future] = {}
        self._debounced: dict[object, _Debounced] = {}
        self.paused = False  # the subscription is away: pushes may be missing, the pages poll

    # --- membership -------------------------------------------------------------
    async def join(
        self, consumer: Subscriber, groups: Iterable[str], *, workshop_id: int, language: str, hold: bool = False
    ) -> None:
        """Deliver ``groups``' pushes to this socket; subscribes to the workshop on its first local socket.

        With ``hold`` frames wait until ``release`` (join before accepting, so nothing falls between).
        """
        member = Member(consumer, workshop_id, language, frozenset(groups))
        if hold:
            member.hold()
        self.members[consumer] = member
        for group in member.groups:
            self.groups.setdefault(group, set()).add(member)
        local = self.workshops[workshop_id] = self.workshops.get(workshop_id, 0) + 1
        if not settings.REDIS_URL or (local > 1 and not self._confirmations):
            return  # the usual case: the workshop's subscription is up and confirmed
        channel = channel_for(workshop_id)
        confirmed = self._confirmations.get(channel)
        if local == 1:
            if confirmed is None:
                confirmed = self._confirmations[channel] = self.loop.create_future()
            await self._subscribe(workshop_id, channel)
        # Every joiner, not just the first, waits until Redis has confirmed the subscription: a socket
        # accepted before that would miss what is published between its page's catch-up and the confirmation.
        # Not while the subscription is away: then the page is told so when accepted, and polls meanwhile.
        if confirmed is not None and not self.paused:
            try:
                await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)
            except TimeoutError:
                logger.warning("Redis did not confirm the live subscription %s in time", channel)

    def release(self, consumer: Subscriber) -> None:
        """The socket is accepted: send what was held for it, and ``live.paused`` while the feed is away."""
        member = self.members.get(consumer)
        if member is not None:
            member.release()
            if self.paused:
                member.push(control_frame(PAUSED))

    def update(self, consumer: Subscriber, groups: Iterable[str]) -> None:
        """Follow exactly these groups from now on (rooms changed)."""
        member = self.members.get(consumer)
        if member is None:
            return
        wanted = frozenset(groups)
        for group in member.groups - wanted:
            self._discard(group, member)
        for group in wanted - member.groups:
            self.groups.setdefault(group, set()).add(member)
        member.groups = wanted

    async def leave(self, consumer: Subscriber) -> None:
        """Stop delivering to this socket; unsubscribes from the workshop when it was the last local one."""
        member = self.members.pop(consumer, None)
        if member is None:
            return
        for group in member.groups:
            self._discard(group, member)
        remaining = self.workshops[member.workshop_id] - 1
        if remaining:
            self.workshops[member.workshop_id] = remaining
        else:
            del self.workshops[member.workshop_id]
            await self._unsubscribe(member.workshop_id)

    def _discard(self, group: str, member: Member) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.discard(member)
            if not members:
                del self.groups[group]

    # --- delivery ---------------------------------------------------------------
    def dispatch(self, workshop_id: int, data: bytes | str) -> None:
        """Deliver one published message to the local sockets of its groups, each socket once."""
        if workshop_id not in self.workshops:
            return
        body = json.loads(data)
        groups = body["groups"]
        if len(groups) == 1:
            members = tuple(self.groups.get(groups[0], ()))
        else:
            members = set().union(*(self.groups.get(group, ()) for group in groups))
        if not members:
            return
        control = body.get("control")
        if control:
            for member in members:
                self._control(member, control)
            return
        event = body["event"]
        now = timezone.now().isoformat()
        frames: dict[str, str] = {}
        for member in members:
            frame = frames.get(member.language)
            if frame is None:
                frame = frames[member.language] = encode_frame(event, member.language, now)
            try:
                member.push(frame)
            except Exception:  # one closed socket must not stop the others
                logger.debug("live push to a closed socket dropped", exc_info=True)

    def _control(self, member: Member, name: str) -> None:
        background(member.consumer.live_control(name))

    def resync(self) -> None:
        """Tell every local socket to fetch what it may have missed, and to re-read its rooms."""
        self.paused = False
        self._tell_everyone(RESYNC, control="resubscribe")

    def pause(self) -> None:
        """The subscription dropped: tell every local socket that pushes may be missing until ``resync``."""
        self.paused = True
        self._tell_everyone(PAUSED)

    def _tell_everyone(self, kind: dict, *, control: str = "") -> None:
        frame = control_frame(kind)
        for member in list(self.members.values()):
            try:
                member.push(frame)
            except Exception:
                logger.debug("%s to a closed socket dropped", kind["kind"], exc_info=True)
            if control:
                self._control(member, control)

    # --- debounced work -----------------------------------------------------------
    def debounce(self, key: object, func: Callable[[], None]) -> None:
        """Run ``func`` at once if it has not run for ``STATS_GAP``, else once when the gap is over."""
        state = self._debounced.get(key)
        if state is None:
            state = self._debounced[key] = _Debounced(self.loop.time() - STATS_GAP)
        if state.running:
            state.again = True  # the run in progress may have read the counts before this change
        elif state.timer is None:
            delay = max(0.0, state.last + STATS_GAP - self.loop.time())
            state.timer = self.loop.call_later(
                delay, self._debounce_run, key, state, func, context=contextvars.Context()
            )
        # else: a run is scheduled; it reads the newest counts when it starts.

    def _debounce_run(self, key: object, state: _Debounced, func: Callable[[], None]) -> None:
        state.last, state.timer, state.running, state.again = self.loop.time(), None, True, False

        async def run() -> None:
            try:
                await _run_sync(func)
            except Exception:  # counts are ephemeral; the next change pushes again
                logger.warning("debounced live push failed", exc_info=True)
            finally:
                state.running = False
                if state.again:
                    self.debounce(key, func)
                else:
                    self.loop.call_later(STATS_GAP, self._debounce_forget, key, state)

        background(run())

    def _debounce_forget(self, key: object, state: _Debounced) -> None:
        # Idle keys go once their gap is over: the dict holds the workshops active now, not every one ever.
        if self._debounced.get(key) is state and not state.running and state.timer is None:
            del self._debounced[key]

    # --- Redis subscription ---------------------------------------------------------
    async def _subscribe(self, workshop_id: int, channel: str) -> None:
        async with self._lock:
            if workshop_id not in self.workshops:  # left again while waiting for the lock
                return
            if self._reader is None:
                self._reader = self.loop.create_task(
                    self._read_forever(), name=self.name, context=contextvars.Context()
                )
            elif self._pubsub is not None:
                try:
                    await self._pubsub.subscribe(channel)
                except Exception:  # the reader reconnects and subscribes everything again
                    logger.info("live subscribe failed; the reader reconnects", exc_info=True)
            # else: the reader is between connections and subscribes every local workshop when back.

    async def _unsubscribe(self, workshop_id: int) -> None:
        if not settings.REDIS_URL:
            return
        channel = channel_for(workshop_id)
        async with self._lock:
            if workshop_id in self.workshops:  # joined again while waiting for the lock
                return
            if self.workshops:
                if self._pubsub is not None:
                    try:
                        await self._pubsub.unsubscribe(channel)
                    except Exception:
                        logger.info("live unsubscribe failed; the reader reconnects", exc_info=True)
                return
            # No local sockets at all: close the connection (a test's event loop may end next).
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            await self._close_connection()

    def _channels(self) -> dict[str, int]:
        return {channel_for(workshop_id): workshop_id for workshop_id in self.workshops}

    async def _close_connection(self) -> None:
        pubsub, client, self._pubsub, self._client = self._pubsub, self._client, None, None
        try:
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()
        except Exception:  # it is going away either way
            logger.debug("closing the live subscription failed", exc_info=True)

    async def _connect(self) -> None:
        import redis.asyncio
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No silent retries inside redis-py: a reconnect must be noticed to send the resync frames.
        client = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, retry=Retry(NoBackoff(), 0), client_name=self.name, socket_connect_timeout=5
        )
        pubsub = client.pubsub()
        async with self._lock:
            self._client, self._pubsub = client, pubsub
            channels = list(self._channels())
            if channels:
                await pubsub.subscribe(*channels)

    async def _read_forever(self) -> None:
        """Read the subscription; on a drop reconnect with back-off, subscribe again, resync the sockets."""
        failures = 0
        dropped = False
        while True:
            try:
                await self._connect()
                if dropped:
                    self.resync()
                    logger.warning("live subscription %s back after %s failed attempts", self.name, failures)
                failures, dropped = 0, False
                await self._read(self._pubsub)
            except asyncio.CancelledError:
                raise
            except Exception:  # any failure of the connection means: reconnect
                if not dropped:
                    logger.warning("live subscription %s dropped; reconnecting", self.name, exc_info=True)
                    self.pause()
                failures += 1
                dropped = True
                await self._close_connection()
                await asyncio.sleep(min(RECONNECT_MAX, 0.05 * 2**failures) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter

    async def _read(self, pubsub) -> None:
        channels = self._channels()
        last_heard = self.loop.time()
        while True:
            message = await pubsub.get_message(timeout=HEALTH_INTERVAL)
            now = self.loop.time()
            if message is None:
                # Quiet: ping, so a connection that died without a word is noticed too.
                if now - last_heard > HEALTH_TIMEOUT:
                    raise ConnectionError("Redis did not answer the live subscription's ping")
                await pubsub.ping()
                continue
            last_heard = now
            kind = message["type"]
            if kind == "message":
                channel = message["channel"].decode()
                workshop_id = channels.get(channel)
                if workshop_id is None:
                    channels = self._channels()
                    workshop_id = channels.get(channel)
                if workshop_id is not None:
                    self.dispatch(workshop_id, message["data"])
            elif kind in ("subscribe", "unsubscribe"):
                channels = self._channels()
                if kind == "subscribe":
                    confirmed = self._confirmations.pop(message["channel"].decode(), None)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
