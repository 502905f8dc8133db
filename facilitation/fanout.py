"""Live pushes fanned out once per server process instead of once per recipient.

The textbook Channels design sends one channel-layer message per recipient and encodes the JSON once
per recipient. Here every event leaves the publisher once (one Redis ``PUBLISH`` per event), every
server process receives it once (one subscription per workshop per process), builds each language's
frame once and writes it straight to its local sockets.

- ``publish()`` is called by ``realtime`` after commit, from any thread (request threads, the Celery
  worker). With ``REDIS_URL`` it publishes on the workshop's Redis channel; without it (SQLite dev
  server, eager Celery, the tests) it hands the message to every ``Hub`` of this process.
- One ``Hub`` per event loop (a server process has one) keeps ``group -> members`` and one Redis pub/sub
  connection subscribed to the workshops that have local sockets. After that connection drops it
  reconnects with back-off, subscribes again and sends every local socket a ``resync`` frame: the
  page then fetches what it missed by event id (PostgreSQL is the truth). While it is away every
  local socket (and any that connects meanwhile) gets a ``live.paused`` frame: the page polls.
- A publish that fails (Redis away) is logged and kept for a retry, at most ``RETRY_LIMIT`` messages
  for ``RETRY_FOR`` seconds; the request that committed never sees the failure.
- Frames are built only from the event payload, which never names an anonymous author.
- ``debounce()`` coalesces the facilitators' presence counts: a reconnect storm of 1,000 sockets makes
  a couple of pushes, not 1,000 (the last one reads the settled counts).

Group names come from ``realtime`` (the only place that names them); the hub only matches strings.
"""

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
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

STATS_GAP = 1.0  # seconds between two debounced pushes of one key in one process
BACKLOG_LIMIT = 200  # frames queued for one socket whose server-side send is waiting; beyond: resync
HEALTH_INTERVAL = 10.0  # an idle subscription pings Redis this often ...
HEALTH_TIMEOUT = 3 * HEALTH_INTERVAL  # ... and counts as dropped after this long without a byte
RECONNECT_MAX = 5.0  # seconds, cap of the reconnect back-off
SUBSCRIBE_TIMEOUT = 3.0  # how long a first joiner waits for Redis to confirm the subscription
RESYNC = {"kind": "resync", "id": None, "data": {}}
PAUSED = {"kind": "live.paused", "id": None, "data": {}}
RETRY_LIMIT = 1000  # unpublished messages kept per process while Redis is away ...
RETRY_FOR = 60.0  # ... for at most this many seconds (the pages catch up by id after the resync anyway)
RETRY_EVERY = 1.0  # seconds between two retries


class Subscriber(Protocol):
    """What a hub needs from a socket: the ASGI send, and a handler for control messages."""

    base_send: Callable[[dict], Awaitable[None]]

    async def live_control(self, name: str) -> None: ...


# --- naming ------------------------------------------------------------------
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


# --- publishing (sync, any thread) ------------------------------------------------
_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


def _redis_client(url: str):
    """One synchronous client per process and URL; its pool is thread-safe and notices a fork."""
    client = _redis_clients.get(url)
    if client is None:
        import redis

        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                client = _redis_clients[url] = redis.Redis.from_url(url)
    return client


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
    for hub in _live_hubs():
        try:
            hub.loop.call_soon_threadsafe(hub.dispatch, workshop_id, data, context=contextvars.Context())
        except RuntimeError:  # the loop closed in between
            _forget(hub.loop)


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
            _redis_client(url).publish(channel, data)
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
                _redis_client(url).publish(channel, data)
            except redis.RedisError:
                break  # still away: try again after a pause
            with _unsent_lock:
                if _unsent and _unsent[0] is item:
                    _unsent.popleft()


# --- hubs: one per event loop ----------------------------------------------------
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


def _live_hubs() -> list[Hub]:
    with _hubs_lock:
        return [hub for loop, hub in _hubs.items() if not loop.is_closed()]


def _forget(loop: asyncio.AbstractEventLoop) -> None:
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
    for candidate in _live_hubs():
        if candidate.loop.is_running():
            try:
                candidate.loop.call_soon_threadsafe(candidate.debounce, key, func, context=contextvars.Context())
                return
            except RuntimeError:
                _forget(candidate.loop)
    func()


def _run_sync(func: Callable[[], None]) -> Awaitable[None]:
    """Run sync database work in a worker thread (as the consumer does: see ``consumers``)."""
    # SQLite takes one writer at a time anyway, and the tests' in-memory SQLite is one connection's.
    return database_sync_to_async(func, thread_sensitive=connections["default"].vendor == "sqlite")()


# --- sending without waiting for one slow socket ------------------------------------
class _Resume:
    """Finish a send coroutine that suspended after it was stepped once by hand (see ``Member.push``)."""

    __slots__ = ("coro", "waiting")

    def __init__(self, coro, waiting) -> None:
        self.coro = coro
        self.waiting = waiting

    def __await__(self):
        coro, waiting = self.coro, self.waiting
        while True:
            try:
                sent = yield waiting
            except BaseException as error:  # handed on to the coroutine, as a Task would
                step = coro.throw, error
            else:
                step = coro.send, sent
            try:
                waiting = step[0](step[1])
            except StopIteration as done:
                return done.value


