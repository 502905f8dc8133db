"""The anonymity canary over WebSocket frames: everything the canary does anonymously (comment, edit, reply,
reaction, delete, idea, its own connection) reaches the others' and the facilitators' sockets without a trace
of who did it."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from facilitation import services
from facilitation.models import Phase
from tests.facilitation.conftest import comment_as, guest_client, make_guest, viewer_of
from tests.facilitation.test_anonymity import CANARY_ID, leaks
from tests.facilitation.test_consumers import _empty_layer, _session_cookie, frames, open_socket  # noqa: F401
from tests.workshops.factories import ParticipantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def setting_the_scene(workshop, facilitator):
    canary = ParticipantFactory(
        pk=CANARY_ID, workshop=workshop, name="Kanarialintu Kaivosmies", email="kanarialintu@example.fi"
    )
    _other, other_client = make_guest(workshop, name="Toinen Osallistuja")
    staff = Client()
    staff.force_login(facilitator)
    ideas = Phase.objects.create(workshop=workshop, position=90, kind=Phase.Kind.IDEAS, title="Ideat")
    return (
        canary,
        {
            "canary": _session_cookie(guest_client(canary)),
            "other": _session_cookie(other_client),
            "staff": _session_cookie(staff),
        },
        ideas,
    )


@database_sync_to_async
def canary_acts(workshop, canary, ideas):
    viewer = viewer_of(workshop, participant=canary)

    def comment(text, parent=None):
        return comment_as(workshop, canary, text, anonymous=True, parent=parent)

    first = comment("Salainen havainto")
    comment("Salainen vastaus", parent=first.pk)
    services.comment_update(viewer=viewer, comment_id=first.pk, text="Salainen havainto, korjattu")
    services.reaction_toggle(viewer=viewer, comment_id=first.pk, kind="agree")
    services.comment_delete(viewer=viewer, comment_id=comment("Salainen poistettava").pk)
    services.phase_go(workshop=workshop, phase=ideas)
    services.idea_create(
        viewer=viewer,
        phase_id=ideas.pk,
        text="Salainen idea",
        anonymous=True,
        can_run=True,
        client_id=uuid.uuid4(),
        language="fi",
    )


async def test_no_frame_to_anyone_else_shows_who_did_it(live_workshop, facilitator):
    canary, sessions, ideas = await setting_the_scene(live_workshop, facilitator)
    watchers = {who: (await open_socket(live_workshop.pk, sessions[who]))[0] for who in ("other", "staff")}
    own, connected = await open_socket(live_workshop.pk, sessions["canary"])
    assert connected
    await canary_acts(live_workshop, canary, ideas)
    for who, socket in watchers.items():
        received = json.dumps(await frames(socket, 1.0), ensure_ascii=False)
        assert "Salainen havainto, korjattu" in received and "Salainen idea" in received, who
        assert leaks(received) == [], f"the canary shows in the frames {who} received"
        await socket.disconnect()
    await own.disconnect()
