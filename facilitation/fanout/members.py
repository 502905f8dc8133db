"""One local socket and how a frame is written to it without waiting for that socket."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from facilitation.fanout.wire import RESYNC, control_frame

logger = logging.getLogger(__name__)

BACKLOG_LIMIT = 200  # frames queued for one socket whose server-side send is waiting; beyond: resync


class Subscriber(Protocol):
    """What a hub needs from a socket: the ASGI send, and a handler for control messages."""

    base_send: Callable[[dict], Awaitable[None]]

    async def live_control(self, name: str) -> None: ...


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
                self.backlog.append(control_frame(RESYNC))
            else:
                self.backlog.append(frame)
            return
        coro = self.send({"type": "websocket.send", "text": frame})
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        self.backlog = deque()
        background(self._finish(coro, waiting))

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


_tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to its tasks


def background(coro) -> None:
    # A fresh context: the hub's work must not inherit a publisher's or a consumer's (asgiref keeps
    # its "this thread is busy" marks there, Django its translation).
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
    _tasks.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("live background work failed", exc_info=task.exception())
