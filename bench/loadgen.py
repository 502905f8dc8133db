"""The load generator: WebSocket clients and senders in separate processes, speaking the public protocol only.

A ``Plan`` lists the clients (a WebSocket each: its URL, Cookie header, Origin, the audiences it should
hear) and the sends (at a time after go): a comment over its writer's own socket as live.js sends it
(``Send.client``: that client's process sends it, and posts it over HTTP when the socket gives no answer,
as the page does), an HTTP POST like the page's ``post()``, or, for the baselines, a frame over a
sender's own WebSocket. Every send carries a unique marker (``BMK`` + 10 hex digits) in
its text; each client records when it first saw each marker (``time.time()``, comparable across the
processes of this machine), whether by push or by catching up over the events endpoint after a
reconnect, as live.js does. ``run()`` spreads the clients over 2–4 processes, runs the senders in one
more, and returns everything; ``analyse()`` turns it into latencies over all expected recipients.

Every loop ends by itself: each process stops at go + ``plan.duration`` (go at ``plan.connect_by`` at the
latest), and the parent gives up on a process that has not reported a minute after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import multiprocessing
import os
import random
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty

from bench.stack import latency_summary, ms, percentile

MARKER = re.compile(r"BMK[0-9a-f]{10}")
SERVER_NOW = re.compile(r'"now":\s*"([^"]+)"')  # when the server process handed the frame to its sockets
HEARTBEAT_SECONDS = 25  # as live.js
SAFE_AFTER_SECONDS = 10  # as live.js: events can commit out of id order; only older ones are "sure"
CONNECT_CONCURRENCY = 10  # per process: sockets opening at once (a page load spreads them too)
SOCKET_ANSWER_SECONDS = 5.0  # as live.js: how long a catch-up waits for the socket before asking over HTTP
DRAIN_SECONDS = 10  # after the last send: a receipt later than this counts as not delivered
GRACE_SECONDS = 60  # how long past the stop a process may take to report before it is given up


def new_marker() -> str:
    return "BMK" + secrets.token_hex(5)


@dataclass
class Client:
    """One browser tab: its socket and where it catches up."""

    index: int
    url: str  # ws://…
    origin: str
    cookie: str = ""
    audiences: tuple[str, ...] = ("all",)
    events_url: str = ""  # catch-up after (re)connect, as live.js; "" for the baselines
    panel_url: str = ""  # fetched 0–250 ms after a "phase" or "round" frame, as live.js
    last_event: int = 0  # the page's data-last-event
    heartbeat: bool = True


@dataclass
class Send:
    """One message: ``fields`` over the socket of client ``client`` (as live.js asks, ``type`` and ``ask``
    added; ``url`` and ``headers`` its HTTP fallback), an HTTP POST (``url``), or a frame over the sender
    socket (``text``)."""

    at: float
    marker: str
    audience: str = "all"
    url: str = ""
    headers: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    text: str = ""
    client: int | None = None
    ask_type: str = "comment"


@dataclass
class Plan:
    """Clients open their sockets at once; "go" is when all are open (plus ``settle``) or ``connect_by``.

    Send times, the storm and ``duration`` count from go; everything stops at go + ``duration``.
    """

    clients: list[Client]
    sends: list[Send]  # ``at``: seconds after go
    connect_by: float  # epoch: go at the latest, whether every socket is open or not
    duration: float  # go → stop
    settle: float = 2.0  # after the last page loaded (socket open, first catch-up done): arrivals settle
    processes: int = 2
    sender_ws: str = ""  # baselines: the URL the sender's own socket opens
    sender_origin: str = ""
    storm: tuple[float, float] | None = None  # S6: each client drops once at a random time in [start, end)
    reconnect_delay: tuple[float, float] = (0.5, 1.5)  # live.js: 1 s × (0.5 + random) after a close
    round_markers: dict = field(default_factory=dict)  # S5: round number -> the marker its "round" frame stands for


class Clock:
    """Go, shared by the processes: set by the sender once every socket is open."""

    def __init__(self, plan: Plan, go, opened):
        self.plan = plan
        self.go_value = go
        self.opened = opened

    @property
    def go(self) -> float | None:
        return self.go_value.value or None

    @property
    def stop_at(self) -> float:
        return (self.go or self.plan.connect_by) + self.plan.duration

    def arrived(self) -> None:
        with self.opened.get_lock():
            self.opened.value += 1


# --- one client --------------------------------------------------------------------------------------------
@dataclass
class Seen:
    receipts: dict = field(default_factory=dict)  # marker -> (time, "push" | "catchup", server's send time)
    opened: list = field(default_factory=list)  # times the socket opened
    failures: list = field(default_factory=list)  # why an opening failed
    statuses: list = field(default_factory=list)  # HTTP statuses of catch-up and panel requests
    panels: list = field(
        default_factory=list
    )  # (marker of the phase or round frame, when the panel was loaded, status)
    first_push_after_storm: float | None = None
    dropped_at: float | None = None
    ids: dict = field(default_factory=dict)  # event id -> time received (for the watermark)
    sure_id: int = 0


def _note(seen: Seen, text: str, how: str, now: float) -> list[str]:
    found = MARKER.findall(text)
    for marker in found:
        if marker not in seen.receipts:
            seen.receipts[marker] = (now, how, _server_now(text) if how == "push" else None)
    return found


def _own_words(text: str, round_markers: dict | None = None) -> str:
    """A frame's text where markers count: a phase frame's pushed panel lists every phase's title (the
    agenda), so only the phase's own title and the server's time are looked at there. A round's opening
    frame names no marker (``{"round": n, "open": true}``): the plan's marker for round n stands for it."""
    is_phase = '"kind": "phase"' in text
    if not is_phase and not (round_markers and '"kind": "round"' in text):
        return text
    try:
        frame = json.loads(text)
    except ValueError:
        return text
    data = frame.get("data") or {}
    if not is_phase:
        marker = round_markers.get(data.get("round")) if data.get("open") else None
        return f"{marker} {text}" if marker else text
    return json.dumps({"title": data.get("title", ""), "now": frame.get("now")})


