"""Benchmark voting at a large live event: 300 and then 1,000 people voting at once, and the big screen.

Run from the project root: ``.venv/bin/python bench/bench_voting.py`` (``--participants 50 --seconds 10``
for a quick look). Needs PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL`` as ``.ci/run`` exports;
the defaults are the same). It never touches the database it is pointed at: it creates its own
(``kehittamo_bench`` on the same server), migrates and seeds it, and drops it at the end.

What runs, all on this machine:
- one Daphne serving ``config.asgi`` (HTTP and WebSockets, Redis channel layer) and one Celery worker
  (the batched "ranking" pushes are Celery tasks), started as subprocesses on a free loopback port;
- a seeded live workshop: an idea collection with ``--ideas`` ideas and a pairwise prioritisation
  phase as the current phase, N guest participants with sessions made as the join view makes them;
- the load generator, in separate processes (so it is not the bottleneck): per participant one
  WebSocket to the live consumer (session cookie, same Origin as the page) and votes like a person:
  fetch a pair, think 2–4 s, post the vote, which answers with the next pair;
- the big screen: a facilitator's WebSocket that records when each "ranking" push arrives, and the
  baseline: the facilitator's broadcast message (control action) every 2 s, timed from its POST to
  its arrival at the same socket, under the same load.

Big-screen latency, the method: every accepted vote has the monotonic time its POST was sent and
the time its answer arrived (it is committed by then). Ordered by answer time, the i-th vote is in
every ranking computed from at least i votes (the vote count only grows; answer order stands in for
commit order, off by at most the few milliseconds between a commit and its response). So vote i's
latency is the arrival of the first "ranking" push that came after its answer and counts ``votes >= i``,
minus the vote's send time. The baseline is timed the same way, send to arrival. Both include the
HTTP request; the ranking's also includes the batching (at most one push per ~0.5 s) and computing it.

Exit status 1 when any response was a 5xx, when no ranking push arrived, or when the big screen's
p95 exceeds the baseline's p95 + ``--budget`` seconds (default 1.5: pushes are batched every ~0.5 s
and the ranking is recomputed for each). Results go to ``bench/results/bench_voting-*.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import functools
import json
import math
import multiprocessing
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE = "kehittamo_bench"
BENCH_REDIS_DB = 14  # the bench's own Redis database on REDIS_URL's server, emptied before and after
DEFAULT_DATABASE_URL = "postgres://kehittamo:kehittamo@127.0.0.1:5432/kehittamo"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
THINK_SECONDS = (2.0, 4.0)
BROADCAST_EVERY = 2.0
HEARTBEAT_SECONDS = 25  # as live.js
DRAIN_SECONDS = 4.0  # after the last vote: the last batched push still arrives


# --- small helpers -----------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0–1); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def fmt_ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def raise_file_limit() -> None:
    """Thousands of sockets per process: lift the soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


