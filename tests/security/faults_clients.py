"""Simulated participants for the fault tests: each one behaves as ``static/js/live.js`` does.

A participant keeps a WebSocket open (reconnecting with live.js's back-off), catches up over the
events endpoint after every (re)connect from the last event id it is sure of (live.js's watermark;
live.js asks on the new socket first and uses the endpoint when the socket gives no answer: the
endpoint is the path these faults put to the test),
polls every 4 s while it has no socket, after three failed connects, or while the server says its
live feed is paused, and posts a comment every few seconds with a client-made id, retrying the same
id until the server answers (the page's outbox). Everything runs in one background thread with its
own event loop; the test thread injects the faults meanwhile and reads the records afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

POLL_SECONDS = 4.0  # live.js POLL_MS
SAFE_AFTER_SECONDS = 10.0  # live.js SAFE_AFTER_MS
RETRY_SECONDS = 2.0  # the outbox's first retry (live.js flushDelay)


def reconnect_delay(attempts: int, rng: random.Random) -> float:
    """live.js ``reconnectLater``: exponential, capped, with jitter."""
    return min(5.0, 1.0 * 2**attempts) * (0.5 + rng.random())


def wait_until(condition, timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``condition()`` held, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    return None


@dataclass
class Post:
    client_id: str
    text: str
    created: float
    statuses: list[object] = field(default_factory=list)  # HTTP status or an exception's name, per attempt
    answered: float | None = None  # when a 2xx came back

    @property
    def stored(self) -> bool:
        return self.answered is not None


@dataclass
class Page:
    """One participant's page: what it sent and which events it has applied, and how."""

    index: int
    cookies: dict
    sure_id: int
    recent: list[tuple[int, float]] = field(default_factory=list)
    applied: dict[int, tuple[str, float]] = field(default_factory=dict)  # event id -> (how, when)
    deliveries: dict[int, int] = field(default_factory=dict)  # event id -> times it arrived (push or fetch)
    pushes: list[tuple[float, int | None, str]] = field(default_factory=list)  # (when, id, kind) of frames
    opened: list[float] = field(default_factory=list)
    closed: list[float] = field(default_factory=list)
    polls: list[tuple[float, int]] = field(default_factory=list)  # (when, events found)
    posts: list[Post] = field(default_factory=list)
    paused: bool = False
    socket_open: bool = False
    failures: int = 0

    def watermark(self) -> int:
        now = time.time()
        while self.recent and now - self.recent[0][1] > SAFE_AFTER_SECONDS:
            self.sure_id = max(self.sure_id, self.recent.pop(0)[0])
        return self.sure_id

    def apply(self, event: dict, how: str) -> None:
        event_id = event.get("id")
        if not isinstance(event_id, int):
            return
        self.deliveries[event_id] = self.deliveries.get(event_id, 0) + 1
        if event_id in self.applied or event_id <= self.sure_id:
            return
        now = time.time()
        self.applied[event_id] = (how, now)
        self.recent.append((event_id, now))


