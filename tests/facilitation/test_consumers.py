"""The live WebSocket through the real ASGI stack (origin check, session auth) and the live fan-out
(facilitation.fanout): Redis pub/sub wherever REDIS_URL is set, as in CI; in process otherwise."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from facilitation import consumers, services
from facilitation.models import Comment, Duel, Idea, LiveState, Phase
from tests.conftest import REQUIRE_SERVICES
from tests.facilitation.conftest import comment_as, make_guest, prioritisation, viewer_of
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
    await socket.send_json_to({"type": "catchup", "after": newest, "ask": 3})  # as live.js asks
    assert (await socket.receive_json_from(timeout=3))["ask"] == 3
    for nonsense in (False, 0.0, 2**63):
        await socket.send_json_to({"type": "catchup", "after": nonsense})
    assert await socket.receive_nothing(timeout=0.3)

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


# --- votes on the socket ------------------------------------------------------------------------------------
@database_sync_to_async
def current_phase(workshop) -> Phase:
    return LiveState.objects.select_related("current_phase").get(pk=workshop.pk).current_phase


async def answer_of(socket, kind: str, timeout: float = 5.0) -> dict:
    """The next answer of ``kind`` ("comment", "vote"), past any pushes that arrive first."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["kind"] == kind:
            return frame


def stored_thread(phase: Phase) -> str:
    return f"p{phase.pk}-q0"  # a phase's own thread: no prompt, no room


def composed(phase: Phase, text: str, **fields) -> dict:
    """A comment as live.js sends it over the socket: the composer's form fields, all strings."""
    return {
        "type": "comment",
        "phase": str(phase.pk),
        "prompt": "",
        "thread": stored_thread(phase),
        "text": text,
        "client_id": str(uuid.uuid4()),
        **fields,
    }


async def test_a_comment_on_the_socket_is_stored_once_pushed_and_answered(live_workshop, people):
    aino, aino_session = people["aino"]
    _bertta, bertta_session = people["bertta"]
    phase = await current_phase(live_workshop)
    mine, connected = await open_socket(live_workshop.pk, aino_session)
    theirs, _ = await open_socket(live_workshop.pk, bertta_session)
    assert connected
    question = composed(phase, "Aamupalaveri säästää aikaa", ask=3)
    await mine.send_json_to(question)
    answer = await answer_of(mine, "comment")
    assert (answer["ask"], answer["status"], answer["thread"], answer["parent"]) == (3, 201, stored_thread(phase), None)
    stored = await database_sync_to_async(Comment.objects.get)(client_id=question["client_id"])
    assert answer["id"] == stored.pk and (stored.author_participant_id, stored.text) == (aino.pk, question["text"])
    assert stored.language == "fi" and not stored.anonymous
    assert "Aamupalaveri säästää aikaa" in answer["html"] and f'id="comment-{stored.pk}-meta"' in answer["html"]
    pushed = [frame for frame in await frames(theirs, 0.5) if frame["kind"] == "comment.created"]
    # The author's answer is what everyone else was pushed: the comment's data and its text and meta.
    body = {name: value for name, value in answer.items() if name not in ("kind", "ask", "status")}
    assert [frame["id"] > 0 and frame["data"] for frame in pushed] == [body]
    assert body["counts"] == {"agree": 0, "good_point": 0} and body["text"] == question["text"]

    # The page asks again (the answer came too late) with the same client id: the stored one, no copy.
    await mine.send_json_to({**question, "ask": 4})
    again = await answer_of(mine, "comment")
    assert (again["ask"], again["status"], again["id"]) == (4, 200, stored.pk)
    assert "Aamupalaveri säästää aikaa" in again["html"]
    assert await database_sync_to_async(Comment.objects.count)() == 1
    assert [frame for frame in await frames(theirs, 0.5) if frame["kind"] == "comment.created"] == []

    # A reply, and an anonymous one: the answer never names its author either.
    reply = composed(phase, "Samaa mieltä", ask=5, parent=str(stored.pk), anonymous="on")
    await mine.send_json_to(reply)
    answered = await answer_of(mine, "comment")
    assert (answered["status"], answered["parent"]) == (201, stored.pk)
    assert "Aino" not in answered["html"]
    assert (await database_sync_to_async(Comment.objects.get)(pk=answered["id"])).anonymous
    await socket_close_all([mine, theirs])