def _server_now(text: str) -> float | None:
    """The frame's ``now`` (the hub's dispatch time) as epoch seconds; the same clock as ours on loopback."""
    match = SERVER_NOW.search(text)
    if match is None:
        return None
    try:
        return datetime.fromisoformat(match.group(1)).timestamp()
    except ValueError:
        return None


def _watermark(seen: Seen) -> int:
    now = time.time()
    for event_id, received in list(seen.ids.items()):
        if now - received > SAFE_AFTER_SECONDS:
            seen.sure_id = max(seen.sure_id, event_id)
            del seen.ids[event_id]
    return seen.sure_id


async def _catch_up(client: Client, seen: Seen, http, stop_at: float, ws, answers: asyncio.Queue) -> None:
    """As live.js ``catchUp`` on an open socket: ask on the socket for the events after the last sure id,
    page by page (at most 20 pages); over the events endpoint when no answer comes within its wait."""
    after = _watermark(seen)
    for _page in range(20):
        if time.time() > stop_at:
            return
        try:
            await ws.send(json.dumps({"type": "catchup", "after": after}))
            text = await asyncio.wait_for(answers.get(), timeout=SOCKET_ANSWER_SECONDS)
        except Exception as error:
            seen.failures.append(f"catchup-socket:{type(error).__name__}")
            await _catch_up_http(client, seen, http, stop_at)
            return
        body = json.loads(text)
        after = _caught_up(seen, text, body, after)
        if not body.get("more"):
            return


async def _catch_up_http(client: Client, seen: Seen, http, stop_at: float) -> None:
    """As live.js ``catchUp`` without a socket: the events endpoint, page by page (at most 20 pages)."""
    headers = {"Cookie": client.cookie, "Accept": "application/json"}
    after = _watermark(seen)
    for _page in range(20):
        if time.time() > stop_at:
            return
        try:
            response = await http.get(f"{client.events_url}?after={after}", headers=headers)
        except Exception as error:
            seen.failures.append(f"catchup:{type(error).__name__}")
            return
        seen.statuses.append(response.status_code)
        if response.status_code != 200:
            return
        body = response.json()
        after = _caught_up(seen, response.text, body, after)
        if not body.get("more"):
            return


