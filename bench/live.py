"""The live scenarios S1–S6 and X1: a seeded live workshop, its guests' sockets, comments POSTed as the page does.

Each scenario seeds a fresh workshop in the bench's database (guests with sessions as the join view
makes them, a staff facilitator, the live view started on a discussion phase), runs ``bench.loadgen``
against the real server(s) with a Celery worker, and reports latency from each POST's send to each
recipient's receipt, over all recipients, with delivered/expected.

- S1 / S2: 300 / 1,000 participants, 1 comment/s from random senders for 60 s.
- S3: burst: 20 comments within one second to everyone (1,000 participants and the facilitator); then
  200 room notes within 2 s spread over 30 rooms of a running small-group round (each to its room's
  members and the facilitator).
- S4: 30 rooms × 7 people and a facilitator's socket (staff hears every room), everyone posting a note
  every 10 s for 60 s: the rooms' latencies and the facilitator's apart.
- S5: the facilitator changes the phase (3 times, 8 s apart) for 1,000: time until the LAST participant
  has the "phase" frame; and, as live.js does, each shows the panel that came with the phase (or, when
  none came, loads it after 0–250 ms): time until the last panel is shown.
- S6: reconnect storm: comments flow 1/s; 1,000 clients each drop once within 5 s and reconnect after
  live.js's back-off, catching up over the events endpoint after their last sure event id: time until
  every client has a push again; every comment seen by every client, by push or catch-up.
- X1: two server processes, the clients split between their ports, comments posted to both: every
  comment reaches every participant on both; S2's load.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

from bench import loadgen
from bench.stack import Servers, guest_cookies, ms, percentile, request_headers, server_env, user_cookies

WORDS = [
    "kirjasto",
    "nuoret",
    "kesä",
    "kotihoito",
    "yhteistyö",
    "asukkaat",
    "kokeilu",
    "liikunta",
    "koulu",
    "puisto",
    "pyörätie",
    "tiimi",
]
ROOM_SIZE = 8  # S5's rounds: people per room, as in a rotating small-group workshop
_servers: dict[tuple[str, int], Servers] = {}


# --- servers, kept for the scenarios of one ASGI server ---------------------------------------------------
def servers_for(ctx, processes: int | None = None) -> Servers:
    """Fresh servers for each scenario: one that overloads a server must not leave the next a wedged one.

    ``processes`` defaults to ``--web`` (one process per core is how a small server runs them).
    """
    processes = processes or getattr(ctx.args, "web", 1) or 1
    key = (ctx.server, processes)
    close_servers()  # one set of servers at a time: the others would only add noise
    if key not in _servers:
        env = server_env(ctx.stack.database_url, ctx.stack.redis_url)
        servers = Servers(
            env,
            ctx.results / f"live-{ctx.server}-{processes}-{int(time.time())}.log",
            kind=ctx.server,
            processes=processes,
        )
        servers.start()
        _servers[key] = servers
    return _servers[key]


def close_servers() -> None:
    while _servers:
        _servers.popitem()[1].stop()


# --- sizes ---------------------------------------------------------------------------------------------
def size(ctx, full: int, quick: int = 30) -> int:
    if getattr(ctx.args, "clients", None):
        return ctx.args.clients
    return quick if ctx.quick else full


def seconds(ctx, full: float, quick: float = 6.0) -> float:
    if getattr(ctx.args, "seconds", None):
        return float(ctx.args.seconds)
    return quick if ctx.quick else full


# --- seeding (Django, in this process) -------------------------------------------------------------------
@dataclass
class Seeded:
    workshop_id: int
    phase_id: int
    facilitator: dict  # cookies
    participants: list[dict]  # cookies, in order
    rooms: dict[int, list[int]] = field(default_factory=dict)  # room id -> positions in ``participants``
    phase_titles: list[tuple[int, str]] = field(default_factory=list)  # S5: (phase id, marker in its title)
    rounds_phase: tuple[int, str] | None = None  # S5: the small-group phase after those (id, marker in its title)
    last_event: int = 0


def seed(participants: int, *, label: str, rooms: int = 0, phase_changes: int = 0, planned_rounds: int = 0) -> Seeded:
    """A live workshop on a discussion phase with ``participants`` guests; optionally a running round of
    ``rooms`` rooms, or (S5) ``planned_rounds`` rounds not started yet, in rooms of ``ROOM_SIZE`` that mix
    people anew each round, with their small-group phase after the ``phase_changes`` phases."""
    from django.db import connections, transaction

    from accounts.models import User
    from facilitation import services
    from facilitation.models import Event, Phase, Room, RoomMember, Round
    from workshops.models import Participant, Workshop
    from workshops.services import organisation_get_or_create, workshop_create

    with transaction.atomic():
        facilitator, _created = User.objects.get_or_create(
            email="bench-facilitator@example.fi", defaults={"name": "Bench Facilitator", "is_staff": True}
        )
        organisation = organisation_get_or_create(name="Bench municipality")
        workshop = workshop_create(
            organisation=organisation, title=f"Live bench {label}", status=Workshop.Status.PLANNED
        )
        phase = services.phase_create(
            workshop=workshop, kind=Phase.Kind.DISCUSSION, title="Discussion", duration_minutes=30
        )
        if rooms:
            services.phase_create(workshop=workshop, kind=Phase.Kind.ROUNDS, title="Small groups", duration_minutes=30)
        titles = []
        for _change in range(phase_changes):
            marker = loadgen.new_marker()
            later = services.phase_create(
                workshop=workshop, kind=Phase.Kind.DISCUSSION, title=f"Next {marker}", duration_minutes=10
            )
            titles.append((later.pk, marker))
        rounds_phase = None
        if planned_rounds:
            marker = loadgen.new_marker()
            rounds_phase = (
                services.phase_create(
                    workshop=workshop, kind=Phase.Kind.ROUNDS, title=f"Small groups {marker}", duration_minutes=30
                ).pk,
                marker,
            )
        people = Participant.objects.bulk_create(
            Participant(workshop=workshop, name=f"Guest {number}", role=Participant.Role.PARTICIPANT)
            for number in range(participants)
        )
        _plan_rounds(workshop, people, planned_rounds)
    services.live_start(workshop=workshop, by=facilitator)
    room_positions: dict[int, list[int]] = {}
    if rooms:
        with transaction.atomic():
            round_ = Round.objects.create(workshop=workshop, number=1)
            room_rows = Room.objects.bulk_create(Room(round=round_, index=index) for index in range(rooms))
            for position in range(participants):
                room_positions.setdefault(room_rows[position % rooms].pk, []).append(position)
            RoomMember.objects.bulk_create(
                RoomMember(round=round_, room_id=room_id, participant=people[position])
                for room_id, positions in room_positions.items()
                for position in positions
            )
        services.round_start(workshop=workshop, number=1)
    seeded = Seeded(
        workshop_id=workshop.pk,
        phase_id=phase.pk,
        facilitator=user_cookies(facilitator),
        participants=[guest_cookies(person) for person in people],
        rooms=room_positions,
        phase_titles=titles,
        rounds_phase=rounds_phase,
        last_event=Event.objects.filter(workshop=workshop).order_by("-pk").values_list("pk", flat=True).first() or 0,
    )
    connections.close_all()
    return seeded


def _plan_rounds(workshop, people: list, rounds: int) -> None:
    """``rounds`` rounds, not started, of rooms of ``ROOM_SIZE``; each round shuffles who meets whom."""
    from facilitation.models import Room, RoomMember, Round

    rng = random.Random(5)
    count = max(1, len(people) // ROOM_SIZE)
    for number in range(1, rounds + 1):
        round_ = Round.objects.create(workshop=workshop, number=number)
        room_rows = Room.objects.bulk_create(Room(round=round_, index=index) for index in range(count))
        order = list(people)
        rng.shuffle(order)
        RoomMember.objects.bulk_create(
            RoomMember(round=round_, room=room_rows[position % count], participant=person)
            for position, person in enumerate(order)
        )


# --- plans -------------------------------------------------------------------------------------------------
def _client(index: int, base: str, seeded: Seeded, cookies: dict, audiences, *, panel: bool = False):
    workshop = seeded.workshop_id
    return loadgen.Client(
        index=index,
        url=base.replace("http://", "ws://") + f"/ws/w/{workshop}/",
        origin=base,
        cookie=request_headers(base, cookies)["Cookie"],
        audiences=tuple(audiences),
        events_url=f"{base}/w/{workshop}/live/events/",
        panel_url=f"{base}/w/{workshop}/live/panel/" if panel else "",
        last_event=seeded.last_event,
    )


def _comment(ctx, at: float, bases: list[str], seeded: Seeded, writer: int, *, room: int | None = None) -> loadgen.Send:
    """A comment by participant ``writer`` (their client's index) as the page's outbox sends it: the
    composer's fields with a client-made id, over the writer's own socket, posted with the CSRF header when
    the socket gives no answer (``--http``: always posted, as a page without a socket does)."""
    cookies = seeded.participants[writer]
    base = bases[writer % len(bases)]  # the writer's own server, as its client's
    marker = loadgen.new_marker()
    fields = {
        "phase": str(seeded.phase_id),
        "prompt": "",
        "thread": f"p{seeded.phase_id}",
        "client_id": str(uuid.uuid4()),
        "text": f"{marker} " + " ".join(random.sample(WORDS, 5)),
    }
    if room is not None:
        fields["room"] = str(room)
    headers = {**request_headers(base, cookies, csrf=True), "Accept": "application/json"}
    return loadgen.Send(
        at=at,
        marker=marker,
        audience=f"r{room}" if room is not None else "all",
        url=f"{base}/w/{seeded.workshop_id}/comments/",
        headers=headers,
        fields=fields,
        client=None if ctx.args.http else writer,
    )


def _plan(ctx, clients, sends, duration: float, **extra) -> loadgen.Plan:
    return loadgen.Plan(
        clients=clients,
        sends=sends,
        connect_by=time.time() + 30 + len(clients) / 15,  # go at the latest (1,000 sockets: about 100 s)
        duration=duration,
        settle=2 + len(clients) / 250,  # 1,000 arrivals' presence and stats work settles before the first send
        processes=getattr(ctx.args, "processes", None) or loadgen.default_processes(len(clients)),
        **extra,
    )


def _row(name: str, ctx, plan: loadgen.Plan, raw: dict, clients: int, **options) -> dict:
    return {
        "scenario": name,
        "server": ctx.server,
        "web_processes": len({client.url.split("/")[2] for client in plan.clients}),
        "clients": clients,
        **loadgen.analyse(plan, raw, **options),
        **loadgen.send_spread(plan, raw),
        "connect_seconds": raw["connect_seconds"],
    }


# --- the scenarios ----------------------------------------------------------------------------------------------
def _steady(name: str, ctx, participants: int, *, processes: int | None = None) -> dict:
    """One comment a second from random senders to everyone; clients spread over the servers' ports."""
    servers = servers_for(ctx, processes)
    seeded = seed(participants, label=name)
    bases = servers.bases
    clients = [
        _client(index, bases[index % len(bases)], seeded, cookies, ("all",))
        for index, cookies in enumerate(seeded.participants)
    ]
    rng = random.Random(1)
    duration = seconds(ctx, 60)
    writers = range(len(seeded.participants))
    sends = [_comment(ctx, float(second), bases, seeded, rng.choice(writers)) for second in range(int(duration))]
    plan = _plan(ctx, clients, sends, duration + loadgen.DRAIN_SECONDS)
    raw = loadgen.run(plan)
    row = _row(name, ctx, plan, raw, participants)
    if len(bases) > 1:
        port_of = {client.index: client.url.split(":")[2].split("/")[0] for client in clients}
        row["per_port"] = {}
        for port in sorted(set(port_of.values())):
            part = loadgen.analyse(plan, raw, audience_filter=lambda client, port=port: port_of[client.index] == port)
            row["per_port"][port] = {key: part[key] for key in ("p50_ms", "p95_ms", "delivered", "expected")}
        row["p95_per_port_ms"] = "/".join(str(part["p95_ms"]) for part in row["per_port"].values())
        row["delivered_per_port"] = "/".join(
            f"{part['delivered']}/{part['expected']}" for part in row["per_port"].values()
        )
        row["show"] = ["p95_per_port_ms", "delivered_per_port"]
    return {"rows": [row]}


def run_s1(ctx) -> dict:
    return _steady("S1", ctx, size(ctx, 300))


def run_s2(ctx) -> dict:
    return _steady("S2", ctx, size(ctx, 1000))


def run_x1(ctx) -> dict:
    return _steady("X1", ctx, size(ctx, 1000), processes=2)


def _room_clients(bases: list[str], seeded: Seeded) -> tuple[list[loadgen.Client], dict[int, int]]:
    """Everyone's socket (hearing everything and their room) and the facilitator's (hearing every room),
    spread over the servers' ports."""
    room_of = {position: room for room, positions in seeded.rooms.items() for position in positions}
    clients = [
        _client(index, bases[index % len(bases)], seeded, cookies, ("all", f"r{room_of[index]}"))
        for index, cookies in enumerate(seeded.participants)
    ]
    overview = ("all", "staff", *(f"r{room}" for room in seeded.rooms))
    clients.append(_client(len(clients), bases[len(clients) % len(bases)], seeded, seeded.facilitator, overview))
    return clients, room_of


def run_s3(ctx) -> dict:
    servers = servers_for(ctx)
    rooms = 4 if ctx.quick else 30
    seeded = seed(size(ctx, 1000), label="S3", rooms=rooms)
    bases = servers.bases
    clients, room_of = _room_clients(bases, seeded)
    rng = random.Random(3)
    writers = range(len(seeded.participants))
    burst = [_comment(ctx, 1 + number / 20, bases, seeded, rng.choice(writers)) for number in range(20)]
    notes = []
    for number in range(40 if ctx.quick else 200):
        position = rng.randrange(len(seeded.participants))
        notes.append(
            _comment(
                ctx,
                4 + number / (20 if ctx.quick else 100),
                bases,
                seeded,
                position,
                room=room_of[position],
            )
        )
    plan = _plan(ctx, clients, burst + notes, 4 + 2 + loadgen.DRAIN_SECONDS)
    raw = loadgen.run(plan)
    markers = {send.marker for send in burst}
    first = loadgen.Plan(**{**plan.__dict__, "sends": burst})
    second = loadgen.Plan(**{**plan.__dict__, "sends": [send for send in plan.sends if send.marker not in markers]})
    return {
        "rows": [
            _row("S3 burst", ctx, first, raw, len(clients)),
            {**_row("S3 rooms", ctx, second, raw, len(clients)), "rooms": rooms, "show": ["rooms"]},
        ]
    }


def run_s4(ctx) -> dict:
    servers = servers_for(ctx)
    rooms, per_room = (4, 7) if ctx.quick else (30, 7)
    seeded = seed(rooms * per_room, label="S4", rooms=rooms)
    bases = servers.bases
    clients, room_of = _room_clients(bases, seeded)
    facilitator = clients[-1].index
    duration = seconds(ctx, 60, 10)
    rng = random.Random(4)
    sends = []
    for position in range(len(seeded.participants)):
        offset = rng.uniform(0, 10)
        for round_ in range(int(duration // 10)):
            sends.append(_comment(ctx, offset + 10 * round_, bases, seeded, position, room=room_of[position]))
    sends.sort(key=lambda send: send.at)
    plan = _plan(ctx, clients, sends, duration + loadgen.DRAIN_SECONDS)
    raw = loadgen.run(plan)
    members = _row("S4 rooms", ctx, plan, raw, len(clients) - 1, audience_filter=lambda c: c.index != facilitator)
    overview = _row("S4 overview", ctx, plan, raw, 1, audience_filter=lambda c: c.index == facilitator)
    members.update({"rooms": rooms, "show": ["rooms", "messages"]})
    return {"rows": [members, overview]}


def run_s5(ctx) -> dict:
    """Phase changes, then (after a change to the small-group phase, not measured) round starts: for each, when
    the last participant had its frame and when the last one showed the panel that follows it."""
    servers = servers_for(ctx)
    changes, round_changes = (1, 1) if ctx.quick else (3, 2)
    seeded = seed(size(ctx, 1000), label="S5", phase_changes=changes, planned_rounds=round_changes)
    bases = servers.bases
    clients = [
        _client(index, bases[index % len(bases)], seeded, cookies, ("all",), panel=True)
        for index, cookies in enumerate(seeded.participants)
    ]
    base = servers.base
    headers = {**request_headers(base, seeded.facilitator, csrf=True), "Accept": "application/json"}

    def control(at: float, action: str, marker: str, fields: dict) -> loadgen.Send:
        url = f"{base}/w/{seeded.workshop_id}/control/{action}/"
        return loadgen.Send(at=at, marker=marker, url=url, headers=headers, fields=fields)

    phases = [
        control(1 + 8 * number, "goto", marker, {"phase": str(phase_id)})
        for number, (phase_id, marker) in enumerate(seeded.phase_titles)
    ]
    rounds_phase_id, rounds_marker = seeded.rounds_phase
    into_rounds = control(1 + 8 * changes, "goto", rounds_marker, {"phase": str(rounds_phase_id)})
    round_markers = {number: loadgen.new_marker() for number in range(1, round_changes + 1)}
    rounds = [
        control(into_rounds.at + 8 * number, "round-start", marker, {"round": str(number)})
        for number, marker in round_markers.items()
    ]
    sends = [*phases, into_rounds, *rounds]
    plan = _plan(ctx, clients, sends, rounds[-1].at + 8 + loadgen.DRAIN_SECONDS, round_markers=round_markers)
    raw = loadgen.run(plan)
    rows = []
    for name, measured in (("S5", phases), ("S5 rounds", rounds)):
        part = loadgen.Plan(**{**plan.__dict__, "sends": measured})
        rows.append({**_row(name, ctx, part, raw, len(clients)), **_last_of_each(measured, raw, len(clients))})
    return {"rows": rows}


def _last_of_each(sends: list[loadgen.Send], raw: dict, clients: int) -> dict:
    """For each change in ``sends``: when the last participant had its frame, and the panel after it."""
    sent = {record["marker"]: record["sent"] for record in raw["sends"]}
    lasts, panels, panel_times, panel_missing = [], [], [], 0
    for send in sends:
        receipts = [c["receipts"][send.marker][0] for c in raw["clients"] if send.marker in c["receipts"]]
        loaded = [
            done
            for c in raw["clients"]
            for marker, done, status in c["panels"]
            if marker == send.marker and status == 200
        ]
        panel_missing += clients - len(loaded)
        if send.marker in sent and receipts:
            lasts.append(max(receipts) - sent[send.marker])
        if send.marker in sent and loaded:
            panels.append(max(loaded) - sent[send.marker])
            panel_times += [done - sent[send.marker] for done in loaded]
    figures = {
        "changes": len(sends),
        "last_ms": ms(max(lasts) if lasts else None),
        "last_each_ms": [ms(value) for value in lasts],
        "last_panel_ms": ms(max(panels) if panels else None),
        "panel_p95_ms": ms(percentile(panel_times, 0.95)),
        "panels_missing": panel_missing,
        "show": ["last_ms", "last_panel_ms", "panels_missing"],
    }
    if panel_missing:
        figures["problems"] = [f"{panel_missing} panels not loaded"]
    return figures


def run_s6(ctx) -> dict:
    servers = servers_for(ctx)
    seeded = seed(size(ctx, 1000), label="S6")
    bases = servers.bases
    clients = [
        _client(index, bases[index % len(bases)], seeded, cookies, ("all",))
        for index, cookies in enumerate(seeded.participants)
    ]
    storm = (2.0, 3.5) if ctx.quick else (5.0, 8.5)  # drops; reconnects 0.5–1.5 s later: all within 5 s
    duration = seconds(ctx, 25, 12)
    rng = random.Random(6)
    writers = range(len(seeded.participants))
    sends = [_comment(ctx, float(second), bases, seeded, rng.choice(writers)) for second in range(int(duration) - 4)]
    plan = _plan(ctx, clients, sends, duration, storm=storm)
    raw = loadgen.run(plan)
    row = _row("S6", ctx, plan, raw, len(clients))
    storm_start = (raw["go"] or 0.0) + storm[0]
    back = [c["first_push_after_storm"] for c in raw["clients"] if c["first_push_after_storm"] is not None]
    dropped = sum(c["dropped_at"] is not None for c in raw["clients"])
    not_back = len(clients) - len(back)
    all_back = max(back) - storm_start if back and not not_back else None
    reopened = [c["opened"][-1] - c["dropped_at"] for c in raw["clients"] if c["dropped_at"] and len(c["opened"]) > 1]
    row.update(
        {
            "dropped": dropped,
            "not_back": not_back,
            "all_back_ms": ms(all_back),
            "reconnect_p95_ms": ms(percentile(reopened, 0.95)),
            "show": ["all_back_ms", "not_back", "via_catchup", "missing"],
        }
    )
    problems = []
    if not_back:
        problems.append(f"{not_back} clients never received a push after reconnecting")
    if all_back is not None and all_back > 15:
        problems.append("not all back within 15 s")
    if dropped != len(clients):
        problems.append(f"only {dropped} of {len(clients)} dropped")
    row["problems"] = problems
    return {"rows": [row]}


__all__ = ["close_servers", "run_s1", "run_s2", "run_s3", "run_s4", "run_s5", "run_s6", "run_x1"]
