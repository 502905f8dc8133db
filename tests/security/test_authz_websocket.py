"""The live WebSocket (ws/w/<workshop_id>/) as a matrix: every role x workshop A/B x the consumer's actions
(connect, ``ping``), the Origin check, and 1,000 randomized attempts to listen to another workshop's or
another room's events while people post there: not one foreign frame arrives.

Everything goes through the real ASGI application (config.asgi: origin check, session auth, URL router)
and the real fan-out (Redis pub/sub where REDIS_URL is set, as in CI).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from urllib.parse import unquote

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from facilitation.models import LiveState, Phase, Room, RoomMember
from tests.facilitation.test_consumers import _empty_layer  # noqa: F401  (a fresh layer per test)
from tests.security.matrix import session_cookie
from tests.security.world import MISSING, ROLES, build_world
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant
from workshops.services import participant_issue_token

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "127.0.0.1:8000"
ORIGIN = f"http://{HOST}"
PONG = {"kind": "pong"}

# Every role x workshop: may the socket connect (and then answer a ping with a pong)?
#                 anonymous guest  leader presenter contact_a contact_b facilitator admin
SOCKET_MATRIX = {
    "A": dict(zip(ROLES, ["refused", "open", "open", "open", "open", "refused", "open", "open"], strict=True)),
    "B": dict(zip(ROLES, ["refused", "refused", "refused", "refused", "refused", "open", "open", "open"], strict=True)),
}


async def connect(path: str, session: str | None = None, origin: str | None = ORIGIN, host: str = HOST):
    """A socket through the real ASGI stack: (communicator, accepted, close code)."""
    from config.asgi import application

    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    accepted, code = await communicator.connect(timeout=10)
    return communicator, accepted, code


async def frames(communicator, timeout: float = 0.5) -> list[dict]:
    """Every frame that arrives until the line has been quiet for ``timeout`` seconds."""
    received = []
    while not await communicator.receive_nothing(timeout=timeout):
        received.append(await communicator.receive_json_from())
    return received


@pytest.fixture
def world():
    return build_world()


def sessions_of(world) -> dict[str, str | None]:
    return {role: session_cookie(world.clients[role]) for role in ROLES}


async def test_every_role_on_both_workshops_connects_and_pings_exactly_as_the_matrix_says(world):
    sessions = await database_sync_to_async(sessions_of)(world)
    seen = {}
    for side in ("A", "B"):
        workshop_id = world.side(side).workshop.pk
        for role in ROLES:
            communicator, accepted, code = await connect(f"/ws/w/{workshop_id}/", sessions[role])
            if accepted:
                await frames(communicator, 0.2)  # presence counts of one's own arrival
                await communicator.send_json_to({"type": "ping"})
                reply = [frame for frame in await frames(communicator, 0.3) if frame.get("kind") == "pong"]
                assert reply == [PONG], (side, role)
                await communicator.disconnect()
                seen[side, role] = "open"
            else:
                # Refused by the consumer's permission check, exactly like a workshop that does not exist.
                _missing, missing_accepted, missing_code = await connect(f"/ws/w/{MISSING}/", sessions[role])
                assert not missing_accepted and code == missing_code == 4403, (side, role, code)
                seen[side, role] = "refused"
    expected = {(side, role): SOCKET_MATRIX[side][role] for side in ("A", "B") for role in ROLES}
    assert seen == expected


async def test_foreign_and_missing_origins_are_refused(world, settings):
    session = (await database_sync_to_async(sessions_of)(world))["guest"]
    path = f"/ws/w/{world.a.workshop.pk}/"
    assert (await connect(path, session))[1]  # the same socket from the page's own origin opens
    for origin in (None, "https://evil.example", "null", "http://127.0.0.1.evil.example", "file://", ""):
        _communicator, accepted, _code = await connect(path, session, origin=origin)
        assert not accepted, origin
    # A wildcard ALLOWED_HOSTS (a misconfigured deployment) still never lets a socket without an Origin in,
    # nor one whose Origin is not the host it connects to.
    settings.ALLOWED_HOSTS = ["*"]
    assert (await connect(path, session))[1]
    for origin in (None, "https://evil.example", "null"):
        _communicator, accepted, _code = await connect(path, session, origin=origin)
        assert not accepted, origin


# --- 1,000 randomized attempts ------------------------------------------------------------------------
def _rooms_world(world) -> dict:
    """Workshop A on its small-group rounds: room X (the attacker's, a guest of A) and room Y (someone
    else's, with its own leader who writes notes and a member who comments); B runs its discussion."""
    a, b = world.a, world.b
    rounds_phase = a.workshop.phases.get(kind=Phase.Kind.ROUNDS)
    LiveState.objects.filter(pk=a.workshop.pk).update(current_phase=rounds_phase)
    room_y = Room.objects.get(round__workshop=a.workshop, index=1)
    y_leader = ParticipantFactory(workshop=a.workshop, name="Y-vetäjä", role=Participant.Role.GROUP_LEADER)
    y_member = ParticipantFactory(workshop=a.workshop, name="Y-jäsen")
    Room.objects.filter(pk=room_y.pk).update(leader=y_leader)
    RoomMember.objects.create(round=room_y.round, room=room_y, participant=y_member)

    def guest(participant) -> Client:
        client = Client()
        client.get(reverse("workshops:join", kwargs={"token": participant_issue_token(participant=participant)}))
        return client

    forged = Client()
    forged.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32  # a session key nobody was given
    return {
        "room_x": a.room.pk,
        "room_y": room_y.pk,
        "rounds_phase": rounds_phase.pk,
        "y_leader": guest(y_leader),
        "y_member": guest(y_member),
        "b_guest": guest(world.b.guest),
        "attackers": {
            "guest_a": session_cookie(world.clients["guest"]),
            "leader_a": session_cookie(world.clients["leader"]),
            "contact_a": session_cookie(world.clients["contact_a"]),
            "anonymous": None,
            "forged": "x" * 32,
        },
        "b_phase": b.phase.pk,
        "b_prompt": b.prompt_id,
    }


def _post_everywhere(world, rooms: dict, round_number: int) -> list[str]:
    """Real HTTP posts: a comment in B, a comment in room Y, room Y's notes. Returns the marker texts."""
    marks = [f"B-salaisuus-{round_number}", f"Y-kommentti-{round_number}", f"Y-muistio-{round_number}"]
    b_id, a_id = world.b.workshop.pk, world.a.workshop.pk
    posts = [
        (
            rooms["b_guest"],
            reverse("facilitation:comment_new", args=[b_id]),
            {"phase": rooms["b_phase"], "prompt": rooms["b_prompt"]},
            marks[0],
        ),
        (
            rooms["y_member"],
            reverse("facilitation:comment_new", args=[a_id]),
            {"phase": rooms["rounds_phase"], "room": rooms["room_y"]},
            marks[1],
        ),
        (rooms["y_leader"], reverse("facilitation:room_summary", args=[a_id, rooms["room_y"]]), {}, marks[2]),
    ]
    for client, url, data, text in posts:
        response = client.post(
            url,
            {**data, "text": text, "client_id": str(uuid.uuid4())},
            HTTP_ACCEPT="application/json",
            HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        )
        assert response.status_code in (200, 201), (url, response.status_code, response.content[:300])
    return marks


def _attempts(world, rooms: dict, count: int, seed: int) -> list[tuple[str, str]]:
    """(path, attacker) for ``count`` attempts: other workshops' ids, ids that exist nowhere, tampered paths,
    and the attacker's own workshop with someone else's room or workshop asked for on the side."""
    rng = random.Random(seed)
    a_id, b_id = world.a.workshop.pk, world.b.workshop.pk
    room_y, room_b = rooms["room_y"], world.b.room.pk
    found = []
    for _ in range(count):
        attacker = rng.choice(list(rooms["attackers"]))
        home = rooms["homes"].get(attacker) or a_id
        other = b_id if home == a_id else a_id
        kind = rng.random()
        if kind < 0.45:  # another workshop's id, or one that does not exist
            target = rng.choice([other, MISSING, 0, other + 1000, a_id + b_id + 7, rng.randint(1, 2**31 - 1)])
            path = f"/ws/w/{target}/"
        elif kind < 0.75:  # tampered paths
            path = rng.choice(
                [
                    f"/ws/w/{other}/?room={room_b}",
                    f"/ws/w/{home}/../{other}/",
                    f"/ws/w/{home}/{other}/",
                    f"/ws/w/{other}/rooms/{room_b}/",
                    f"/ws/w/{home}/rooms/{room_y}/",
                    f"/ws/w/-{other}/",
                    f"/ws/w/{other}.0/",
                    f"/ws/w/%3{other}/",
                    f"/ws/w/{other}",
                    f"/ws/w//{other}/",
                    f"/ws/r/{room_y}/",
                    f"/ws/w/{home}%2F..%2F{other}/",
                    f"/ws/w/0x{other:x}/",
                    f"/ws/w/{other} /",
                    f"/ws/w/{'9' * 40}/",
                ]
            )
        else:  # one's own workshop, asking for someone else's room or workshop on the side
            path = rng.choice(
                [
                    f"/ws/w/{home}/?room={room_y}",
                    f"/ws/w/{home}/?workshop={other}",
                    f"/ws/w/{home}/?room={room_b}&workshop_id={other}",
                    f"/ws/w/{home}/?groups=w{other}&groups=w{a_id}.r{room_y}",
                ]
            )
        found.append((path, attacker))
    return found


def _route_target(path: str) -> int | None:
    """The workshop id a path names for the live socket's route (``ws/w/<int:workshop_id>/``), if any."""
    match = re.fullmatch(r"/ws/w/([0-9]+)/", unquote(path.split("?", 1)[0]))
    return int(match.group(1)) if match else None


async def _listen_elsewhere(world, count: int) -> None:
    rooms = await database_sync_to_async(_rooms_world)(world)
    rooms["attackers"]["b_guest"] = await database_sync_to_async(session_cookie)(rooms["b_guest"])
    a_id, b_id = world.a.workshop.pk, world.b.workshop.pk
    rooms["homes"] = {"guest_a": a_id, "leader_a": a_id, "contact_a": a_id, "b_guest": b_id}

    # Listeners who belong there: they must receive every post (so the test can see a leak at all).
    y_member_socket, ok, _ = await connect(f"/ws/w/{a_id}/", session_cookie(rooms["y_member"]))
    assert ok
    b_guest_socket, ok, _ = await connect(f"/ws/w/{b_id}/", session_cookie(rooms["b_guest"]))
    assert ok

    attempts = _attempts(world, rooms, count, seed=9)
    assert len(attempts) == count
    let_in = []  # (socket, attacker) let (rightly) into the attacker's own workshop
    marks: list[str] = []
    refused = 0
    for number, (path, attacker) in enumerate(attempts):
        if number % (count // 10) == 0:  # another client posts there while the attempts go on
            marks += await database_sync_to_async(_post_everywhere)(world, rooms, number)
        communicator, accepted, _code = await connect(path, rooms["attackers"][attacker])
        # In only where the path names exactly the attacker's own workshop; every other attempt is refused.
        home = rooms["homes"].get(attacker)
        assert accepted == (home is not None and _route_target(path) == home), (path, attacker, accepted)
        if not accepted:
            refused += 1
        elif len(let_in) < 40:
            let_in.append((communicator, attacker))
        else:
            await communicator.disconnect()
    marks += await database_sync_to_async(_post_everywhere)(world, rooms, count)
    assert refused > count * 0.7 and let_in

    # B's comments are foreign to everyone in A; room Y's comments and notes to everyone but Y's people.
    leaked = []
    for communicator, attacker in let_in:
        text = json.dumps(await frames(communicator, 0.3), ensure_ascii=False)
        foreign = [mark for mark in marks if mark.startswith("Y-") or rooms["homes"][attacker] == a_id]
        leaked += [(attacker, mark) for mark in foreign if mark in text]
        await communicator.disconnect()
    assert leaked == []

    # The rightful listeners got the posts: the same frames would have been seen had they leaked.
    y_text = json.dumps(await frames(y_member_socket, 0.5), ensure_ascii=False)
    b_text = json.dumps(await frames(b_guest_socket, 0.5), ensure_ascii=False)
    y_marks = [mark for mark in marks if mark.startswith("Y-")]
    b_marks = [mark for mark in marks if mark.startswith("B-")]
    assert all(mark in y_text for mark in y_marks) and not any(mark in y_text for mark in b_marks)
    assert all(mark in b_text for mark in b_marks) and not any(mark in b_text for mark in y_marks)
    await y_member_socket.disconnect()
    await b_guest_socket.disconnect()

    # Catching up over HTTP after a reconnect does not hand out room Y's notes or B's comments either.
    @database_sync_to_async
    def caught_up():
        body = world.clients["guest"].get(reverse("facilitation:events", args=[world.a.workshop.pk]) + "?after=0")
        return body.content.decode()

    text = await caught_up()
    assert not [mark for mark in marks if mark in text]


@pytest.mark.faults
async def test_a_thousand_attempts_to_listen_elsewhere_receive_no_foreign_frame(world):
    """1,000 randomized attempts while others post there: 0 foreign frames (make test-faults: about a minute)."""
    await _listen_elsewhere(world, 1000)


async def test_attempts_to_listen_elsewhere_receive_no_foreign_frame(world):
    """The same attacks, 60 of them, in the normal suite."""
    await _listen_elsewhere(world, 60)