def _caught_up(seen: Seen, text: str, body: dict, after: int) -> int:
    """One page of a catch-up (socket or HTTP) noted as received now; the newest event id it had."""
    now = time.time()
    _note(seen, text, "catchup", now)
    for event in body.get("events", []):
        if isinstance(event.get("id"), int):
            seen.ids.setdefault(event["id"], now)
            after = max(after, event["id"])
    return after


async def _panel(client: Client, seen: Seen, http, marker: str) -> None:
    await asyncio.sleep(random.random() * 0.25)  # as live.js: a little spread
    try:
        response = await http.get(client.panel_url, headers={"Cookie": client.cookie})
        seen.statuses.append(response.status_code)
        seen.panels.append((marker, time.time(), response.status_code))
    except Exception as error:
        seen.failures.append(f"panel:{type(error).__name__}")


class _RoundPanels:
    """As live.js when a round starts: a frame that says "panels" makes the page wait that many seconds for
    its room's pushed ``round.panel`` (which may also come first) before it asks for its panel itself."""

    def __init__(self, client: Client, seen: Seen, http, background: set) -> None:
        self.client, self.seen, self.http, self.background = client, seen, http, background
        self.early: dict = {}  # round -> when its panel came before its frame
        self.waiting: dict = {}  # round -> (marker, fallback task)

    def started(self, data: dict, marker: str, now: float) -> None:
        number = data.get("round")
        if number in self.early:
            self.seen.panels.append((marker, now, 200))
        elif data.get("open") and data.get("panels"):
            fallback = asyncio.create_task(self._ask_after(number, marker, float(data["panels"])))
            self.background.add(fallback)
            self.waiting[number] = (marker, fallback)
        else:
            self.background.add(asyncio.create_task(_panel(self.client, self.seen, self.http, marker)))
        self.early.clear()

    def pushed(self, data: dict, now: float) -> None:
        if not data.get("panel"):
            return
        number = data.get("round")
        waiting = self.waiting.pop(number, None)
        if waiting is None:
            self.early[number] = now
            return
        marker, fallback = waiting
        fallback.cancel()
        self.background.discard(fallback)
        self.seen.panels.append((marker, now, 200))

    async def _ask_after(self, number, marker: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.waiting.pop(number, None) is not None:
            await _panel(self.client, self.seen, self.http, marker)


class _Outbox:
    """A client's own comments, as live.js's outbox sends them: one after another, each at its time (from go)
    on the open socket, and as an HTTP POST when the socket is closed, gives no answer within
    ``SOCKET_ANSWER_SECONDS`` or answers with a server error. A record's ``sent`` is the first attempt's."""

    def __init__(self, sends: list[Send], clock: Clock, http) -> None:
        self.sends = sorted(sends, key=lambda send: send.at)
        self.clock, self.http = clock, http
        self.ws = None  # the socket while it is open
        self.waiting: dict[int, asyncio.Future] = {}
        self.asked = 0
        self.records: list[dict] = []

    def answered(self, text: str) -> None:
        try:
            answer = json.loads(text)
        except ValueError:
            return
        future = self.waiting.pop(answer.get("ask"), None)
        if future is not None and not future.done():
            future.set_result(answer)

    def closed(self) -> None:
        self.ws = None
        for future in self.waiting.values():
            if not future.done():
                future.set_result(None)
        self.waiting.clear()

    async def run(self) -> None:
        while self.clock.go is None and time.time() < self.clock.stop_at:
            await asyncio.sleep(0.05)
        for send in self.sends:
            await asyncio.sleep(max(0.0, self.clock.go + send.at - time.time()))
            if time.time() >= self.clock.stop_at:
                return
            self.records.append(await self._send(send))

    async def _send(self, send: Send) -> dict:
        sent = time.time()
        if self.ws is not None:
            self.asked += 1
            ask = self.asked
            future = asyncio.get_running_loop().create_future()
            self.waiting[ask] = future
            try:
                await self.ws.send(json.dumps({**send.fields, "type": send.ask_type, "ask": ask}))
                answer = await asyncio.wait_for(future, SOCKET_ANSWER_SECONDS)
            except Exception:
                answer = None
            finally:
                self.waiting.pop(ask, None)
            if answer is not None and answer.get("status", 500) < 500:
                return {
                    "marker": send.marker,
                    "sent": sent,
                    "done": time.time(),
                    "status": answer["status"],
                    "via": "socket",
                }
        return {"marker": send.marker, "sent": sent, **await _post(send, self.http)}


async def _client(client: Client, clock: Clock, http, gate: asyncio.Semaphore, outbox: _Outbox) -> Seen:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    plan = clock.plan
    seen = Seen(sure_id=client.last_event)
    rng = random.Random(client.index)
    storm_offset = rng.uniform(*plan.storm) if plan.storm else None
    background: set[asyncio.Task] = set()
    rounds = _RoundPanels(client, seen, http, background)
    if outbox.sends:
        background.add(asyncio.create_task(outbox.run()))
    attempts = 0
    headers = {"Cookie": client.cookie} if client.cookie else None
    while time.time() < clock.stop_at:
        try:
            async with gate:
                ws = await connect(
                    client.url,
                    additional_headers=headers,
                    origin=client.origin,
                    open_timeout=max(1.0, min(30.0, clock.stop_at - time.time())),
                    max_size=None,
                    max_queue=None,
                    compression=None,
                )
        except Exception as error:
            status = getattr(getattr(error, "response", None), "status_code", None)
            if isinstance(error, InvalidStatus) and status is not None:
                seen.statuses.append(status)
            seen.failures.append(type(error).__name__)
            delay = min(30.0, 2.0**attempts) * (0.5 + rng.random())
            attempts += 1
            await asyncio.sleep(max(0.0, min(delay, clock.stop_at - time.time())))
            continue
        attempts = 0
        outbox.ws = ws
        first = not seen.opened
        seen.opened.append(time.time())
        reconnected = seen.dropped_at is not None
        answers: asyncio.Queue = asyncio.Queue()  # the socket's answers to "catchup"
        if client.events_url:
            # The page is loaded once its first catch-up is done: go waits for that (not for a backlog).
            catch_up = asyncio.create_task(_catch_up(client, seen, http, clock.stop_at, ws, answers))
            background.add(catch_up)
            if first:
                catch_up.add_done_callback(lambda _task: clock.arrived())
        elif first:
            clock.arrived()
        beat = asyncio.create_task(_heartbeat(ws)) if client.heartbeat else None
        dropped = False
        try:
            while True:
                now = time.time()
                limit = clock.stop_at - now
                drop_at = clock.go + storm_offset if storm_offset is not None and clock.go else None
                if drop_at is not None and seen.dropped_at is None:
                    limit = min(limit, drop_at - now)
                if limit <= 0:
                    if drop_at is not None and seen.dropped_at is None and time.time() >= drop_at:
                        dropped = True
                    break
                try:
                    # Wake at least every second: go may be set meanwhile (the drop time counts from it).
                    text = await asyncio.wait_for(ws.recv(), timeout=min(limit, 1.0))
                except TimeoutError:
                    continue
                now = time.time()
                if isinstance(text, bytes):
                    text = text.decode()
                if text.startswith('{"kind": "catchup"'):
                    answers.put_nowait(text)
                    continue
                if text.startswith('{"kind": "comment",'):  # the answer to its own comment, not a push
                    outbox.answered(text)
                    continue
                found = _note(seen, _own_words(text, plan.round_markers), "push", now)
                if reconnected and found and seen.first_push_after_storm is None:
                    seen.first_push_after_storm = now
                if client.events_url or client.panel_url:
                    try:
                        event = json.loads(text)
                    except ValueError:
                        continue
                    if isinstance(event.get("id"), int):
                        seen.ids.setdefault(event["id"], now)
                    if client.panel_url and event.get("kind") == "round.panel":
                        rounds.pushed(event.get("data") or {}, now)
                    elif client.panel_url and event.get("kind") == "round" and found:
                        rounds.started(event.get("data") or {}, found[0], now)
                    elif client.panel_url and event.get("kind") == "phase" and found:
                        if (event.get("data") or {}).get("panel"):
                            # As live.js on a plain participant's page: the panel came with the phase.
                            seen.panels.append((found[0], now, 200))
                        else:
                            background.add(asyncio.create_task(_panel(client, seen, http, found[0])))
        except Exception:
            pass  # closed by the server: open again, as the page does
        finally:
            outbox.closed()
            if beat is not None:
                beat.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)
        if dropped:
            seen.dropped_at = time.time()
            await asyncio.sleep(rng.uniform(*plan.reconnect_delay))
        elif time.time() < clock.stop_at:
            await asyncio.sleep(min(30.0, 2.0**attempts) * (0.5 + rng.random()))
            attempts += 1
    if background:  # catch-ups and panels under way: a bounded wait for all of them together
        _done, pending = await asyncio.wait(background, timeout=10)
        for task in pending:
            task.cancel()
    return seen


