"""S7: pairwise voting at a large live event: N people voting as people do, and the big screen.

Run from the project root: ``.venv/bin/python -m bench.voting`` (1,000 voters, 45 s),
``--quick`` (50 voters, 10 s), ``--participants 300 1000``, ``--server daphne|uvicorn``. In the suite:
``python -m bench S7``. Needs PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL``); it makes its own
database ``kehittamo_benchd_vote`` and uses Redis database 15, and removes both at the end.

What runs, all on this machine:
- one ASGI server process (``--web N``: N, the voters split between their ports; Daphne or uvicorn,
  ``--server``) serving ``config.asgi`` (HTTP and
  WebSockets, Redis channel layer) and one Celery worker (the batched "ranking" pushes are Celery
  tasks), from ``bench.stack.Servers``;
- a seeded live workshop: an idea collection with ``--ideas`` ideas and a pairwise prioritisation
  phase as the current phase, N guest participants with sessions made as the join view makes them;
- the load generator, in separate processes (so it is not the bottleneck): per participant one
  WebSocket to the live consumer (session cookie, same Origin as the page) and votes like a person:
  fetch a pair, think 2–4 s, send the vote on the page's socket as static/js/voting.js does (posting
  it with ``has_form=1`` when the socket gives no answer in 20 s), which answers with the next pair;
  ``--http`` posts every vote instead, as a page without a socket does;
- the big screen: a facilitator's WebSocket that records when each "ranking" push arrives, and the
  baseline: the facilitator's broadcast message (control action) every 2 s, timed from its POST to
  its arrival at the same socket, under the same load.

Figures: votes accepted and votes/s (accepted votes over the time from the first send to the last
answer, and over the time after the ramp, when everyone has arrived: what a full hall gets), what the
voters asked for (N / mean think time), vote HTTP p50/p95, non-2xx and 5xx
responses, and the big screen's latency. Big-screen latency, the method: every accepted vote has the
monotonic time its POST was sent and the time its answer arrived (it is committed by then). Ordered
by answer time, the i-th vote is in every ranking computed from at least i votes (the vote count
only grows; answer order stands in for commit order, off by at most the few milliseconds between a
commit and its response). So vote i's latency is the arrival of the first "ranking" push that came
after its answer and counts ``votes >= i``, minus the vote's send time. The baseline is timed the
same way, send to arrival. Both include the HTTP request; the ranking's also includes the batching
(at most one push per ~0.5 s) and computing it.

Verdicts (issue #8 sets no S7 target beyond these): 0 5xx; every accepted vote stored; a ranking push
arrived; the big screen's p95 at most the baseline's p95 + ``--budget`` seconds (default 1.5). Results
go to ``bench/results/voting-*.json``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from bench.stack import (
    RESULTS,
    ROOT,
    Servers,
    Stack,
    django_on,
    guest_cookies,
    machine,
    ms,
    percentile,
    server_env,
    user_cookies,
)
from bench.voting_load import THINK_SECONDS, Endpoints, load_worker, observer

DATABASE = "kehittamo_benchd_vote"
REDIS_DB = 15
PARTICIPANTS = [1000]
QUICK = {"participants": [50], "seconds": 10.0}


# --- seeding (Django, in the main process) -------------------------------------------------------------------
@dataclass
class Seeded:
    workshop_id: int
    phase_id: int
    ideas: int
    facilitator: dict  # cookies
    participants: list[dict]  # cookies per participant


def seed(participants: int, ideas: int, label: str) -> Seeded:
    """A live workshop on a pairwise prioritisation of ``ideas`` ideas, with guests signed in as by joining."""
    import uuid

    from django.db import transaction

    from accounts.models import User
    from facilitation import services
    from facilitation.models import Idea, Phase
    from workshops.models import Participant, Workshop
    from workshops.services import organisation_get_or_create, workshop_create

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

    # As the log-in and guest_login() after the join code make them: the session knows who this browser is.
    return Seeded(workshop.pk, vote_phase.pk, ideas, user_cookies(facilitator), [guest_cookies(p) for p in people])


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


# --- one scenario -----------------------------------------------------------------------------------------------
def _cpu_seconds(servers: Servers) -> dict:
    """User + system CPU seconds so far of the ASGI server process(es) and of the Celery worker."""
    import psutil

    def used(pids) -> float:
        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total

    return {"server": used(servers.pids()), "worker": used([servers.worker.pid] if servers.worker else [])}


def screen_latencies(votes: list[tuple], pushes: list[tuple[float, int]]) -> tuple[list[float], list[float], int]:
    """Per accepted vote: (from send, from answer) to the first later push that counts it; and votes never seen."""
    accepted = sorted((vote for vote in votes if vote[3] and 200 <= vote[2] < 300), key=lambda vote: vote[1])
    pushes = sorted(pushes)
    arrivals = [arrived for arrived, _count in pushes]
    from_send, from_answer, unseen = [], [], 0
    for index, (sent, answered, *_rest) in enumerate(accepted, start=1):
        position = bisect.bisect_right(arrivals, answered)
        found = next((arrived for arrived, count in pushes[position:] if count >= index), None)
        if found is None:
            unseen += 1
            continue
        from_send.append(found - sent)
        from_answer.append(found - answered)
    return from_send, from_answer, unseen


def run_scenario(servers: Servers, participants: int, args) -> dict:
    """One round of voting by ``participants`` people against running ``servers``; its figures."""
    from django.db import connections

    from facilitation.models import Duel

    load = os.getloadavg()[0]
    print(f"\n== {participants} participants, {args.seconds:g} s of voting ==", flush=True)
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"note: the machine is already busy (load average {load:.1f}): figures will be worse", flush=True)
    seeded = seed(participants, args.ideas, f"{participants}")
    ends = [endpoints(base, seeded) for base in servers.bases]  # each load process on one server's port
    connections.close_all()
    rng = random.Random(args.seed)
    strengths = {str(idea): rng.gauss(0, 1.5) for idea in range(1, 10_000)}  # by idea id; unknown ids are even
    # People open the page over some time, not all in the same second.
    ramp = args.ramp if args.ramp is not None else min(60.0, max(2.0, participants / 20))
    start_at = time.monotonic() + 3.0
    stop_at = start_at + ramp + args.seconds
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=observer, args=(seeded.facilitator, ends[0], start_at, stop_at, queue))]
    shares = [seeded.participants[index :: args.processes] for index in range(args.processes)]
    for index, share in enumerate(shares):
        processes.append(
            context.Process(
                target=load_worker,
                args=(
                    share,
                    ends[index % len(ends)],
                    start_at,
                    ramp,
                    stop_at,
                    args.seed + index,
                    strengths,
                    not args.http,
                    queue,
                ),
            )
        )
    cpu_before = _cpu_seconds(servers)
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
    cpu_after = _cpu_seconds(servers)
    observed = next(result for result in results if "pushes" in result)
    votes = [vote for result in results if "votes" in result for vote in result["votes"]]
    socket_failures = [failure for result in results if "votes" in result for failure in result["socket_failures"]]
    posts = [vote for vote in votes if vote[3]]
    accepted = [vote for vote in posts if 200 <= vote[2] < 300]
    statuses = [vote[2] for vote in votes] + observed["broadcast_errors"]
    non_2xx = [status for status in statuses if not 200 <= status < 300]  # 0: no answer at all
    server_errors = [status for status in statuses if status >= 500]
    http = [answered - sent for sent, answered, *_rest in accepted]
    voting_time = (max(v[1] for v in accepted) - min(v[0] for v in accepted)) if accepted else 0.0
    # Once everyone has arrived (after the ramp), the rate a full hall keeps up: the whole run's rate
    # also counts the ramp, while only some of the people vote.
    arrived = start_at + ramp
    steady = sum(1 for _sent, answered, *_rest in accepted if arrived <= answered <= stop_at)
    from_send, from_answer, unseen = screen_latencies(votes, observed["pushes"])
    stored = Duel.objects.filter(phase_id=seeded.phase_id, answered_at__isnull=False).count()
    connections.close_all()
    return {
        "participants": participants,
        "server": servers.kind,
        "server_processes": len(servers.ports),
        "votes_sent_over": "http" if args.http else "socket",
        "load_average_before": round(load, 2),
        "seconds": args.seconds,
        "ramp_seconds": round(ramp, 1),
        # CPU the server process and the Celery worker used during the round: a figure a busy machine
        # disturbs less than wall-clock times (it does not count the time the process waited for a core).
        "server_cpu_seconds": round(cpu_after["server"] - cpu_before["server"], 1),
        "worker_cpu_seconds": round(cpu_after["worker"] - cpu_before["worker"], 1),
        "ideas": args.ideas,
        "socket_failures": len(socket_failures),
        "socket_failure_kinds": {kind: socket_failures.count(kind) for kind in sorted(set(socket_failures))},
        "never_connected": sum(result["never_connected"] for result in results if "votes" in result),
        "votes_accepted": len(accepted),
        "votes_over_socket": sum(1 for vote in accepted if vote[4]),
        "votes_stored": stored,
        "votes_per_second": round(len(accepted) / voting_time, 1) if voting_time else 0.0,
        "votes_per_second_wanted": round(participants / (sum(THINK_SECONDS) / 2), 1),
        "votes_per_second_everyone_in": round(steady / (stop_at - arrived), 1) if stop_at > arrived else 0.0,
        "vote_http_p50_ms": ms(percentile(http, 0.5)),
        "vote_http_p95_ms": ms(percentile(http, 0.95)),
        "non_2xx": len(non_2xx),
        "server_errors_5xx": len(server_errors),
        "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
        "ranking_pushes": len(observed["pushes"]),
        "votes_never_on_screen": unseen,
        "screen_p50_ms": ms(percentile(from_send, 0.5)),
        "screen_p95_ms": ms(percentile(from_send, 0.95)),
        "screen_from_answer_p50_ms": ms(percentile(from_answer, 0.5)),
        "screen_from_answer_p95_ms": ms(percentile(from_answer, 0.95)),
        "baseline_broadcasts": len(observed["broadcasts"]),
        "baseline_lost": observed["lost"],
        "baseline_p50_ms": ms(percentile([took for _sent, took in observed["broadcasts"]], 0.5)),
        "baseline_p95_ms": ms(percentile([took for _sent, took in observed["broadcasts"]], 0.95)),
        # While people arrive, their pages' first requests queue in front of the facilitator's too.
        "baseline_everyone_in_p95_ms": ms(
            percentile([took for sent, took in observed["broadcasts"] if sent >= arrived], 0.95)
        ),
    }


def verdict(result: dict, budget: float) -> list[dict]:
    """The checks of one round: no 5xx, every accepted vote stored, the big screen within budget."""
    screen, baseline = result["screen_p95_ms"], result["baseline_p95_ms"]
    limit = None if baseline is None else baseline + budget * 1000
    return [
        {"target": "0 5xx", "value": result["server_errors_5xx"], "limit": 0, "ok": not result["server_errors_5xx"]},
        {
            "target": "every accepted vote stored",
            "value": result["votes_stored"],
            "limit": result["votes_accepted"],
            "ok": result["votes_stored"] >= result["votes_accepted"],
        },
        {
            "target": f"big-screen p95 <= baseline p95 + {budget:g} s",
            "value": screen,
            "limit": limit,
            "ok": bool(result["ranking_pushes"]) and screen is not None and limit is not None and screen <= limit,
        },
    ]


def report(results: list[dict], budget: float) -> str:
    def cell(result: dict, key: str) -> str:
        value = result[key]
        if value is None:
            return "–"
        return f"{value:.0f} ms" if key.endswith("_ms") else str(value)

    rows = [
        ("server", "server"),
        ("socket opening failures (retried)", "socket_failures"),
        ("never connected", "never_connected"),
        ("votes accepted", "votes_accepted"),
        ("of them over the socket", "votes_over_socket"),
        ("votes stored (database)", "votes_stored"),
        ("votes/s wanted (N / 3 s)", "votes_per_second_wanted"),
        ("votes/s accepted", "votes_per_second"),
        ("votes/s accepted, everyone in", "votes_per_second_everyone_in"),
        ("server CPU s (all requests)", "server_cpu_seconds"),
        ("server CPU ms per accepted vote", "server_cpu_ms_per_vote"),
        ("Celery worker CPU s", "worker_cpu_seconds"),
        ("vote p50 (sent -> next pair)", "vote_http_p50_ms"),
        ("vote p95 (sent -> next pair)", "vote_http_p95_ms"),
        ("non-2xx responses", "non_2xx"),
        ("5xx responses", "server_errors_5xx"),
        ("ranking pushes received", "ranking_pushes"),
        ("big screen p50 (vote sent -> push)", "screen_p50_ms"),
        ("big screen p95 (vote sent -> push)", "screen_p95_ms"),
        ("baseline broadcast p50", "baseline_p50_ms"),
        ("baseline broadcast p95", "baseline_p95_ms"),
        ("baseline broadcast p95, everyone in", "baseline_everyone_in_p95_ms"),
    ]
    width = max(len(label) for label, _key in rows)
    lines = ["S7 pairwise voting", "participants".ljust(width) + "".join(f"{r['participants']:>14}" for r in results)]
    for label, key in rows:
        lines.append(label.ljust(width) + "".join(f"{cell(result, key):>14}" for result in results))
    for result in results:
        for check in result["verdicts"]:
            mark = "ok  " if check["ok"] else "MISS"
            lines.append(
                f"{mark} {result['participants']}: {check['target']}: {check['value']} (limit {check['limit']})"
            )
    return "\n".join(lines)


def _row(result: dict) -> dict:
    """One line of the suite's table: the big screen's latency as the latency, the votes as extras."""
    return {
        "clients": result["participants"],
        "p50_ms": result["screen_p50_ms"],
        "p95_ms": result["screen_p95_ms"],
        "server_errors_5xx": result["server_errors_5xx"],
        "extra": {
            "votes": result["votes_accepted"],
            "votes/s": result["votes_per_second"],
            "votes/s_everyone_in": result["votes_per_second_everyone_in"],
            "cpu_ms/vote": result["server_cpu_ms_per_vote"],
            "wanted/s": result["votes_per_second_wanted"],
            "vote_p95_ms": result["vote_http_p95_ms"],
            "baseline_p95_ms": result["baseline_p95_ms"],
            "non_2xx": result["non_2xx"],
        },
        "problems": [f"{check['target']}: {check['value']}" for check in result["verdicts"] if not check["ok"]],
    }


def scenario(
    participants: list[int],
    *,
    server: str = "daphne",
    seconds: float = 45.0,
    ideas: int = 60,
    ramp: float | None = None,
    processes: int | None = None,
    budget: float = 1.5,
    seed_value: int = 1,
    pool_size: int | None = None,
    web: int = 1,
    http: bool = False,
) -> dict:
    """Own database and Redis database, ``web`` server processes and a Celery worker; one round per size."""
    args = argparse.Namespace(
        http=http,
        seconds=seconds,
        ideas=ideas,
        ramp=ramp,
        processes=processes or max(1, min(4, os.cpu_count() or 1)),
        seed=seed_value,
    )
    random.seed(seed_value)
    results = []
    with Stack(DATABASE, REDIS_DB) as stack, django_on(stack.database_url, stack.redis_url):
        env = server_env(stack.database_url, stack.redis_url, pool_size=pool_size)
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = RESULTS / f"voting-{server}-servers.log"
        with Servers(env, log, kind=server, processes=web, celery=True) as servers:
            where = ", ".join(servers.bases)
            print(f"S7: {server} on {where}, Celery worker up; {args.processes} load processes.", flush=True)
            print(f"S7: their output: {log.relative_to(ROOT)}", flush=True)
            for size in participants:
                result = run_scenario(servers, size, args)
                votes, cpu = result["votes_accepted"], result["server_cpu_seconds"]
                result["server_cpu_ms_per_vote"] = round(1000 * cpu / votes, 1) if votes else None
                result["verdicts"] = verdict(result, budget)
                results.append(result)
    return {
        "scenario": "S7",
        "rows": [_row(result) for result in results],
        "server": server,
        "web_processes": web,
        "votes_sent_over": "http" if http else "socket",
        "budget_seconds": budget,
        "pool_size": pool_size,
        "rounds": results,
        "verdicts": [check for result in results for check in result["verdicts"]],
        "ok": all(check["ok"] for result in results for check in result["verdicts"]),
    }


def run(ctx) -> dict:
    """S7 for ``python -m bench``, in a subprocess of its own (its own Django settings and database).

    ``ctx.quick``: 50 voters for 10 s instead of 1,000 for 45 s; ``ctx.server``: daphne or uvicorn.
    """
    with tempfile.TemporaryDirectory(prefix="bench-voting-") as directory:
        out = Path(directory) / "voting.json"
        command = [sys.executable, "-m", "bench.voting", "--server", getattr(ctx, "server", "daphne") or "daphne"]
        command += ["--json-out", str(out)] + (["--quick"] if getattr(ctx, "quick", False) else [])
        subprocess.run(command, cwd=ROOT, check=False, timeout=3600)
        if not out.exists():
            return {"scenario": "S7", "ok": False, "error": "the S7 process ended without results", "verdicts": []}
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--participants", type=int, nargs="+", default=None, help="default 1000; --quick 50")
    parser.add_argument("--seconds", type=float, default=None, help="voting time per round (default 45; --quick 10)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--ideas", type=int, default=60)
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which people arrive (N/20, 2–60)")
    parser.add_argument("--processes", type=int, default=None, help="load-generating processes (default: cores, ≤ 4)")
    parser.add_argument("--budget", type=float, default=1.5, help="allowed seconds over the baseline's p95")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=None, help="database connections per server process")
    parser.add_argument("--web", type=int, default=1, help="ASGI server processes (the voters split between them)")
    parser.add_argument("--http", action="store_true", help="post every vote (a page without its socket)")
    parser.add_argument("--json-out", default=None, help="also write the result here (for the suite's runner)")
    args = parser.parse_args(argv)
    participants = args.participants or (QUICK["participants"] if args.quick else PARTICIPANTS)
    seconds = args.seconds or (QUICK["seconds"] if args.quick else 45.0)
    result = scenario(
        participants,
        server=args.server,
        seconds=seconds,
        ideas=args.ideas,
        ramp=args.ramp,
        processes=args.processes,
        budget=args.budget,
        seed_value=args.seed,
        pool_size=args.pool_size,
        web=args.web,
        http=args.http,
    )
    result["machine"] = machine()
    print(report(result["rounds"], args.budget))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"voting-{args.server}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