async def test_a_refused_comment_on_the_socket_says_why_in_the_writers_language(live_workshop, people):
    _aino, session = people["aino"]
    phase = await current_phase(live_workshop)
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected

    async def ask(number, text="Havainto", **changes):
        await socket.send_json_to({**composed(phase, text), "ask": number, **changes})
        return await answer_of(socket, "comment")

    await socket.send_json_to(composed(phase, "Ei numeroa"))  # no number to answer to: nothing is done
    await socket.send_json_to({**composed(phase, "Outo numero"), "ask": "1"})
    assert await socket.receive_nothing(timeout=0.3)
    with translation.override("fi"):
        empty = _("Write something first.")
        reload = _("This comment could not be saved. Please reload the page.")
        no_comments = _("This part of the workshop does not collect comments.")
        gone = _("The comment you are replying to is no longer there.")
        not_running = _("The workshop is not running right now.")
    assert await ask(1, text="   ") == {"kind": "comment", "ask": 1, "status": 400, "error": empty}
    assert await ask(2, text=["not", "text"]) == {"kind": "comment", "ask": 2, "status": 400, "error": empty}
    assert (await ask(3, client_id="not-an-id"))["error"] == reload
    assert (await ask(4, client_id=17))["status"] == 201, "a number is no client id: the server makes one"
    assert (await ask(5, phase="x"))["error"] == no_comments
    assert (await ask(6, phase=str(phase.pk + 1000)))["error"] == no_comments
    assert (await ask(7, parent="999999"))["error"] == gone
    assert (await ask(8, anonymous=["on"], prompt={"x": 1}))["status"] == 201, "nonsense fields are left out"
    assert await database_sync_to_async(Comment.objects.count)() == 2

    # The socket was opened while the workshop ran; its status is read again for each comment.
    await database_sync_to_async(Workshop.objects.filter(pk=live_workshop.pk).update)(status=Workshop.Status.CLOSED)
    assert await ask(9) == {"kind": "comment", "ask": 9, "status": 400, "error": not_running}
    assert await database_sync_to_async(Comment.objects.count)() == 2
    await socket.disconnect()


async def test_a_socket_opened_before_the_start_writes_once_the_workshop_runs(workshop, facilitator):
    """A participant waits on the page for the start; the socket's viewer was read then, not the status."""
    aino, client = await database_sync_to_async(make_guest)(workshop, name="Aino Asukas")
    socket, connected = await open_socket(workshop.pk, _session_cookie(client))
    assert connected and workshop.status != Workshop.Status.LIVE

    @database_sync_to_async
    def start() -> None:
        services.live_start(workshop=workshop, by=facilitator)
        services.phase_go(workshop=workshop, offset=1)

    await start()
    await socket.send_json_to(composed(await current_phase(workshop), "Nyt alkoi", ask=1))
    answer = await answer_of(socket, "comment")
    assert answer["status"] == 201, answer
    stored = await database_sync_to_async(Comment.objects.get)(pk=answer["id"])
    assert (stored.author_participant_id, stored.text) == (aino.pk, "Nyt alkoi")
    await socket.disconnect()