class Member:
    """One local socket: its send, language, groups; a backlog only while its send is waiting."""

    __slots__ = ("__weakref__", "backlog", "consumer", "groups", "language", "send", "workshop_id")

    def __init__(self, consumer: Subscriber, workshop_id: int, language: str, groups: frozenset[str]) -> None:
        self.consumer = consumer
        self.send = _server_send(consumer.base_send)
        self.language = language
        self.workshop_id = workshop_id
        self.groups = groups
        self.backlog: deque[str] | None = None

    def push(self, frame: str) -> None:
        """Write one frame now; never wait for this socket.

        Daphne and uvicorn write a frame into the transport's buffer without suspending, so the send
        coroutine is stepped by hand and finishes at once (no task per recipient). A server that does
        wait for a slow client's buffer gets a task for the rest, and this socket's later frames queue
        behind it in order while everyone else's go on.
        """
        if self.backlog is not None:
            if len(self.backlog) >= BACKLOG_LIMIT:
                # Far behind: drop the queue, let the page fetch what it missed.
                self.backlog.clear()
                self.backlog.append(json.dumps({**RESYNC, "now": timezone.now().isoformat()}))
            else:
                self.backlog.append(frame)
            return
        coro = self.send({"type": "websocket.send", "text": frame})
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        self.backlog = deque()
        _background(self._finish(coro, waiting))

    async def _finish(self, coro, waiting) -> None:
        try:
            await _Resume(coro, waiting)
            while self.backlog:
                await self.send({"type": "websocket.send", "text": self.backlog.popleft()})
        except Exception:  # a closed socket; its disconnect handler removes it
            logger.debug("live push to a closed socket dropped", exc_info=True)
        finally:
            self.backlog = None

    def hold(self) -> None:
        """Queue frames until ``release`` (the socket is not accepted yet)."""
        self.backlog = deque()

    def release(self) -> None:
        frames, self.backlog = self.backlog, None
        for frame in frames or ():
            self.push(frame)


def _server_send(send: Callable[[dict], Awaitable[None]]) -> Callable[[dict], Awaitable[None]]:
    """The ASGI server's own send beneath Channels' session wrapper, which only acts on
    ``http.response.start`` but reads the session's state on every frame (about a tenth of a push)."""
    from channels.sessions import InstanceSessionWrapper

    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper) and "websocket.send" not in wrapper.save_message_types:
        return wrapper.real_send
    return send


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
        self.workshops[workshop_id] = self.workshops.get(workshop_id, 0) + 1
        if self.workshops[workshop_id] == 1:
            await self._subscribe(workshop_id)

    def release(self, consumer: Subscriber) -> None:
        """The socket is accepted: send what was held for it, and ``live.paused`` while the feed is away."""
        member = self.members.get(consumer)
        if member is not None:
            member.release()
            if self.paused:
                member.push(json.dumps({**PAUSED, "now": timezone.now().isoformat()}))

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
        _background(member.consumer.live_control(name))

    def resync(self) -> None:
        """Tell every local socket to fetch what it may have missed, and to re-read its rooms."""
        self.paused = False
        frame = json.dumps({**RESYNC, "now": timezone.now().isoformat()})
        for member in list(self.members.values()):
            try:
                member.push(frame)
            except Exception:
                logger.debug("resync to a closed socket dropped", exc_info=True)
            self._control(member, "resubscribe")

    def pause(self) -> None:
        """The subscription dropped: tell every local socket that pushes may be missing until ``resync``."""
        self.paused = True
        frame = json.dumps({**PAUSED, "now": timezone.now().isoformat()})
        for member in list(self.members.values()):
            try:
                member.push(frame)
            except Exception:
                logger.debug("pause to a closed socket dropped", exc_info=True)

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

        _background(run())

    def _debounce_forget(self, key: object, state: _Debounced) -> None:
        # Idle keys go once their gap is over: the dict holds the workshops active now, not every one ever.
        if self._debounced.get(key) is state and not state.running and state.timer is None:
            del self._debounced[key]

    # --- Redis subscription ---------------------------------------------------------
    async def _subscribe(self, workshop_id: int) -> None:
        if not settings.REDIS_URL:
            return
        channel = channel_for(workshop_id)
        async with self._lock:
            if workshop_id not in self.workshops:  # left again while waiting for the lock
                return
            confirmed = self._confirmations.get(channel)
            if confirmed is None:
                confirmed = self._confirmations[channel] = self.loop.create_future()
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
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            logger.warning("Redis did not confirm the live subscription %s in time", channel)

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


_tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to its tasks


def _background(coro) -> None:
    # A fresh context: the hub's work must not inherit a publisher's or a consumer's (asgiref keeps
    # its "this thread is busy" marks there, Django its translation).
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
    _tasks.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("live background work failed", exc_info=task.exception())
