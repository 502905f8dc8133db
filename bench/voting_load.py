"""S7's load generator: voters who vote as people do, and the big screen with its baseline broadcast.

Runs in processes of its own (``multiprocessing`` spawn targets ``load_worker`` and ``observer``), so
the generator is not the bottleneck; see ``bench.voting`` for the method and the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import os
import random
import ssl
import time
from dataclasses import dataclass, field

THINK_SECONDS = (2.0, 4.0)
VOTE_SOCKET_SECONDS = 20.0  # as voting.js: a vote the socket has not answered by then is posted over HTTP
SOCKET_STATUSES = (200, 400, 404, 429)  # answers voting.js takes from the socket; others go over HTTP
BROADCAST_EVERY = 2.0
HEARTBEAT_SECONDS = 25  # as live.js
DRAIN_SECONDS = 4.0  # after the last vote: the last batched push still arrives


# --- the vote endpoints (facilitation/urls_voting.py), made by bench.voting.endpoints ---------------------
@dataclass
class Endpoints:
    base: str
    workshop_id: int
    phase_id: int
    pair: str
    vote: str
    broadcast: str
    ws: str


def _headers(base: str, cookies: dict, *, csrf: bool = False) -> dict:
    headers = {
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "Origin": base,
        "Accept": "application/json",
    }
    if csrf:
        headers["X-CSRFToken"] = cookies["csrftoken"]
    return headers


# --- the load generator (runs in worker processes) ---------------------------------------------------------
@dataclass
class Person:
    """One participant's browser: its socket, its votes and what went wrong."""

    cookies: dict
    votes: list = field(default_factory=list)  # (sent, answered, status, is a vote, over the socket)
    socket_failures: list = field(default_factory=list)  # why each attempt to open failed
    socket_opened: bool = False
    ws: object = None  # the open socket, while it is open
    asked: dict = field(default_factory=dict)  # ask number -> future of the socket's answer
    asks: int = 0


async def _drain(person: Person, ws) -> None:
    """Read the pushes and drop them, as the page's socket would, but hand answers to their questions;
    a closed socket ends it."""
    try:
        async for message in ws:
            if '"kind": "vote"' in message[:20]:
                answer = json.loads(message)
                future = person.asked.pop(answer.get("ask"), None)
                if future is not None and not future.done():
                    future.set_result(answer)
    except Exception:
        return


async def _vote_over_socket(person: Person, end: Endpoints, pair: dict, choice: str) -> dict | None:
    """As voting.js: the vote on the open socket; None when the form must post it instead."""
    ws = person.ws
    if ws is None:
        return None
    person.asks += 1
    ask = person.asks
    future = asyncio.get_running_loop().create_future()
    person.asked[ask] = future
    try:
        question = {"type": "vote", "ask": ask, "phase": end.phase_id, "duel": pair["id"], "choice": choice}
        await ws.send(json.dumps(question))
        answer = await asyncio.wait_for(future, VOTE_SOCKET_SECONDS)
    except Exception:  # closed, or no answer in time
        return None
    finally:
        person.asked.pop(ask, None)
    if answer.get("status") not in SOCKET_STATUSES or (answer.get("status") == 200 and not answer.get("duel")):
        return None
    return answer


async def _heartbeat(ws) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await ws.send(json.dumps({"type": "ping"}))