async def _heartbeat(ws) -> None:
    with contextlib.suppress(Exception):
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await ws.send(json.dumps({"type": "ping"}))


def _http_client():
    import httpx

    # The Cookie header of each request is the whole identity: never keep cookies the server sets.
    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx.AsyncClient(timeout=20, limits=limits, cookies=jar)


async def _clients(clients: list[Client], clock: Clock, own: dict[int, list[Send]]) -> list[dict]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    async with _http_client() as http:
        outboxes = [_Outbox(own.get(client.index, []), clock, http) for client in clients]
        seen = await asyncio.gather(
            *(_client(client, clock, http, gate, outbox) for client, outbox in zip(clients, outboxes, strict=True))
        )
    return [
        {
            "index": client.index,
            "receipts": item.receipts,
            "opened": item.opened,
            "failures": item.failures,
            "statuses": item.statuses,
            "panels": item.panels,
            "dropped_at": item.dropped_at,
            "first_push_after_storm": item.first_push_after_storm,
            "sends": outbox.records,
        }
        for client, item, outbox in zip(clients, seen, outboxes, strict=True)
    ]


def _client_process(clients: list[Client], plan: Plan, go, opened, queue, own: dict[int, list[Send]]) -> None:
    from bench.stack import raise_file_limit

    raise_file_limit()
    try:
        queue.put(("clients", asyncio.run(_clients(clients, Clock(plan, go, opened), own))))
    except BaseException as error:
        queue.put(("error", repr(error)))


