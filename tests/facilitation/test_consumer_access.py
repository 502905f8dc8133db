"""The live socket follows the guest session's way in: a revoked link (also after a new one is issued) or
erased data refuse the connect and close a socket that is already open; the new link connects."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from privacy import services as privacy
from tests.facilitation.conftest import make_guest
from tests.facilitation.test_consumers import _empty_layer, _session_cookie, open_socket  # noqa: F401
from workshops.services import participant_issue_token, participant_revoke_token

pytestmark = pytest.mark.django_db(transaction=True)
REFUSED = 4403


@database_sync_to_async
def guest(workshop, name):
    person, client = make_guest(workshop, name=name)
    return person, _session_cookie(client)


@database_sync_to_async
def join_with_new_link(person) -> str:
    client = Client()
    token = participant_issue_token(participant=person)
    assert client.get(reverse("workshops:join", kwargs={"token": token})).status_code == 302
    return _session_cookie(client)


async def test_revoke_and_reissue_refuse_the_old_session_and_let_the_new_link_in(live_workshop):
    person, old_session = await guest(live_workshop, "Lotta Linkki")
    socket, connected = await open_socket(live_workshop.pk, old_session)
    assert connected
    await socket.disconnect()

    await database_sync_to_async(participant_revoke_token)(participant=person)
    new_session = await join_with_new_link(person)
    socket, connected = await open_socket(live_workshop.pk, old_session)
    assert not connected
    socket, connected = await open_socket(live_workshop.pk, new_session)
    assert connected
    await socket.disconnect()


async def test_revoking_closes_the_socket_already_open(live_workshop):
    person, session = await guest(live_workshop, "Lotta Linkki")
    _bystander, bystander_session = await guest(live_workshop, "Bertta Bussikuski")
    socket, connected = await open_socket(live_workshop.pk, session)
    other, other_connected = await open_socket(live_workshop.pk, bystander_session)
    assert connected and other_connected
    await database_sync_to_async(participant_revoke_token)(participant=person)
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": REFUSED}
    assert await other.receive_nothing(timeout=0.5)  # the others stay connected, told nothing
    await other.send_json_to({"type": "ping"})
    assert (await other.receive_json_from(timeout=3))["kind"] == "pong"
    await other.disconnect()


async def test_an_erased_participant_is_refused_and_their_open_socket_closed(live_workshop, facilitator):
    person, session = await guest(live_workshop, "Kanarialintu Kaivosmies")
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    await database_sync_to_async(privacy.participant_erase_personal_data)(participant=person, by=facilitator)
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": REFUSED}
    _again, connected = await open_socket(live_workshop.pk, session)
    assert not connected