async def test_comments_on_the_socket_count_against_the_same_rate_limits(live_workshop, people, settings):
    settings.KEHITTAMO_RATE_LIMITS = {"post": {"guest": (1, 60)}}
    _aino, session = people["aino"]
    phase = await current_phase(live_workshop)
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    await socket.send_json_to(composed(phase, "Ensimmäinen", ask=1))
    assert (await answer_of(socket, "comment"))["status"] == 201
    await socket.send_json_to(composed(phase, "Toinen", ask=2))
    refused = await answer_of(socket, "comment")
    assert (refused["status"], refused["retry_after"]) == (429, 60)
    assert refused["error"].startswith("Lyhyessä ajassa"), "in Finnish"
    assert await database_sync_to_async(Comment.objects.filter(text="Toinen").exists)() is False
    await socket.disconnect()


async def test_a_comment_that_fails_on_the_server_is_answered_500_and_the_socket_stays_open(
    live_workshop, people, monkeypatch
):
    """The page keeps the comment in its outbox and posts it over HTTP."""
    _aino, session = people["aino"]
    phase = await current_phase(live_workshop)

    def broken(**arguments):
        raise OperationalError("the database went away")

    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    monkeypatch.setattr(services, "comment_create", broken)
    await socket.send_json_to(composed(phase, "Kaatuu", ask=1))
    assert await answer_of(socket, "comment") == {"kind": "comment", "ask": 1, "status": 500}
    await socket.send_json_to({"type": "ping"})
    assert (await answer_of(socket, "pong", timeout=3)) == {"kind": "pong"}
    await socket.disconnect()


@pytest.fixture
def duels(live_workshop, django_capture_on_commit_callbacks):
    """A pairwise vote on four ideas, as the workshop's current phase."""
    vote = prioritisation(live_workshop, [f"Idea {number}" for number in range(1, 5)], voting=Phase.Voting.PAIRWISE)
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=vote)
    live_workshop.refresh_from_db()
    return vote


@database_sync_to_async
def pair_for(workshop, person, phase):
    return services.duel_next(viewer=viewer_of(workshop, participant=person), phase_id=phase.pk).duel


async def answer_to(socket, timeout: float = 5.0) -> dict:
    """The next answer to a vote, past any pushes that arrive first."""
    return await answer_of(socket, "vote", timeout)


async def test_a_vote_on_the_socket_counts_once_and_answers_with_the_next_pair(live_workshop, people, duels):
    aino, session = people["aino"]
    first = await pair_for(live_workshop, aino, duels)
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    question = {"type": "vote", "ask": 7, "phase": duels.pk, "duel": first.pk, "choice": "left"}
    await socket.send_json_to(question)
    answer = await answer_to(socket)
    assert (answer["ask"], answer["status"], answer["counted"], answer["answered"]) == (7, 200, True, first.pk)
    assert answer["duel"]["id"] != first.pk and answer["duel"]["left"]["text"].startswith("Idea ")
    assert answer["compared_text"] == "Olet verrannut 1 parin.", "in the voter's language"
    stored = await database_sync_to_async(Duel.objects.get)(pk=first.pk)
    assert (stored.choice, stored.voter_participant_id) == ("left", aino.pk)
    assert (await database_sync_to_async(Idea.objects.get)(pk=first.left_id)).wins == 1

    # The same pair again (the page posting it once more after a late answer): nothing counts twice.
    await socket.send_json_to({**question, "ask": 8, "choice": "right"})
    again = await answer_to(socket)
    assert (again["ask"], again["status"], again["counted"]) == (8, 200, False)
    assert again["duel"]["id"] == answer["duel"]["id"]
    assert (await database_sync_to_async(Duel.objects.get)(pk=first.pk)).choice == "left"
    assert await database_sync_to_async(Duel.objects.filter(answered_at__isnull=False).count)() == 1
    await socket.disconnect()


