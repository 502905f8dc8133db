"""The live WebSocket through the real ASGI stack (origin check, session auth) and the live fan-out
(facilitation.fanout): Redis pub/sub wherever REDIS_URL is set, as in CI; in process otherwise."""

from __future__ import annotations

import json
import os

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from facilitation import services
from facilitation.models import Phase
from tests.conftest import REQUIRE_SERVICES
from tests.facilitation.conftest import comment_as, make_guest, viewer_of
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "http://127.0.0.1:8000"

write_async = database_sync_to_async(comment_as)


@pytest.fixture(autouse=True)
async def _empty_layer():
    """A fresh, empty layer per test: each test has its own event loop, and the Redis layer's locks
    belong to the loop that made them."""
    channel_layers.backends.clear()
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield
    if hasattr(layer, "flush"):
        await layer.flush()
    channel_layers.backends.clear()


def _session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def open_socket(workshop_id: int, session: str | None = None, origin: str = ORIGIN):
    from config.asgi import application

    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")]
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/w/{workshop_id}/", headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    return communicator, connected


async def frames(communicator, timeout: float = 1.0) -> list[dict]:
    """Every frame that arrives until the line has been quiet for ``timeout`` seconds."""
    received = []
    while not await communicator.receive_nothing(timeout=timeout):
        received.append(await communicator.receive_json_from())
    return received


@pytest.fixture
def people(live_workshop, facilitator):
    """Two guests and a facilitator of the live workshop, each with a browser session."""
    aino, aino_client = make_guest(live_workshop, name="Aino Asukas")
    bertta, bertta_client = make_guest(live_workshop, name="Bertta Bussikuski")
    staff = Client()
    staff.force_login(facilitator)
    return {
        "aino": (aino, _session_cookie(aino_client)),
        "bertta": (bertta, _session_cookie(bertta_client)),
        "staff": _session_cookie(staff),
    }


def test_the_configured_layer_is_redis_where_services_are_required():
    layer = get_channel_layer()
    if REQUIRE_SERVICES or os.environ.get("REDIS_URL"):
        assert type(layer).__name__ == "RedisChannelLayer"


async def test_member_receives_a_comment_written_by_someone_else(live_workshop, people):
    _aino, aino_session = people["aino"]
    bertta, _ = people["bertta"]
    socket, connected = await open_socket(live_workshop.pk, aino_session)
    assert connected
    await write_async(live_workshop, bertta, "Bertan havainto")
    event = await socket.receive_json_from(timeout=3)
    assert event["kind"] == "comment.created" and event["id"] > 0
    assert "Bertan havainto" in event["data"]["html"] and "Bertta Bussikuski" in event["data"]["html"]
    assert "i18n" not in event["data"] and event["now"]
    await socket.disconnect()


async def test_strangers_and_foreign_origins_are_refused(live_workshop, people, outsider):
    _socket, connected = await open_socket(live_workshop.pk)
    assert not connected
    stranger = Client()
    await database_sync_to_async(stranger.force_login)(outsider)
    _socket, connected = await open_socket(live_workshop.pk, _session_cookie(stranger))
    assert not connected
    _aino, aino_session = people["aino"]
    _socket, connected = await open_socket(live_workshop.pk, aino_session, origin="https://evil.example")
    assert not connected
    other = await database_sync_to_async(WorkshopFactory)(status=Workshop.Status.LIVE)
    _socket, connected = await open_socket(other.pk, aino_session)
    assert not connected


async def test_events_of_another_workshop_never_arrive(live_workshop, people, facilitator):
    _aino, aino_session = people["aino"]
    socket, connected = await open_socket(live_workshop.pk, aino_session)
    assert connected

    @database_sync_to_async
    def other_workshop_comment():
        other = WorkshopFactory(organisation=live_workshop.organisation)
        other.cases.create(title="Toinen", position=1)
        services.live_start(workshop=other, by=facilitator)
        services.phase_go(workshop=other, offset=1)
        return other, ParticipantFactory(workshop=other)

    other, stranger = await other_workshop_comment()
    await write_async(other, stranger, "Toisen työpajan salaisuus")
    assert await frames(socket, 0.5) == []
    await socket.disconnect()


async def test_facilitator_sees_presence_counts_and_participants_do_not(live_workshop, people):
    staff_socket, connected = await open_socket(live_workshop.pk, people["staff"])
    assert connected
    assert (await staff_socket.receive_json_from(timeout=3))["kind"] == "stats"  # their own arrival
    _aino, aino_session = people["aino"]
    aino_socket, _ = await open_socket(live_workshop.pk, aino_session)
    stats = await staff_socket.receive_json_from(timeout=3)
    assert stats["kind"] == "stats" and stats["data"]["connected"] == 1 and stats["id"] is None
    await aino_socket.send_json_to({"type": "ping"})
    assert (await aino_socket.receive_json_from(timeout=3)) == {"kind": "pong"}
    await aino_socket.disconnect()
    left = await staff_socket.receive_json_from(timeout=3)
    assert left["data"]["connected"] == 0
    await staff_socket.disconnect()


async def test_anonymous_author_never_appears_in_any_frame(live_workshop, people):
    aino, aino_session = people["aino"]
    _bertta, bertta_session = people["bertta"]
    sockets = [
        (await open_socket(live_workshop.pk, session))[0] for session in (aino_session, bertta_session, people["staff"])
    ]
    comment = await write_async(live_workshop, aino, "Nimetön palaute", anonymous=True)
    for socket in sockets:
        received = await frames(socket, 0.7)
        created = [frame for frame in received if frame["kind"] == "comment.created"]
        assert created and "Nimetön palaute" in created[0]["data"]["html"]
        text = json.dumps(received, ensure_ascii=False)
        assert "Aino" not in text and aino.email not in text
        assert not any("author" in key for frame in received for key in frame["data"])
    # Only the author's own screens are told it is theirs.
    await socket_close_all(sockets)
    assert comment.pk