# --- the senders -----------------------------------------------------------------------------------------
async def _post(send: Send, http) -> dict:
    """``send`` posted as the page's ``post()`` does: when the answer came and its status (0: none)."""
    try:
        response = await http.post(send.url, data=send.fields, headers=send.headers)
    except Exception as error:
        return {"done": time.time(), "status": 0, "error": repr(error), "via": "http"}
    return {"done": time.time(), "status": response.status_code, "via": "http"}


async def _send_http(send: Send, go: float, http) -> dict:
    await asyncio.sleep(max(0.0, go + send.at - time.time()))
    return {"marker": send.marker, "sent": time.time(), **await _post(send, http)}


async def _wait_for_go(clock: Clock, expected: int) -> float:
    """Go: every socket open (and ``settle`` seconds more), or ``connect_by`` at the latest."""
    plan = clock.plan
    while clock.opened.value < expected and time.time() < plan.connect_by:
        await asyncio.sleep(0.1)
    go = min(time.time() + plan.settle, max(time.time(), plan.connect_by))
    clock.go_value.value = go
    return go


async def _senders(plan: Plan, clock: Clock, expected: int) -> list[dict]:
    records: list[dict] = []
    if plan.sender_ws:
        from websockets.asyncio.client import connect

        async with connect(plan.sender_ws, origin=plan.sender_origin, max_size=None, open_timeout=30) as ws:

            async def drain() -> None:  # its own copies of the broadcasts: read and dropped
                with contextlib.suppress(Exception):
                    async for _frame in ws:
                        pass

            reader = asyncio.create_task(drain())
            go = await _wait_for_go(clock, expected)
            for send in plan.sends:
                await asyncio.sleep(max(0.0, go + send.at - time.time()))
                sent = time.time()
                await ws.send(send.text)
                records.append({"marker": send.marker, "sent": sent, "done": sent, "status": 101, "via": "frame"})
            await asyncio.sleep(max(0.0, clock.stop_at - time.time()))
            reader.cancel()
        return records
    go = await _wait_for_go(clock, expected)
    async with _http_client() as http:
        return list(await asyncio.gather(*(_send_http(send, go, http) for send in plan.sends)))