class Crowd:
    """``pages`` participants of one live workshop against ``base``; ``start()`` and ``stop()``."""

    def __init__(
        self, base: str, seeded: dict, *, post_every: float = 8.0, senders: int | None = None, seed: int = 9
    ) -> None:
        self.base = base
        self.workshop_id = seeded["workshop_id"]
        self.phase_id = seeded["phase_id"]
        self.pages = [
            Page(index=index, cookies=cookies, sure_id=seeded["last_event"])
            for index, cookies in enumerate(seeded["participants"])
        ]
        self.post_every = post_every
        self.senders = len(self.pages) if senders is None else senders
        self.rng = random.Random(seed)
        self.posting = threading.Event()
        self.posting.set()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task] = set()  # catch-ups under way (the loop keeps only weak references)
        self.errors: list[str] = []

    # --- control from the test thread -----------------------------------------------------------------
    def start(self, timeout: float = 30) -> None:
        self._thread = threading.Thread(target=self._main, name="faults-crowd", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(page.socket_open for page in self.pages):
                return
            time.sleep(0.1)
        raise RuntimeError(f"only {sum(p.socket_open for p in self.pages)} of {len(self.pages)} pages connected")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)

    def pause_posting(self) -> None:
        self.posting.clear()

    def wait_until(self, condition, timeout: float, step: float = 0.1) -> float | None:
        return wait_until(condition, timeout, step)

    def unsent(self) -> list[Post]:
        return [post for page in self.pages for post in page.posts if not post.stored]

    @property
    def posts(self) -> list[Post]:
        return [post for page in self.pages for post in page.posts]

    # --- the pages, in the crowd's own thread ----------------------------------------------------------
    def _main(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.close()

    async def _run(self) -> None:
        import httpx

        self._stop = asyncio.Event()
        # Each request's Cookie header is its whole identity: keep no cookies the server sets.
        jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(timeout=15, cookies=jar) as self.http:
            tasks = [asyncio.create_task(self._socket(page)) for page in self.pages]
            tasks += [asyncio.create_task(self._poller(page)) for page in self.pages]
            tasks += [asyncio.create_task(self._sender(page)) for page in self.pages[: self.senders]]
            await self._stop.wait()
            tasks += list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _headers(self, page: Page, *, csrf: bool = False) -> dict:
        headers = {
            "Cookie": "; ".join(f"{key}={value}" for key, value in page.cookies.items()),
            "Origin": self.base,
            "Referer": self.base + "/",
            "Accept": "application/json",
        }
        if csrf:
            headers["X-CSRFToken"] = page.cookies["csrftoken"]
        return headers

    async def _catch_up(self, page: Page, *, poll: bool = False) -> int:
        """live.js ``catchUp``: events after the watermark, page by page. Returns how many arrived."""
        found = 0
        for _page in range(20):
            url = f"{self.base}/w/{self.workshop_id}/live/events/?after={page.watermark()}" + (
                "&poll=1" if poll else ""
            )
            response = await self.http.get(url, headers=self._headers(page))
            if response.status_code != 200:
                raise RuntimeError(f"catch-up answered {response.status_code}")
            body = response.json()
            for event in body["events"]:
                page.apply(event, "poll" if poll else "catch-up")
            found += len(body["events"])
            if not body.get("more"):
                return found
        return found

    async def _socket(self, page: Page) -> None:
        from websockets.asyncio.client import connect

        rng = random.Random(page.index)
        url = self.base.replace("http://", "ws://") + f"/ws/w/{self.workshop_id}/"
        attempts = 0
        while True:
            try:
                ws = await connect(
                    url,
                    additional_headers={"Cookie": self._headers(page)["Cookie"]},
                    origin=self.base,
                    open_timeout=5,
                    max_size=None,
                    compression=None,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                page.failures += 1
                await asyncio.sleep(reconnect_delay(attempts, rng))
                attempts += 1
                continue
            attempts = 0
            page.failures = 0
            page.socket_open, page.paused = True, False
            page.opened.append(time.time())
            self._background(self._safe_catch_up(page))
            try:
                async for text in ws:
                    event = json.loads(text)
                    kind = event.get("kind")
                    if kind == "pong":
                        continue
                    page.pushes.append((time.time(), event.get("id"), kind))
                    if kind == "live.paused":
                        page.paused = True
                    elif kind == "resync":
                        page.paused = False
                        await asyncio.sleep(rng.random())  # live.js spreads the catch-ups over a second
                        self._background(self._safe_catch_up(page))
                    else:
                        page.apply(event, "push")
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2)
                raise
            except Exception:
                pass  # closed by the server: open again, as the page does
            page.socket_open = False
            page.closed.append(time.time())
            await asyncio.sleep(reconnect_delay(attempts, rng))
            attempts += 1

    async def _safe_catch_up(self, page: Page) -> None:
        """live.js ``catchUp`` with ``catchUpLater``: a failed catch-up is tried again until one succeeds."""
        delay = 2.0
        while True:
            try:
                await self._catch_up(page)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 30.0)

    def _background(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poller(self, page: Page) -> None:
        """live.js ``startPolling``: while there is no live socket (after three failures) or the feed is paused."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if page.paused or (not page.socket_open and page.failures >= 3):
                try:
                    page.polls.append((time.time(), await self._catch_up(page, poll=True)))
                except Exception:
                    page.polls.append((time.time(), -1))

    async def _sender(self, page: Page) -> None:
        rng = random.Random(1000 + page.index)
        await asyncio.sleep(rng.uniform(0, self.post_every))
        while True:
            if self.posting.is_set():
                post = Post(client_id=str(uuid.uuid4()), text=f"fault-{uuid.uuid4().hex[:12]}", created=time.time())
                page.posts.append(post)
                await self._deliver(page, post, rng)
            await asyncio.sleep(self.post_every * rng.uniform(0.75, 1.25))

    async def _deliver(self, page: Page, post: Post, rng: random.Random) -> None:
        """The outbox: the same client id until the server answers; 5xx, 408 and 429 are tried again."""
        fields = {
            "phase": str(self.phase_id),
            "prompt": "",
            "thread": f"p{self.phase_id}",
            "client_id": post.client_id,
            "text": post.text,
        }
        delay = RETRY_SECONDS
        while True:
            try:
                response = await self.http.post(
                    f"{self.base}/w/{self.workshop_id}/comments/", data=fields, headers=self._headers(page, csrf=True)
                )
                post.statuses.append(response.status_code)
                if response.status_code < 300:
                    post.answered = time.time()
                    return
                if response.status_code not in (408, 429) and response.status_code < 500:
                    self.errors.append(f"comment refused: {response.status_code} {response.text[:200]}")
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                post.statuses.append(type(error).__name__)
            await asyncio.sleep(delay * (0.75 + rng.random() / 2))
            delay = min(delay * 2, 8.0)