def _choose(pair: dict, strengths: dict, rng: random.Random) -> str:
    """A voter with some noise around a hidden true order, so the ranking has something to find."""
    gap = strengths.get(str(pair["left"]["id"]), 0.0) - strengths.get(str(pair["right"]["id"]), 0.0)
    return "left" if rng.random() < 1 / (1 + math.exp(-gap)) else "right"


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: httpx would build one per client (slow), and loopback HTTP needs none."""
    return ssl.create_default_context()


async def _post(client, url: str, **options) -> tuple[int, dict | None]:
    """(status, JSON body); status 0 when the request failed outright (timeout, refused, reset)."""
    import httpx

    try:
        response = await client.post(url, **options)
    except httpx.HTTPError:
        return 0, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


async def _socket(person: Person, end: Endpoints, stop_at: float, seed: int) -> None:
    """Keep the page's WebSocket open until the end, reconnecting with live.js's back-off when it fails."""
    from websockets.asyncio.client import connect

    rng = random.Random(seed)
    cookie = _headers(end.base, person.cookies)["Cookie"]
    attempt = 0
    while time.monotonic() < stop_at:
        try:
            ws = await connect(end.ws, additional_headers={"Cookie": cookie}, origin=end.base, open_timeout=30)
        except Exception as error:  # any way of failing to open counts the same: reported by name
            person.socket_failures.append(type(error).__name__)
            delay = min(30.0, 2.0**attempt) * (0.5 + rng.random())
            attempt += 1
            await asyncio.sleep(min(delay, max(0.0, stop_at - time.monotonic())))
            continue
        person.socket_opened = True
        person.ws = ws
        heartbeat = asyncio.create_task(_heartbeat(ws))
        drain = asyncio.create_task(_drain(person, ws))
        await asyncio.wait([drain], timeout=max(0.0, stop_at - time.monotonic()))
        person.ws = None
        heartbeat.cancel()
        if not drain.done():
            drain.cancel()
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(ws.close(), 10)
            return
        attempt = 0  # closed by the server: open again, as the page does


async def _person(
    person: Person, end: Endpoints, start_at: float, stop_at: float, strengths, seed: int, over_socket: bool
):
    import httpx

    rng = random.Random(seed)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    headers = _headers(end.base, person.cookies)
    socket_task = asyncio.create_task(_socket(person, end, stop_at, seed))
    csrf = {"X-CSRFToken": person.cookies["csrftoken"]}
    async with httpx.AsyncClient(timeout=30, headers=headers, verify=_tls()) as client:
        client.cookies = httpx.Cookies()  # the Cookie header above is the whole identity
        pair = None
        while time.monotonic() < stop_at:
            if pair is None:  # the page asks for a pair when it opens (later ones come with each answer)
                sent = time.monotonic()
                status, body = await _post(client, end.pair, headers=csrf)
                person.votes.append((sent, time.monotonic(), status, False, False))
                if status != 200 or body is None:
                    await asyncio.sleep(rng.uniform(*THINK_SECONDS))
                    continue
                pair = body.get("duel")
                if not pair:
                    break  # seen every pair there is
            await asyncio.sleep(rng.uniform(*THINK_SECONDS))
            if time.monotonic() >= stop_at:
                break
            sent = time.monotonic()
            choice = _choose(pair, strengths, rng)
            body = await _vote_over_socket(person, end, pair, choice) if over_socket else None
            if body is not None:
                status, socket = body["status"], True
            else:
                socket = False
                status, body = await _post(
                    client, end.vote, data={"duel": pair["id"], "choice": choice, "has_form": "1"}, headers=csrf
                )
            person.votes.append((sent, time.monotonic(), status, True, socket))
            pair = body.get("duel") if status == 200 and body else None
    await socket_task


async def _load(
    cookies: list[dict], end: Endpoints, start_at: float, ramp: float, stop_at: float, seed: int, over_socket: bool
):
    strengths = json.loads(os.environ.get("BENCH_STRENGTHS", "{}"))
    people = [Person(cookies=item) for item in cookies]
    rng = random.Random(seed)
    await asyncio.gather(
        *(
            _person(
                person, end, start_at + rng.uniform(0, ramp), stop_at, strengths, seed * 100_003 + index, over_socket
            )
            for index, person in enumerate(people)
        )
    )
    return people


def load_worker(cookies, end, start_at, ramp, stop_at, seed, strengths, over_socket, queue) -> None:
    """One load-generating process: its share of the participants, each an asyncio task. ``over_socket``:
    votes go over the page's socket as voting.js sends them (else every vote is an HTTP POST)."""
    os.environ["BENCH_STRENGTHS"] = json.dumps(strengths)
    people = asyncio.run(_load(cookies, end, start_at, ramp, stop_at, seed, over_socket))
    queue.put(
        {
            "votes": [vote for person in people for vote in person.votes],
            "socket_failures": [failure for person in people for failure in person.socket_failures],
            "never_connected": sum(not person.socket_opened for person in people),
        }
    )


# --- the big screen and the baseline (one more process) -------------------------------------------------------
async def _observe(cookies: dict, end: Endpoints, start_at: float, stop_at: float) -> dict:
    import httpx
    from websockets.asyncio.client import connect

    headers = _headers(end.base, cookies)
    pushes: list[tuple[float, int]] = []  # (arrived, votes counted)
    sent: dict[str, float] = {}
    broadcasts: list[tuple[float, float]] = []  # (sent, seconds to arrive)
    broadcast_errors: list[int] = []
    async with connect(end.ws, additional_headers={"Cookie": headers["Cookie"]}, origin=end.base) as ws:

        async def listen() -> None:
            async for message in ws:
                arrived = time.monotonic()
                event = json.loads(message)
                data = event.get("data") or {}
                if event.get("kind") == "ranking" and data.get("phase") == end.phase_id:
                    pushes.append((arrived, int(data.get("votes") or 0)))
                elif event.get("kind") == "broadcast" and data.get("text") in sent:
                    posted = sent.pop(data["text"])
                    broadcasts.append((posted, arrived - posted))

        listener = asyncio.create_task(listen())
        async with httpx.AsyncClient(timeout=30, headers=headers, verify=_tls()) as client:
            client.cookies = httpx.Cookies()
            await asyncio.sleep(max(0.0, start_at - time.monotonic()))
            number = 0
            while time.monotonic() < stop_at:
                number += 1
                text = f"Bench message {number}"
                sent[text] = time.monotonic()
                status, _body = await _post(
                    client, end.broadcast, data={"text": text}, headers={"X-CSRFToken": cookies["csrftoken"]}
                )
                if status != 200:
                    broadcast_errors.append(status)
                await asyncio.sleep(BROADCAST_EVERY)
            await asyncio.sleep(max(0.0, stop_at + DRAIN_SECONDS - time.monotonic()))
        listener.cancel()
    return {"pushes": pushes, "broadcasts": broadcasts, "broadcast_errors": broadcast_errors, "lost": len(sent)}


def observer(cookies, end, start_at, stop_at, queue) -> None:
    queue.put(asyncio.run(_observe(cookies, end, start_at, stop_at)))
