"""Room events over the real socket: they reach exactly that room's members, its leader and the
facilitators; a participant of another room receives nothing from it."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from facilitation import services
from facilitation.models import Phase, Room, RoomMember
from tests.facilitation.conftest import guest_client, viewer_of
from tests.facilitation.test_consumers import _empty_layer, _session_cookie, frames, open_socket  # noqa: F401
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running_round(live_workshop, facilitator):
    now = timezone.now()
    for index in range(8):
        ParticipantFactory(workshop=live_workshop, name=f"Osallistuja {index}", first_joined_at=now)
    for index in range(3):
        ParticipantFactory(
            workshop=live_workshop, name=f"Vetäjä {index}", role=Participant.Role.GROUP_LEADER, first_joined_at=now
        )
    services.rotation_update(workshop=live_workshop, data={"min_size": 2, "max_size": 3})
    services.rounds_plan(workshop=live_workshop)
    services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS))
    services.round_start(workshop=live_workshop, number=1)
    room = Room.objects.filter(round__number=1).order_by("index").first()
    members = [m.participant for m in RoomMember.objects.filter(room=room).select_related("participant")]
    stranger = RoomMember.objects.filter(round__number=1).exclude(room=room).first().participant
    staff = Client()
    staff.force_login(facilitator)
    return {
        "room": room,
        "member": members[0],
        "writer": members[1],
        "leader": room.leader,
        "stranger": stranger,
        "staff": _session_cookie(staff),
    }


def session_of(participant) -> str:
    return _session_cookie(guest_client(participant))


async def test_room_notes_reach_the_room_the_leader_and_facilitators_only(live_workshop, running_round):
    room = running_round["room"]
    sessions = {
        name: await database_sync_to_async(session_of)(running_round[name]) for name in ("member", "leader", "stranger")
    }
    sockets = {name: (await open_socket(live_workshop.pk, session))[0] for name, session in sessions.items()}
    sockets["staff"] = (await open_socket(live_workshop.pk, running_round["staff"]))[0]
    for socket in sockets.values():
        await frames(socket, 0.3)  # arrivals and presence counts

    @database_sync_to_async
    def write():
        writer = running_round["writer"]
        services.comment_create(
            viewer=viewer_of(live_workshop, participant=writer),
            phase_id=live_workshop.phases.get(kind=Phase.Kind.ROUNDS).pk,
            prompt_id=None,
            parent_id=None,
            text="Vain tälle huoneelle",
            anonymous=False,
            client_id=uuid.uuid4(),
            language="fi",
            room_id=room.pk,
        )
        services.room_summary_save(
            viewer=viewer_of(live_workshop, participant=room.leader), room_id=room.pk, text="Huoneen yhteenveto"
        )

    await write()
    for name in ("member", "leader", "staff"):
        received = json.dumps(await frames(sockets[name], 0.7), ensure_ascii=False)
        assert "Vain tälle huoneelle" in received and "Huoneen yhteenveto" in received, name
    elsewhere = json.dumps(await frames(sockets["stranger"], 0.5), ensure_ascii=False)
    assert "Vain tälle huoneelle" not in elsewhere and "Huoneen yhteenveto" not in elsewhere
    for socket in sockets.values():
        await socket.disconnect()


async def test_a_moved_person_follows_their_new_room_at_once(live_workshop, running_round):
    room = running_round["room"]
    stranger = running_round["stranger"]
    socket, connected = await open_socket(live_workshop.pk, await database_sync_to_async(session_of)(stranger))
    assert connected
    await database_sync_to_async(services.member_move)(
        workshop=live_workshop, participant=stranger, number=1, room_index=room.index
    )
    moved = await frames(socket, 0.7)
    assert "rooms.changed" in [frame["kind"] for frame in moved]
    await database_sync_to_async(services.room_summary_save)(
        viewer=viewer_of(live_workshop, participant=room.leader), room_id=room.pk, text="Nyt myös siirretylle"
    )
    assert "Nyt myös siirretylle" in json.dumps(await frames(socket, 0.7), ensure_ascii=False)
    await socket.disconnect()