async def socket_close_all(sockets) -> None:
    for socket in sockets:
        await socket.disconnect()


async def test_private_reflections_reach_only_their_author_until_revealed(live_workshop, people):
    aino, aino_session = people["aino"]
    _bertta, bertta_session = people["bertta"]

    @database_sync_to_async
    def private_reflection():
        reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
        Phase.objects.filter(pk=reflection.pk).update(private_first=True)
        return reflection, reflection.prompts.first().pk

    reflection, prompt = await private_reflection()
    aino_socket, _ = await open_socket(live_workshop.pk, aino_session)
    bertta_socket, _ = await open_socket(live_workshop.pk, bertta_session)
    staff_socket, _ = await open_socket(live_workshop.pk, people["staff"])
    await write_async(live_workshop, aino, "Oma pohdinta", phase=reflection, prompt=prompt)
    own = await frames(aino_socket, 0.7)
    assert {frame["kind"] for frame in own} == {"comment.created", "comment.mine"}
    assert "Oma pohdinta" not in json.dumps(await frames(bertta_socket, 0.5), ensure_ascii=False)
    assert "Oma pohdinta" not in json.dumps(await frames(staff_socket, 0.5), ensure_ascii=False)
    await database_sync_to_async(services.phase_reveal)(phase=reflection)
    reload = await bertta_socket.receive_json_from(timeout=3)
    assert reload["kind"] == "thread.reload" and reload["data"] == {"phase": reflection.pk}
    await socket_close_all([aino_socket, bertta_socket, staff_socket])


async def test_hidden_comment_travels_as_an_id_only(live_workshop, people):
    aino, _ = people["aino"]
    _bertta, bertta_session = people["bertta"]
    comment = await write_async(live_workshop, aino, "Asiaton kommentti")
    socket, _ = await open_socket(live_workshop.pk, bertta_session)
    await database_sync_to_async(services.comment_hide)(
        viewer=viewer_of(live_workshop, staff=True), comment_id=comment.pk
    )
    event = await socket.receive_json_from(timeout=3)
    assert event["kind"] == "comment.hidden" and event["data"] == {"id": comment.pk}
    await socket.disconnect()


async def test_phase_timer_and_broadcast_reach_everyone(live_workshop, people):
    _aino, aino_session = people["aino"]
    socket, _ = await open_socket(live_workshop.pk, aino_session)
    await database_sync_to_async(services.phase_go)(workshop=live_workshop, offset=1)
    await database_sync_to_async(services.timer_start)(workshop=live_workshop, seconds=120)
    await database_sync_to_async(services.broadcast_send)(workshop=live_workshop, text="Tauko")
    kinds = [frame["kind"] for frame in await frames(socket, 0.7)]
    assert kinds == ["phase", "timer", "timer", "broadcast"]
    await socket.disconnect()


async def test_a_page_catches_up_on_its_socket_as_the_events_endpoint_answers(live_workshop, people, facilitator):
    """After a reconnect the page asks on the socket: the same events, status and (for staff) counts as
    the events endpoint gives, without an HTTP request; nonsense is ignored."""
    from facilitation import selectors

    aino, aino_session = people["aino"]
    bertta, _ = people["bertta"]
    await write_async(live_workshop, bertta, "Ennen paluuta")
    await write_async(live_workshop, bertta, "Toinen ennen paluuta")
    socket, connected = await open_socket(live_workshop.pk, aino_session)
    assert connected

    for nonsense in ("0", -1, True, None, 1.5):
        await socket.send_json_to({"type": "catchup", "after": nonsense})
    assert await socket.receive_nothing(timeout=0.3)

    await socket.send_json_to({"type": "catchup", "after": 0})
    answer = await socket.receive_json_from(timeout=3)
    expected = await database_sync_to_async(selectors.catch_up)(viewer_of(live_workshop, participant=aino), 0)
    assert answer["kind"] == "catchup" and answer["status"] == "live" and "stats" not in answer
    assert [e["id"] for e in answer["events"]] == [e["id"] for e in expected["events"]]
    texts = [e["data"].get("html", "") for e in answer["events"] if e["kind"] == "comment.created"]
    assert any("Ennen paluuta" in html for html in texts) and any("Toinen ennen paluuta" in html for html in texts)
    newest = answer["events"][-1]["id"]
    await socket.send_json_to({"type": "catchup", "after": newest})
    assert (await socket.receive_json_from(timeout=3))["events"] == []

    # the status is read afresh: a page learns that the workshop closed meanwhile
    await database_sync_to_async(Workshop.objects.filter(pk=live_workshop.pk).update)(status=Workshop.Status.CLOSED)
    await socket.send_json_to({"type": "catchup", "after": newest})
    assert (await socket.receive_json_from(timeout=3))["status"] == "closed"
    await socket.disconnect()


async def test_staff_catch_up_on_the_socket_with_the_counts(live_workshop, people):
    staff_socket, connected = await open_socket(live_workshop.pk, people["staff"])
    assert connected
    await frames(staff_socket, 0.5)  # their own arrival's counts
    await staff_socket.send_json_to({"type": "catchup", "after": 0})
    answer = next(frame for frame in await frames(staff_socket, 0.5) if frame["kind"] == "catchup")
    assert answer["stats"] == {"connected": 0, "writers": 0} and answer["events"]
    await staff_socket.disconnect()