async def test_a_refused_vote_on_the_socket_says_why_in_the_voters_language(live_workshop, people, duels):
    aino, session = people["aino"]
    bertta, _bertta_session = people["bertta"]
    mine, theirs = await pair_for(live_workshop, aino, duels), await pair_for(live_workshop, bertta, duels)
    elsewhere = await database_sync_to_async(Phase.objects.create)(
        workshop=await database_sync_to_async(WorkshopFactory)(status=Workshop.Status.LIVE),
        position=1,
        kind=Phase.Kind.PRIORITISATION,
        title="Muualla",
    )
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    vote = {"type": "vote", "phase": duels.pk, "duel": mine.pk, "choice": "left"}

    async def ask(number, **changes):
        await socket.send_json_to({**vote, "ask": number, **changes})
        return await answer_to(socket)

    await socket.send_json_to(vote)  # no number to answer to: nothing is done
    for nonsense in (-1, "1", 1.5, True, 2**60):
        await socket.send_json_to({**vote, "ask": nonsense})
    assert await socket.receive_nothing(timeout=0.3)
    assert await ask(1, phase="x") == {"kind": "vote", "ask": 1, "status": 400}
    assert await ask(2, duel=None) == {"kind": "vote", "ask": 2, "status": 400}
    with translation.override("fi"):
        choose = _("Choose one of the two ideas, or “Can’t decide”.")
        not_yours = _("This pair is not waiting for your answer. Please reload the page.")
        no_voting = _("There is no voting in this part of the workshop.")
        not_running = _("The workshop is not running right now.")
    assert await ask(3, choice="maybe") == {"kind": "vote", "ask": 3, "status": 400, "error": choose}
    assert await ask(4, duel=theirs.pk) == {"kind": "vote", "ask": 4, "status": 400, "error": not_yours}
    # Another workshop's phase answers exactly as a phase that does not exist.
    foreign, missing = await ask(5, phase=elsewhere.pk), await ask(6, phase=elsewhere.pk + 1000)
    assert foreign == {"kind": "vote", "ask": 5, "status": 404, "error": no_voting}
    assert missing == {**foreign, "ask": 6}
    assert await database_sync_to_async(Duel.objects.filter(answered_at__isnull=False).count)() == 0

    # The socket was opened while the workshop ran; its status is read again for each vote.
    await database_sync_to_async(Workshop.objects.filter(pk=live_workshop.pk).update)(status=Workshop.Status.CLOSED)
    assert await ask(7) == {"kind": "vote", "ask": 7, "status": 400, "error": not_running}
    assert await database_sync_to_async(Duel.objects.filter(answered_at__isnull=False).count)() == 0
    await socket.disconnect()


async def test_votes_on_the_socket_count_against_the_same_rate_limits(live_workshop, people, duels, settings):
    settings.KEHITTAMO_RATE_LIMITS = {"vote": {"guest": (1, 60)}}
    aino, session = people["aino"]
    first = await pair_for(live_workshop, aino, duels)
    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    vote = {"type": "vote", "phase": duels.pk, "duel": first.pk, "choice": "left"}
    await socket.send_json_to({**vote, "ask": 1})
    assert (await answer_to(socket))["status"] == 200
    await socket.send_json_to({**vote, "ask": 2})
    refused = await answer_to(socket)
    assert (refused["status"], refused["retry_after"]) == (429, 60)
    assert refused["error"].startswith("Lyhyessä ajassa"), "in Finnish"
    await socket.disconnect()


async def test_a_vote_that_fails_on_the_server_is_answered_500_and_the_socket_stays_open(
    live_workshop, people, duels, monkeypatch
):
    """The page then posts the vote over HTTP; the socket keeps serving the page."""
    aino, session = people["aino"]
    first = await pair_for(live_workshop, aino, duels)

    def broken(**arguments):
        raise OperationalError("the database went away")

    socket, connected = await open_socket(live_workshop.pk, session)
    assert connected
    monkeypatch.setattr(services, "duel_answers", broken)
    await socket.send_json_to({"type": "vote", "ask": 1, "phase": duels.pk, "duel": first.pk, "choice": "left"})
    assert await answer_to(socket) == {"kind": "vote", "ask": 1, "status": 500}
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=3))["kind"] == "pong"
    await socket.disconnect()