# --- the database and the servers ----------------------------------------------------------------------
def recreate_database(base_url: str) -> str:
    """Drop and create the bench's own database on the server of ``base_url``; returns its URL."""
    import psycopg

    maintenance = with_database(base_url, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return with_database(base_url, BENCH_DATABASE)


def bench_redis(redis_url: str, db: int) -> str:
    """REDIS_URL's server with the bench's own database: its groups, cache gates and task queue stay apart."""
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def empty_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def drop_database(base_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(base_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def server_env(database_url: str, redis_url: str, secret_key: str, pool_size: int | None, folder: Path) -> dict:
    """As in production: DEBUG off (no query log), the real channel layer, cache and Celery broker."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_POOL_SIZE": str(pool_size or os.environ.get("DATABASE_POOL_SIZE") or 20),
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secret_key,
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",  # no line per request
    }


class Servers:
    """Daphne and a Celery worker as subprocesses; stopped (only these two) on exit."""

    def __init__(self, env: dict, log: Path):
        self.env = env
        self.log = log.open("w")  # the servers' own output (tracebacks of any 5xx), apart from the figures
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        self.processes.append(
            subprocess.Popen(
                [
                    str(bin_dir / "daphne"),
                    "--access-log",
                    os.devnull,
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "config.asgi:application",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        )
        self.worker_name = f"bench-{os.getpid()}@%h"
        self.processes.append(
            subprocess.Popen(
                [
                    str(bin_dir / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    self.worker_name,
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        )
        self._wait_for_daphne()
        self._wait_for_worker()

    def _wait_for_daphne(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                if self.processes[0].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Daphne did not start") from None
                time.sleep(0.2)

    def _wait_for_worker(self) -> None:
        from config.celery import app

        wanted = self.worker_name.replace("%h", socket.gethostname())
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.processes[1].poll() is not None:
                raise RuntimeError("The Celery worker did not start")
            replies = app.control.ping(destination=[wanted], timeout=1.0) or []
            if any(wanted in reply for reply in replies):
                return
        raise RuntimeError("The Celery worker did not answer")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.log.close()


# --- seeding (Django, in the main process) -------------------------------------------------------------------
@dataclass
class Seeded:
    workshop_id: int
    phase_id: int
    ideas: int
    facilitator: dict  # cookies
    participants: list[dict]  # cookies per participant


def _csrf_secret() -> str:
    # What Django's CSRF cookie holds: 32 letters and digits; the same value goes in X-CSRFToken.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def seed(participants: int, ideas: int, label: str) -> Seeded:
    """A live workshop on a pairwise prioritisation of ``ideas`` ideas, with guests signed in as by joining."""
    import uuid
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction

    from accounts.models import User
    from facilitation import services
    from facilitation.models import Idea, Phase
    from workshops.guests import SESSION_KEY as GUESTS_KEY
    from workshops.models import Participant, Workshop
    from workshops.services import organisation_get_or_create, workshop_create

    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        facilitator, _created = User.objects.get_or_create(
            email="bench-facilitator@example.fi", defaults={"name": "Bench Facilitator", "is_staff": True}
        )
        organisation = organisation_get_or_create(name="Bench municipality")
        workshop = workshop_create(
            organisation=organisation, title=f"Voting bench {label}", status=Workshop.Status.PLANNED
        )
        ideas_phase = services.phase_create(
            workshop=workshop, kind=Phase.Kind.IDEAS, title="Ideas", duration_minutes=10
        )
        vote_phase = services.phase_create(
            workshop=workshop, kind=Phase.Kind.PRIORITISATION, title="Which first?", duration_minutes=10
        )
        Idea.objects.bulk_create(
            Idea(
                client_id=uuid.uuid4(),
                workshop=workshop,
                phase=ideas_phase,
                text=f"Idea {number}: " + " ".join(random.sample(WORDS, 6)),
                language="fi",
            )
            for number in range(1, ideas + 1)
        )
        people = Participant.objects.bulk_create(
            Participant(
                workshop=workshop,
                name=f"Guest {number}",
                role=Participant.Role.PARTICIPANT,
                team_size=random.choice([1, 1, 1, 1, 2, 5]),
            )
            for number in range(participants)
        )
    services.live_start(workshop=workshop, by=facilitator)
    services.phase_go(workshop=workshop, phase=vote_phase)

    def session(data: dict) -> dict:
        session = store()
        for key, value in data.items():
            session[key] = value
        session.create()
        return {settings.SESSION_COOKIE_NAME: session.session_key, settings.CSRF_COOKIE_NAME: _csrf_secret()}

    facilitator_cookies = session(
        {
            SESSION_KEY: str(facilitator.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: facilitator.get_session_auth_hash(),
        }
    )
    # As guest_login() after the join code: the session knows which participant this browser is.
    guest_cookies = [session({GUESTS_KEY: {str(workshop.pk): person.pk}}) for person in people]
    return Seeded(workshop.pk, vote_phase.pk, ideas, facilitator_cookies, guest_cookies)


WORDS = [
    "kirjasto",
    "nuoret",
    "kesä",
    "aamupalaveri",
    "kotihoito",
    "yhteistyö",
    "asukkaat",
    "kokeilu",
    "liikunta",
    "koulu",
    "kulttuuri",
    "puisto",
    "pyörätie",
    "ikäihmiset",
    "vapaaehtoiset",
    "tiimi",
    "palvelu",
    "digituki",
    "ruoka",
    "kierrätys",
    "tapahtuma",
    "ilta",
]


# --- the vote endpoints (facilitation/urls_voting.py) -----------------------------------------------------
@dataclass
class Endpoints:
    base: str
    workshop_id: int
    phase_id: int
    pair: str
    vote: str
    broadcast: str
    ws: str


def endpoints(base: str, seeded: Seeded) -> Endpoints:
    from django.urls import reverse

    ids = {"workshop_id": seeded.workshop_id}
    phase = {**ids, "phase_id": seeded.phase_id}
    return Endpoints(
        base=base,
        workshop_id=seeded.workshop_id,
        phase_id=seeded.phase_id,
        pair=base + reverse("facilitation:vote_next", kwargs=phase),
        vote=base + reverse("facilitation:vote_duel", kwargs=phase),
        broadcast=base + reverse("facilitation:control_action", kwargs={**ids, "action": "broadcast"}),
        ws=base.replace("http://", "ws://") + f"/ws/w/{seeded.workshop_id}/",
    )


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
    votes: list = field(default_factory=list)  # (sent, answered, status, is a vote)
    socket_failures: list = field(default_factory=list)  # why each attempt to open failed
    socket_opened: bool = False


async def _drain(ws) -> None:
    """Read (and drop) the pushes, as the page's socket would; a closed socket ends it."""
    try:
        async for _message in ws:
            pass
    except Exception:
        return


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
        heartbeat = asyncio.create_task(_heartbeat(ws))
        drain = asyncio.create_task(_drain(ws))
        await asyncio.wait([drain], timeout=max(0.0, stop_at - time.monotonic()))
        heartbeat.cancel()
        if not drain.done():
            drain.cancel()
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(ws.close(), 10)
            return
        attempt = 0  # closed by the server: open again, as the page does


async def _person(person: Person, end: Endpoints, start_at: float, stop_at: float, strengths, seed: int):
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
                person.votes.append((sent, time.monotonic(), status, False))
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
            status, body = await _post(client, end.vote, data={"duel": pair["id"], "choice": choice}, headers=csrf)
            person.votes.append((sent, time.monotonic(), status, True))
            pair = body.get("duel") if status == 200 and body else None
    await socket_task


async def _load(cookies: list[dict], end: Endpoints, start_at: float, ramp: float, stop_at: float, seed: int):
    strengths = json.loads(os.environ.get("BENCH_STRENGTHS", "{}"))
    people = [Person(cookies=item) for item in cookies]
    rng = random.Random(seed)
    await asyncio.gather(
        *(
            _person(person, end, start_at + rng.uniform(0, ramp), stop_at, strengths, seed * 100_003 + index)
            for index, person in enumerate(people)
        )
    )
    return people


def load_worker(cookies, end, start_at, ramp, stop_at, seed, strengths, queue) -> None:
    """One load-generating process: its share of the participants, each an asyncio task."""
    os.environ["BENCH_STRENGTHS"] = json.dumps(strengths)
    people = asyncio.run(_load(cookies, end, start_at, ramp, stop_at, seed))
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
    broadcasts: list[float] = []
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
                    broadcasts.append(arrived - sent.pop(data["text"]))

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


# --- one scenario -----------------------------------------------------------------------------------------------
def screen_latencies(votes: list[tuple], pushes: list[tuple[float, int]]) -> tuple[list[float], list[float], int]:
    """Per accepted vote: (from send, from answer) to the first later push that counts it; and votes never seen."""
    accepted = sorted((vote for vote in votes if vote[3] and 200 <= vote[2] < 300), key=lambda vote: vote[1])
    pushes = sorted(pushes)
    arrivals = [arrived for arrived, _count in pushes]
    from_send, from_answer, unseen = [], [], 0
    for index, (sent, answered, _status, _is_vote) in enumerate(accepted, start=1):
        position = bisect.bisect_right(arrivals, answered)
        found = next((arrived for arrived, count in pushes[position:] if count >= index), None)
        if found is None:
            unseen += 1
            continue
        from_send.append(found - sent)
        from_answer.append(found - answered)
    return from_send, from_answer, unseen


def run_scenario(servers: Servers, participants: int, args) -> dict:
    from django.db import connections

    from facilitation.models import Duel

    load = os.getloadavg()[0]
    print(f"\n== {participants} participants, {args.seconds:g} s of voting ==", flush=True)
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"note: the machine is already busy (load average {load:.1f}): figures will be worse", flush=True)
    seeded = seed(participants, args.ideas, f"{participants}")
    end = endpoints(servers.base, seeded)
    connections.close_all()
    rng = random.Random(args.seed)
    strengths = {str(idea): rng.gauss(0, 1.5) for idea in range(1, 10_000)}  # by idea id; unknown ids are even
    # People open the page over some time, not all in the same second.
    ramp = args.ramp if args.ramp is not None else min(60.0, max(2.0, participants / 20))
    start_at = time.monotonic() + 3.0
    stop_at = start_at + ramp + args.seconds
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=observer, args=(seeded.facilitator, end, start_at, stop_at, queue))]
    shares = [seeded.participants[index :: args.processes] for index in range(args.processes)]
    for index, share in enumerate(shares):
        processes.append(
            context.Process(
                target=load_worker, args=(share, end, start_at, ramp, stop_at, args.seed + index, strengths, queue)
            )
        )
    for process in processes:
        process.start()
    results = []
    for _process in processes:
        try:
            results.append(queue.get(timeout=max(1.0, stop_at - time.monotonic()) + 120))
        except Empty:
            break
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    if len(results) < len(processes) or not any("pushes" in result for result in results):
        raise RuntimeError("a load or big-screen process died; see its traceback above")
    observed = next(result for result in results if "pushes" in result)
    votes = [vote for result in results if "votes" in result for vote in result["votes"]]
    socket_failures = [failure for result in results if "votes" in result for failure in result["socket_failures"]]
    posts = [vote for vote in votes if vote[3]]
    accepted = [vote for vote in posts if 200 <= vote[2] < 300]
    statuses = [vote[2] for vote in votes] + observed["broadcast_errors"]
    non_2xx = [status for status in statuses if not 200 <= status < 300]  # 0: no answer at all
    server_errors = [status for status in statuses if status >= 500]
    http = [answered - sent for sent, answered, _status, _is_vote in accepted]
    voting_time = (max(v[1] for v in accepted) - min(v[0] for v in accepted)) if accepted else 0.0
    from_send, from_answer, unseen = screen_latencies(votes, observed["pushes"])
    stored = Duel.objects.filter(phase_id=seeded.phase_id, answered_at__isnull=False).count()
    connections.close_all()
    return {
        "participants": participants,
        "load_average_before": round(load, 2),
        "seconds": args.seconds,
        "ramp_seconds": round(ramp, 1),
        "ideas": args.ideas,
        "socket_failures": len(socket_failures),
        "socket_failure_kinds": {kind: socket_failures.count(kind) for kind in sorted(set(socket_failures))},
        "never_connected": sum(result["never_connected"] for result in results if "votes" in result),
        "votes_accepted": len(accepted),
        "votes_stored": stored,
        "votes_per_second": round(len(accepted) / voting_time, 1) if voting_time else 0.0,
        "vote_http_p50_ms": _ms(percentile(http, 0.5)),
        "vote_http_p95_ms": _ms(percentile(http, 0.95)),
        "non_2xx": len(non_2xx),
        "server_errors_5xx": len(server_errors),
        "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
        "ranking_pushes": len(observed["pushes"]),
        "votes_never_on_screen": unseen,
        "screen_p50_ms": _ms(percentile(from_send, 0.5)),
        "screen_p95_ms": _ms(percentile(from_send, 0.95)),
        "screen_from_answer_p50_ms": _ms(percentile(from_answer, 0.5)),
        "screen_from_answer_p95_ms": _ms(percentile(from_answer, 0.95)),
        "baseline_broadcasts": len(observed["broadcasts"]),
        "baseline_lost": observed["lost"],
        "baseline_p50_ms": _ms(percentile(observed["broadcasts"], 0.5)),
        "baseline_p95_ms": _ms(percentile(observed["broadcasts"], 0.95)),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def verdict(result: dict, budget: float) -> list[str]:
    """What failed in one scenario (empty: within budget)."""
    problems = []
    if result["server_errors_5xx"]:
        problems.append(f"{result['server_errors_5xx']} responses were 5xx")
    if not result["ranking_pushes"] or result["screen_p95_ms"] is None:
        problems.append("no ranking push reached the big screen")
    elif result["baseline_p95_ms"] is None:
        problems.append("no baseline broadcast arrived")
    else:
        limit = result["baseline_p95_ms"] + budget * 1000
        if result["screen_p95_ms"] > limit:
            problems.append(f"big-screen p95 {result['screen_p95_ms']:.0f} ms > baseline p95 + {budget:g} s")
    return problems


def report(results: list[dict], budget: float) -> None:
    def cell(result: dict, key: str) -> str:
        value = result[key]
        if value is None:
            return "–"
        return f"{value:.0f} ms" if key.endswith("_ms") else str(value)

    rows = [
        ("participants", "participants"),
        ("socket opening failures (retried)", "socket_failures"),
        ("never connected", "never_connected"),
        ("votes accepted", "votes_accepted"),
        ("votes stored (database)", "votes_stored"),
        ("votes/s", "votes_per_second"),
        ("vote HTTP p50", "vote_http_p50_ms"),
        ("vote HTTP p95", "vote_http_p95_ms"),
        ("non-2xx responses", "non_2xx"),
        ("5xx responses", "server_errors_5xx"),
        ("ranking pushes received", "ranking_pushes"),
        ("big screen p50 (vote sent -> push)", "screen_p50_ms"),
        ("big screen p95 (vote sent -> push)", "screen_p95_ms"),
        ("baseline broadcast p50", "baseline_p50_ms"),
        ("baseline broadcast p95", "baseline_p95_ms"),
    ]
    width = max(len(label) for label, _key in rows)
    print()
    print(" " * width + "".join(f"{result['participants']:>14}" for result in results))
    for label, key in rows[1:]:
        print(label.ljust(width) + "".join(f"{cell(result, key):>14}" for result in results))
    print(f"budget: no 5xx; big-screen p95 <= baseline p95 + {budget:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--seconds", type=float, default=45.0, help="voting time per scenario (after the ramp)")
    parser.add_argument("--ideas", type=int, default=60)
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which people arrive (N/20, 2–60)")
    parser.add_argument("--processes", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--budget", type=float, default=1.5, help="allowed seconds over the baseline's p95")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pool-size", type=int, default=None, help="database connections per server process (DATABASE_POOL_SIZE)"
    )
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB, help="Redis database the bench may empty")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL", "") or DEFAULT_DATABASE_URL
    if not base_url.startswith(("postgres://", "postgresql://")):
        print("bench_voting needs PostgreSQL: set DATABASE_URL to a postgres:// URL", file=sys.stderr)
        return 2
    redis_url = bench_redis(os.environ.get("REDIS_URL", "") or DEFAULT_REDIS_URL, args.redis_db)
    empty_redis(redis_url)
    raise_file_limit()
    random.seed(args.seed)
    database_url = recreate_database(base_url)
    folder = Path(tempfile.mkdtemp(prefix="bench_voting-"))
    env = server_env(database_url, redis_url, secrets.token_urlsafe(40), args.pool_size, folder)
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")})
    os.environ.update({key: env[key] for key in ("DJANGO_DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT")})
    sys.path[:0] = [str(folder), str(ROOT)]
    servers = None
    results: list[dict] = []
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        print(f"Migrating {BENCH_DATABASE}…", flush=True)
        call_command("migrate", verbosity=0)
        connections.close_all()
        RESULTS.mkdir(parents=True, exist_ok=True)
        servers = Servers(env, RESULTS / "bench_voting-servers.log")
        servers.start()
        print(f"Daphne on {servers.base}, Celery worker up; {args.processes} load processes.", flush=True)
        print(f"Their output: {servers.log.name}", flush=True)
        for participants in args.participants:
            results.append(run_scenario(servers, participants, args))
    finally:
        if servers is not None:
            servers.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        drop_database(base_url)
        empty_redis(redis_url)
        shutil.rmtree(folder, ignore_errors=True)
    budget = args.budget
    report(results, budget)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench_voting-{time.strftime('%Y%m%d-%H%M%S')}.json"
    summary = {"budget_seconds": budget, "pool_size": args.pool_size, "scenarios": results}
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    problems = [f"{result['participants']}: {problem}" for result in results for problem in verdict(result, budget)]
    for problem in problems:
        print(f"OVER BUDGET {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
