"""H1: the facilitator's room overview and the participant's live page under an HTTP load.

A live workshop with 40 rooms in round 1 of a small-group rounds phase, and 100 or 10,000 comments
spread over its earlier plenary phases and the rooms. For each page: requests/s, p50/p95 and 5xx of
``clients`` concurrent clients (wrk connections, or httpx clients in processes of their own) for a bounded
time, and the page's query count (counted in this process on the same database with
``CaptureQueriesContext``; the servers run as in production, with no query logging).

Run alone: ``python -m bench.pages [--quick] [--server daphne|uvicorn|both] [--processes 1 2] [--generator
wrk|httpx]``. The load is wrk's when it is installed, else httpx clients'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.stack import (
    RESULTS,
    SERVERS,
    Servers,
    Stack,
    django_on,
    guest_cookies,
    machine,
    ms,
    percentile,
    request_headers,
    server_env,
    user_cookies,
)

DATABASE = "kehittamo_benchc"
REDIS_DB = 13
ROOMS = 40
PER_ROOM = 6  # members of a room besides its leader
CASES = 8
SIZES = (100, 10_000)
CLIENTS = 10
TIMED_REQUESTS = 20
TARGET_RPS = 100
TARGET_P95_MS = 150
PAGES = ("overview", "overview_fragment", "live", "panel")
GENERATORS = ("wrk", "httpx")
GENERATOR = "wrk" if shutil.which("wrk") else "httpx"  # make bench installs wrk (Debian's package)
WORDS = [
    *("kirjasto", "nuoret", "kesä", "kotihoito", "yhteistyö", "asukkaat", "kokeilu", "liikunta", "koulu"),
    *("kulttuuri", "puisto", "pyörätie", "ikäihmiset", "vapaaehtoiset", "tiimi", "palvelu", "digituki"),
    *("ruoka", "kierrätys", "tapahtuma", "ilta", "aamu", "lähiö", "kylä"),
]


@dataclass
class Seeded:
    comments: int
    workshop_id: int
    facilitator_cookies: list[dict]
    guest_cookies: list[dict]  # members of different rooms of the running round
    facilitator_id: int = 0
    guest_ids: list[int] = field(default_factory=list)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed(comments: int, *, rng_seed: int = 8) -> Seeded:
    """A live workshop in round 1 of 3 with ``ROOMS`` rooms and ``comments`` comments (and their events)."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from facilitation import services
    from facilitation.models import Comment, Event, Phase, Presence, Prompt, Reaction, Room, RoomMember, Round
    from workshops.models import Participant, Workshop
    from workshops.services import case_create, organisation_get_or_create, workshop_create

    rng = random.Random(rng_seed + comments)
    with transaction.atomic():
        facilitator, _created = User.objects.get_or_create(
            email="bench-h1-facilitator@example.fi", defaults={"name": "Bench Facilitator", "is_staff": True}
        )
        organisation = organisation_get_or_create(name="Bench municipality")
        workshop = workshop_create(
            organisation=organisation, title=f"H1 bench, {comments} comments", status=Workshop.Status.PLANNED
        )
        cases = [
            case_create(workshop=workshop, title=f"Case {number}", presenter_name=f"Presenter {number}")
            for number in range(1, CASES + 1)
        ]
        phases = {
            kind: services.phase_create(workshop=workshop, kind=kind, title=str(label), duration_minutes=15)
            for kind, label in (
                (Phase.Kind.PRESENTATION, "Case presentation"),
                (Phase.Kind.REFLECTION, "Reflection"),
                (Phase.Kind.DISCUSSION, "Discussion"),
                (Phase.Kind.ROUNDS, "Small groups"),
                (Phase.Kind.WRAP_UP, "Wrap-up"),
            )
        }
        Phase.objects.filter(pk=phases[Phase.Kind.PRESENTATION].pk).update(case=cases[0])
        prompts = {
            phase.pk: [
                Prompt.objects.create(phase=phase, position=position, text=f"Question {position}: {_text(rng, 5)}")
                for position in (1, 2)
            ]
            for kind, phase in phases.items()
            if kind in (Phase.Kind.REFLECTION, Phase.Kind.ROUNDS)
        }
        people = Participant.objects.bulk_create(
            Participant(
                workshop=workshop,
                name=f"Guest {number}",
                organisation_name=rng.choice(["Sosiaalitoimi", "Kirjasto", "Nuorisotoimi", "Kulttuuri"]),
                role=Participant.Role.PARTICIPANT,
                first_joined_at=timezone.now(),
            )
            for number in range(ROOMS * PER_ROOM)
        )
        leaders = Participant.objects.bulk_create(
            Participant(workshop=workshop, name=f"Leader {number}", role=Participant.Role.GROUP_LEADER)
            for number in range(ROOMS)
        )
        rooms_by_round = {}
        for number in (1, 2, 3):
            round_ = Round.objects.create(workshop=workshop, number=number)
            rooms = Room.objects.bulk_create(
                Room(
                    round=round_,
                    index=index,
                    case=cases[(index + number) % CASES],
                    leader=leaders[index],
                    summary=_text(rng, 30) if number == 1 and index % 3 == 0 else "",
                )
                for index in range(ROOMS)
            )
            shuffled = list(people)
            rng.shuffle(shuffled)
            RoomMember.objects.bulk_create(
                RoomMember(round=round_, room=rooms[position // PER_ROOM], participant=person)
                for position, person in enumerate(shuffled)
            )
            rooms_by_round[number] = (round_, rooms)
        round_one, rooms = rooms_by_round[1]
        members = {
            room.pk: list(RoomMember.objects.filter(room=room).values_list("participant_id", flat=True))
            for room in rooms
        }
        Presence.objects.bulk_create(
            Presence(key=f"bench:{person.pk}", workshop=workshop, participant=person)
            for person in people
            if rng.random() < 0.8
        )
        # 70 % of the comments in round 1's rooms, the rest in the plenary phases before.
        start = timezone.now() - timedelta(hours=2)
        plenary = [
            (phases[Phase.Kind.PRESENTATION], None, cases[0]),
            *((phases[Phase.Kind.REFLECTION], prompt, None) for prompt in prompts[phases[Phase.Kind.REFLECTION].pk]),
            (phases[Phase.Kind.DISCUSSION], None, None),
        ]
        rows: list[Comment] = []
        parents: list[Comment | None] = []
        tops: dict[str, list[Comment]] = {}
        for number in range(comments):
            at = start + timedelta(seconds=7200 * number / max(comments, 1))
            if rng.random() < 0.7:
                room = rng.choice(rooms)
                key, phase, prompt, case = f"r{room.pk}", phases[Phase.Kind.ROUNDS], None, room.case
                author = rng.choice(members[room.pk])
            else:
                room = None
                phase, prompt, case = rng.choice(plenary)
                key = f"p{phase.pk}-{prompt.pk if prompt else 0}"
                author = rng.choice(people).pk
            earlier = tops.get(key, [])
            parent = rng.choice(earlier) if earlier and rng.random() < 0.2 else None
            comment = Comment(
                client_id=uuid.uuid4(),
                workshop=workshop,
                phase=phase,
                case=case,
                prompt=prompt,
                round=round_one if room else None,
                room=room,
                author_participant_id=author,
                anonymous=rng.random() < 0.1,
                text=_text(rng, rng.randint(5, 40)),
                language="fi",
                created_at=at,
                hidden_at=at if rng.random() < 0.01 else None,
                deleted_at=at if rng.random() < 0.01 else None,
            )
            rows.append(comment)
            parents.append(parent)
            if parent is None:
                tops.setdefault(key, []).append(comment)
        # Top-level comments first (PostgreSQL returns their ids), then the replies pointing at them.
        top_rows = [row for row, parent in zip(rows, parents, strict=True) if parent is None]
        Comment.objects.bulk_create(top_rows, batch_size=2000)
        for row, parent in zip(rows, parents, strict=True):
            row.parent = parent
        Comment.objects.bulk_create([row for row in rows if row.pk is None], batch_size=2000)
        ids = [row.pk for row in rows]
        Reaction.objects.bulk_create(
            (
                Reaction(comment_id=comment_id, participant_id=person.pk, kind=rng.choice(["agree", "good_point"]))
                for comment_id in rng.sample(ids, len(ids) // 3)
                for person in [rng.choice(people)]
            ),
            batch_size=2000,
            ignore_conflicts=True,
        )
        Event.objects.bulk_create(
            (
                Event(
                    workshop=workshop,
                    kind="comment.created",
                    payload={"id": row.pk, "thread": row.thread_key},
                    audience=Event.Audience.ROOM if row.room_id else Event.Audience.ALL,
                    room_id=row.room_id,
                    created_at=row.created_at,
                )
                for row in rows
            ),
            batch_size=2000,
        )
    services.live_start(workshop=workshop, by=facilitator)
    services.phase_go(workshop=workshop, phase=phases[Phase.Kind.ROUNDS])
    services.round_start(workshop=workshop, number=1)
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum keeps them in a workshop whose comments came over an hour: just after
        # a bulk insert the planner took 10,000 events for 29 and scanned them all for each page's newest event.
        cursor.execute("ANALYZE")
    # Ten participants, each in a different room of round 1, and the facilitator's ten browsers.
    chosen = [members[room.pk][0] for room in rooms[:CLIENTS]]
    guests = {person.pk: person for person in people}
    return Seeded(
        comments=comments,
        workshop_id=workshop.pk,
        facilitator_cookies=[user_cookies(facilitator) for _ in range(CLIENTS)],
        guest_cookies=[guest_cookies(guests[pk]) for pk in chosen],
        facilitator_id=facilitator.pk,
        guest_ids=chosen,
    )


def ensure_static() -> None:
    """Pages render ``{% static %}`` through the manifest (DEBUG off, as in production): collect what
    changed since the last run (a manifest older than the code would lack new files)."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def page_urls(workshop_id: int) -> dict[str, str]:
    from django.urls import reverse

    overview = reverse("facilitation:rooms_live", args=[workshop_id])
    return {
        "overview": overview,
        "overview_fragment": overview + "?fragment=1",
        "live": reverse("facilitation:live", args=[workshop_id]),
        "panel": reverse("facilitation:panel", args=[workshop_id]),
    }


def _cookies_for(page: str, seeded: Seeded) -> list[dict]:
    return seeded.facilitator_cookies if page.startswith("overview") else seeded.guest_cookies


def query_counts(seeded: Seeded) -> dict[str, dict]:
    """Each page's queries per request (second request: caches as warm as on a running server) and size."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for page, url in page_urls(seeded.workshop_id).items():
        client = Client(HTTP_HOST="127.0.0.1")
        for key, value in _cookies_for(page, seeded)[0].items():
            client.cookies[key] = value
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        queries = len(captured)  # now: the log empties when the connection goes back to the pool
        # One request after another in this process: what one server process can do at best, apart from the
        # ASGI server's own cost (less disturbed by other load than the figures under load: CPU time too).
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(TIMED_REQUESTS):
            client.get(url)
        counts[page] = {
            "queries": queries,
            "status": response.status_code,
            "bytes": len(response.content),
            "inprocess_ms": round((time.perf_counter() - wall) * 1000 / TIMED_REQUESTS, 1),
            "inprocess_cpu_ms": round((time.process_time() - cpu) * 1000 / TIMED_REQUESTS, 1),
        }
    return counts


# --- the load ----------------------------------------------------------------------------------------------
async def _client(base: str, url: str, headers: dict, stop_at: float, out: list) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.time() < stop_at:
            started = time.perf_counter()
            try:
                response = await client.get(url)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            out.append((time.perf_counter() - started, status))


async def _load(jobs: list[tuple[str, str, dict]], stop_at: float) -> list:
    out: list = []
    await asyncio.gather(*(_client(base, url, headers, stop_at, out) for base, url, headers in jobs))
    return out


def load_worker(jobs: list[tuple[str, str, dict]], stop_at: float, queue) -> None:
    queue.put(asyncio.run(_load(jobs, stop_at)))


def hammer(bases: list[str], url: str, cookies: list[dict], seconds: float, generators: int = 1) -> dict:
    """``len(cookies)`` clients GET ``url`` back to back for ``seconds``, split across ``bases`` and
    ``generators`` processes; requests/s, p50/p95/max and non-200 answers."""
    jobs = [
        (bases[number % len(bases)], url, request_headers(bases[number % len(bases)], jar))
        for number, jar in enumerate(cookies)
    ]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    started = time.time() + 1.5  # the generators' start-up is not measured
    stop_at = started + seconds
    workers = [
        context.Process(target=_delayed_worker, args=(jobs[share::generators], started, stop_at, queue))
        for share in range(generators)
    ]
    for worker in workers:
        worker.start()
    results = []
    for _worker in workers:
        results.extend(queue.get(timeout=seconds + 60))
    for worker in workers:
        worker.join(timeout=10)
    latencies = [seconds_ for seconds_, status in results]
    statuses = [status for _, status in results]
    return {
        "requests": len(results),
        "rps": round(len(results) / seconds, 1),
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "max_ms": ms(max(latencies) if latencies else None),
        "errors_5xx": sum(1 for status in statuses if status >= 500),
        "failed": sum(1 for status in statuses if status != 200),
    }


def _delayed_worker(jobs, start_at: float, stop_at: float, queue) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    load_worker(jobs, stop_at, queue)


# wrk (C, one event loop per thread) as the load: the first choice. The httpx clients cost the machine
# several ms of CPU per page they read (h11 parses in Python), on the cores the servers need: at 10,000 comments
# the same server gave 30-40 % more pages a second to wrk than to httpx. Each wrk connection is one of the
# ``clients`` browsers; its requests take the browsers' cookies in turn.
WRK_SCRIPT = """
local cookies = {%(cookies)s}
local origin = %(origin)s
local turn = 0
bad, server_errors = 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  turn = turn %% #cookies + 1
  return wrk.format("GET", nil, {["Cookie"] = cookies[turn], ["Origin"] = origin, ["Referer"] = origin .. "/"})
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local bad_, server_errors_ = 0, 0
  for _, thread in ipairs(threads) do
    bad_ = bad_ + thread:get("bad")
    server_errors_ = server_errors_ + thread:get("server_errors")
  end
  local errors = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    bad_, server_errors_, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency.max))
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hammer_wrk(bases: list[str], url: str, cookies: list[dict], seconds: float) -> dict:
    """As ``hammer``, with one wrk process per server (its share of the ``len(cookies)`` connections). The p50 and
    p95 are the highest of the processes' (an upper bound of the whole load's: each process made about as many
    requests)."""
    import subprocess
    import tempfile

    shares = [cookies[number :: len(bases)] for number in range(len(bases))]
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for number, (base, jars) in enumerate(zip(bases, shares, strict=True)):
            headers = [request_headers(base, jar)["Cookie"] for jar in jars]
            script = Path(folder) / f"h1-{number}.lua"
            script.write_text(WRK_SCRIPT % {"cookies": ", ".join(map(_lua, headers)), "origin": _lua(base)})
            command = ["wrk", "-t1", f"-c{len(jars)}", f"-d{seconds:.0f}s", "--timeout", "30s", "-s", str(script)]
            runs.append(subprocess.Popen([*command, base + url], stdout=subprocess.PIPE, text=True))
        outputs = [run.communicate(timeout=seconds + 60)[0] for run in runs]
    figures = []
    for output in outputs:
        line = next((line for line in output.splitlines() if line.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result:\n{output}")
        figures.append([int(value) for value in line.split()[1:]])
    requests = sum(row[0] for row in figures)
    return {
        "requests": requests,
        "rps": round(sum(row[0] / (row[1] / 1e6) for row in figures), 1),
        "p50_ms": round(max(row[5] for row in figures) / 1000, 1),
        "p95_ms": round(max(row[6] for row in figures) / 1000, 1),
        "max_ms": round(max(row[7] for row in figures) / 1000, 1),
        "errors_5xx": sum(row[3] for row in figures),
        "failed": sum(row[2] + row[4] for row in figures),
    }


# --- the scenario ----------------------------------------------------------------------------------------------
def _verdicts(result: dict) -> dict:
    big = result["sizes"][str(max(result["size_list"]))]
    small = result["sizes"][str(min(result["size_list"]))]
    verdicts = {}
    for page in PAGES:
        same = big["queries"][page]["queries"] == small["queries"][page]["queries"]
        verdicts[f"{page}: query count same at {min(result['size_list'])} and {max(result['size_list'])}"] = same
    for run in result["runs"]:
        if run["comments"] != max(result["size_list"]):
            continue
        for page, figures in run["pages"].items():
            label = f"{page} {run['server']} ×{run['processes']}"
            verdicts[f"{label}: ≥ {TARGET_RPS} req/s"] = figures["rps"] >= TARGET_RPS
            verdicts[f"{label}: p95 ≤ {TARGET_P95_MS} ms"] = (figures["p95_ms"] or 1e9) <= TARGET_P95_MS
            verdicts[f"{label}: no 5xx"] = figures["errors_5xx"] == 0
            verdicts[f"{label}: every answer 200"] = figures["failed"] == 0
    return verdicts


def _option(ctx, name: str):
    """``ctx.<name>`` (this module's own command line) or ``ctx.args.<name>`` (``python -m bench``'s)."""
    value = getattr(ctx, name, None)
    return value if value is not None else getattr(getattr(ctx, "args", None), name, None)


def _rows(result: dict) -> list[dict]:
    """One table row per server, process count, size and page, for ``python -m bench``'s table."""
    biggest = max(result["size_list"])
    rows = []
    for run_ in result["runs"]:
        for page, figures in run_["pages"].items():
            problems = []
            if run_["comments"] == biggest:
                if figures["rps"] < TARGET_RPS:
                    problems.append(f"{figures['rps']} req/s < {TARGET_RPS}")
                if (figures["p95_ms"] or 1e9) > TARGET_P95_MS:
                    problems.append(f"p95 {figures['p95_ms']} ms > {TARGET_P95_MS}")
                if figures["failed"]:
                    problems.append(f"{figures['failed']} answers not 200")
            queries = {size: result["sizes"][size]["queries"][page]["queries"] for size in result["sizes"]}
            if len(set(queries.values())) > 1:
                problems.append(f"queries grow: {queries}")
            rows.append(
                {
                    "server": run_["server"],
                    "clients": result["clients"],
                    "p50_ms": figures["p50_ms"],
                    "p95_ms": figures["p95_ms"],
                    "max_ms": figures["max_ms"],
                    "http_5xx": figures["errors_5xx"],
                    "extra": {
                        "page": page,
                        "comments": run_["comments"],
                        "processes": run_["processes"],
                        "req/s": figures["rps"],
                        "queries": queries[str(run_["comments"])],
                        "in-process ms": result["sizes"][str(run_["comments"])]["queries"][page]["inprocess_ms"],
                    },
                    "problems": problems,
                    "verdict": "MISS" if problems else ("ok" if run_["comments"] == biggest else ""),
                }
            )
    return rows


def run(ctx) -> dict:
    """H1: figures and verdicts. ``ctx.quick`` (3 s per page, one process), ``ctx.server`` ("daphne",
    "uvicorn", "both"); optionally ``processes`` (process counts, default 1 and 2), ``seconds``, ``clients``
    and ``pages`` on ``ctx`` or ``ctx.args``."""
    quick = bool(getattr(ctx, "quick", False))
    server = getattr(ctx, "server", "daphne") or "daphne"
    generator = _option(ctx, "generator") or GENERATOR
    kinds = list(SERVERS) if server == "both" else [server]
    processes = list(_option(ctx, "processes") or ([1] if quick else [1, 2]))
    pages = list(_option(ctx, "pages") or PAGES)
    seconds = float(_option(ctx, "seconds") or (3 if quick else 10))
    clients = int(_option(ctx, "clients") or CLIENTS)
    sizes = list(SIZES)
    result: dict = {
        "scenario": "H1",
        "clients": clients,
        "seconds": seconds,
        "generator": generator,
        "size_list": sizes,
        "sizes": {},
    }
    result["runs"] = []
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no access-log line per in-process request
    with Stack(DATABASE, REDIS_DB) as stack, django_on(stack.database_url, stack.redis_url):
        ensure_static()
        seeded = {}
        for size in sizes:
            began = time.monotonic()
            seeded[size] = seed(size)
            result["sizes"][str(size)] = {
                "seed_s": round(time.monotonic() - began, 1),
                "queries": query_counts(seeded[size]),
            }
        from django.db import connections

        connections.close_all()
        # The sessions were signed with this process's key: the servers must share it.
        env = server_env(stack.database_url, stack.redis_url, SECRET_KEY=os.environ["SECRET_KEY"])
        for kind in kinds:
            for count in processes:
                log = RESULTS / f"h1-{kind}-{count}.log"
                with Servers(env, log, kind=kind, processes=count, celery=False) as servers:
                    for size in sizes:
                        urls = page_urls(seeded[size].workshop_id)
                        figures = {}
                        for page in pages:
                            jars = (_cookies_for(page, seeded[size]) * clients)[:clients]
                            if generator == "wrk":
                                figures[page] = hammer_wrk(servers.bases, urls[page], jars, seconds)
                            else:
                                figures[page] = hammer(servers.bases, urls[page], jars, seconds, generators=count)
                        result["runs"].append({"server": kind, "processes": count, "comments": size, "pages": figures})
    result["verdicts"] = _verdicts(result) if set(pages) == set(PAGES) else {}
    result["ok"] = all(result["verdicts"].values())
    result["rows"] = _rows(result)
    return result


def table(result: dict) -> str:
    lines = [
        f"H1: {result['clients']} concurrent clients ({result.get('generator', 'httpx')}), "
        f"{result['seconds']:.0f} s per page"
    ]
    lines.append(
        "queries per request: "
        + "; ".join(
            f"{size} comments: " + ", ".join(f"{page} {row['queries']}" for page, row in figures["queries"].items())
            for size, figures in result["sizes"].items()
        )
    )
    for size, figures in result["sizes"].items():
        lines.append(
            f"one request at a time in-process, {size} comments (wall / CPU ms): "
            + ", ".join(
                f"{page} {row['inprocess_ms']} / {row['inprocess_cpu_ms']}" for page, row in figures["queries"].items()
            )
        )
    heads = ("server", "proc", "comments", "page", "req/s", "p50 ms", "p95 ms", "max ms", "5xx", "non-200")
    lines.append("{:<8} {:>4} {:>8} {:<18} {:>7} {:>8} {:>8} {:>8} {:>4} {:>7}".format(*heads))
    for run_ in result["runs"]:
        for page, row in run_["pages"].items():
            lines.append(
                f"{run_['server']:<8} {run_['processes']:>4} {run_['comments']:>8} {page:<18} {row['rps']:>7} "
                f"{row['p50_ms']!s:>8} {row['p95_ms']!s:>8} {row['max_ms']!s:>8} "
                f"{row['errors_5xx']:>4} {row['failed']:>7}"
            )
    for name, ok in result["verdicts"].items():
        lines.append(f"{'PASS' if ok else 'MISS'}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per page instead of 10")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="daphne")
    parser.add_argument("--processes", type=int, nargs="+", default=None, help="server processes (default 1 2)")
    parser.add_argument("--clients", type=int, default=None, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--seconds", type=float, default=None, help="load time per page")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=None)
    parser.add_argument(
        "--generator", choices=GENERATORS, default=None, help=f"the load's clients (default {GENERATOR})"
    )
    args = parser.parse_args(argv)
    result = run(args)
    result["machine"] = machine()
    print(table(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"h1-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"written {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