def test_a_vote_that_waited_past_the_pages_patience_is_not_stored():
    """By then the page has posted the vote over HTTP; storing it here too would be work for nothing."""
    late = time.monotonic() - consumers.VOTE_DEADLINE_SECONDS - 1
    assert consumers._answers([consumers._Asked(None, "127.0.0.1", 1, 1, "left", late)]) == [{"status": 503}]


def _asked(workshop, person, phase_id, duel_id, choice="left", language="fi"):
    viewer = viewer_of(workshop, participant=person)
    viewer = type(viewer)(**{**viewer.__dict__, "language": language})
    return consumers._Asked(viewer, "127.0.0.1", phase_id, duel_id, choice, time.monotonic())


def test_votes_waiting_together_are_answered_in_batches(live_workshop, duels, monkeypatch):
    """One batch per workshop's phase and language; a voter's second vote goes in the next batch, after the first."""
    guests = [ParticipantFactory(workshop=live_workshop) for _n in range(4)]
    pairs = [services.duel_next(viewer=viewer_of(live_workshop, participant=g), phase_id=duels.pk).duel for g in guests]
    batches = []
    real = services.duel_answers

    def spy(*, phase_id, answers):
        batches.append(sorted(answer.viewer.participant.name for answer in answers))
        return real(phase_id=phase_id, answers=answers)

    monkeypatch.setattr(services, "duel_answers", spy)
    taken = [
        _asked(live_workshop, guests[0], duels.pk, pairs[0].pk),
        _asked(live_workshop, guests[1], duels.pk, pairs[1].pk),
        _asked(live_workshop, guests[0], duels.pk, pairs[0].pk, choice="right"),  # again, from another tab
        _asked(live_workshop, guests[2], duels.pk, pairs[2].pk, language="sv"),
        _asked(live_workshop, guests[3], duels.pk + 1000, pairs[3].pk),  # no such phase
        _asked(live_workshop, guests[3], duels.pk, pairs[3].pk, choice="maybe"),
    ]
    first, second, again, swedish, missing, bad = consumers._answers(taken)
    names = [guest.name for guest in guests]
    # A voter's nth vote waits for their earlier ones, whichever phase those were to.
    assert batches == [sorted(names[:2]), [names[2]], [names[3]], sorted([names[0], names[3]])]
    assert (first["status"], first["counted"], second["counted"], swedish["counted"]) == (200, True, True, True)
    assert (again["status"], again["counted"], again["duel"]) == (200, False, first["duel"])
    assert first["compared_text"] == "Olet verrannut 1 parin." and swedish["compared_text"] != first["compared_text"]
    assert missing["status"] == 404 and (bad["status"], bad["error"][:7]) == (400, "Valitse")
    assert Duel.objects.get(pk=pairs[0].pk).choice == "left"
    assert Duel.objects.filter(answered_at__isnull=False).count() == 3


def test_a_batch_the_database_refuses_is_answered_one_vote_at_a_time(live_workshop, duels, monkeypatch):
    guests = [ParticipantFactory(workshop=live_workshop) for _n in range(3)]
    pairs = [services.duel_next(viewer=viewer_of(live_workshop, participant=g), phase_id=duels.pk).duel for g in guests]
    real = services.duel_answers

    def refuses_the_last(*, phase_id, answers):
        if any(answer.viewer.participant == guests[2] for answer in answers):
            raise OperationalError("foreign key")  # as an erased voter's vote would
        return real(phase_id=phase_id, answers=answers)

    monkeypatch.setattr(services, "duel_answers", refuses_the_last)
    answers = consumers._answers([_asked(live_workshop, g, duels.pk, pair.pk) for g, pair in zip(guests, pairs)])
    assert [answer["status"] for answer in answers] == [200, 200, 500]
    assert Duel.objects.filter(answered_at__isnull=False).count() == 2