def _sender_process(plan: Plan, expected: int, go, opened, queue) -> None:
    try:
        clock = Clock(plan, go, opened)
        records = asyncio.run(_senders(plan, clock, expected))
        queue.put(("sends", {"records": records, "go": clock.go}))
    except BaseException as error:
        queue.put(("error", repr(error)))


# --- running a plan ----------------------------------------------------------------------------------------
def run(plan: Plan) -> dict:
    """Run ``plan`` in ``plan.processes`` client processes and one sender process; returns the raw records."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    go = context.Value("d", 0.0)
    opened = context.Value("i", 0)
    shares = [plan.clients[index :: plan.processes] for index in range(plan.processes)]
    # Each process gets only its own clients' sends: keep each process's pickle small.
    light = Plan(**{**plan.__dict__, "sends": [], "clients": []})
    own: dict[int, list[Send]] = {}
    for send in plan.sends:
        if send.client is not None:
            own.setdefault(send.client, []).append(send)
    processes = [
        context.Process(
            target=_client_process,
            args=(share, light, go, opened, queue, {c.index: own[c.index] for c in share if c.index in own}),
        )
        for share in shares
        if share
    ]
    sender_plan = Plan(
        **{**plan.__dict__, "clients": [], "sends": [send for send in plan.sends if send.client is None]}
    )
    processes.append(context.Process(target=_sender_process, args=(sender_plan, len(plan.clients), go, opened, queue)))
    for process in processes:
        process.start()
    clients: list[dict] = []
    sends: list[dict] = []
    errors: list[str] = []
    go_time = None
    started = time.time()
    stop_bound = plan.connect_by + plan.duration
    for _process in processes:
        try:
            kind, payload = queue.get(timeout=max(1.0, stop_bound - time.time()) + GRACE_SECONDS)
        except Empty:
            errors.append("a generator process did not report in time")
            break
        if kind == "clients":
            clients.extend(payload)
            for item in payload:
                sends.extend(item.pop("sends"))
        elif kind == "sends":
            sends.extend(payload["records"])
            go_time = payload["go"]
        else:
            errors.append(payload)
    for process in processes:
        process.join(timeout=15)
        if process.is_alive():
            process.kill()
            process.join()
    clients.sort(key=lambda item: item["index"])
    return {
        "clients": clients,
        "sends": sends,
        "errors": errors,
        "go": go_time,
        "connect_seconds": round(go_time - plan.settle - started, 1) if go_time else None,
    }


def default_processes(clients: int) -> int:
    """2–4 generator processes: enough that the generator is not the bottleneck on a small machine."""
    return max(2, min(4, clients // 300 + 1, os.cpu_count() or 2))


# --- figures --------------------------------------------------------------------------------------------------
def analyse(plan: Plan, raw: dict, *, audience_filter=None) -> dict:
    """Latency from each send to each expected recipient's receipt, over all of them, and what was lost.

    A send that failed (non-2xx) still counts its recipients as expected: they never got it.
    ``audience_filter(client)`` narrows the recipients counted (e.g. only the facilitator's socket).
    """
    by_index = {item["index"]: item for item in raw["clients"]}
    sent = {record["marker"]: record for record in raw["sends"]}
    latencies: list[float] = []
    expected = missing = 0
    missing_markers: set[str] = set()
    via_catchup = 0
    dispatched: dict[str, float] = {}  # marker -> from the send to the server's dispatch (the POST's part)
    handed: list[float] = []  # from the dispatch to each receipt (the fan-out's part)
    slowest: dict[str, float] = {}  # marker -> its last recipient's latency
    for send in plan.sends:
        record = sent.get(send.marker)
        for client in plan.clients:
            if send.audience not in client.audiences:
                continue
            if audience_filter is not None and not audience_filter(client):
                continue
            expected += 1
            seen = by_index.get(client.index)
            receipt = seen["receipts"].get(send.marker) if seen else None
            if record is None or receipt is None:
                missing += 1
                missing_markers.add(send.marker)
                continue
            latencies.append(max(0.0, receipt[0] - record["sent"]))
            via_catchup += receipt[1] == "catchup"
            if receipt[2] is not None:
                dispatched.setdefault(send.marker, receipt[2] - record["sent"])
                handed.append(max(0.0, receipt[0] - receipt[2]))
                slowest[send.marker] = max(slowest.get(send.marker, 0.0), receipt[0] - record["sent"])
    markers = {send.marker for send in plan.sends}
    statuses = [record["status"] for record in raw["sends"] if record["marker"] in markers]
    statuses += [status for item in raw["clients"] for status in item["statuses"]]
    failures = [failure for item in raw["clients"] for failure in item["failures"]]
    summary = latency_summary(latencies, expected)
    summary.update(
        {
            "missing": missing,
            "messages": len(plan.sends),
            "via_catchup": via_catchup,
            "http_5xx": sum(status >= 500 for status in statuses),
            "http_other_errors": sum(status < 200 or 400 <= status < 500 for status in statuses if status != 101),
            "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
            # How the sends went: over their writer's socket, posted over HTTP (a socket's fallback
            # included), or a baseline's frame.
            "sent_over": dict(sorted(Counter(r.get("via") for r in raw["sends"] if r["marker"] in markers).items())),
            # Where the time went: send -> the server dispatches (request, database, publish, Redis), and
            # dispatch -> each receipt (writing to every socket, the generator reading).
            "to_dispatch_p50_ms": ms(percentile(list(dispatched.values()), 0.5)),
            "to_dispatch_p95_ms": ms(percentile(list(dispatched.values()), 0.95)),
            "fanout_p50_ms": ms(percentile(handed, 0.5)),
            "fanout_p95_ms": ms(percentile(handed, 0.95)),
            "slowest_events": [  # the three sends whose last recipient waited longest: where was it spent?
                {"last_ms": ms(last), "to_dispatch_ms": ms(dispatched[marker])}
                for marker, last in sorted(slowest.items(), key=lambda item: -item[1])[:3]
            ],
            "socket_failures": len([f for f in failures if ":" not in f]),
            "request_failures": len([f for f in failures if ":" in f]),
            "never_connected": sum(not item["opened"] for item in raw["clients"]) + (len(plan.clients) - len(by_index)),
            "generator_errors": raw["errors"],
        }
    )
    if missing_markers:
        summary["missing_markers"] = sorted(missing_markers)[:20]
    return summary


def send_spread(plan: Plan, raw: dict) -> dict:
    """How late the sends went out against their schedule (a sign of an overloaded generator), and POST answer times."""
    sent = {record["marker"]: record["sent"] for record in raw["sends"]}
    go = raw.get("go") or 0.0
    late = [sent[send.marker] - go - send.at for send in plan.sends if send.marker in sent]
    # How long the server took to answer the POSTs: the part of each latency spent before the publish.
    answered = [record["done"] - record["sent"] for record in raw["sends"] if record["status"] != 101]
    return {
        "send_lag_p95_ms": ms(percentile(late, 0.95)),
        "send_lag_max_ms": ms(max(late) if late else None),
        "post_p50_ms": ms(percentile(answered, 0.5)),
        "post_p95_ms": ms(percentile(answered, 0.95)),
    }
