"""The live workshop's WebSocket: checks who connects, joins their groups; the hub forwards pushes.

A comment (``comment``) and a pairwise vote (``vote``) may come over it: here the writer is
known already, so neither costs an HTTP request, middleware or a session load (at a large
event hundreds press "send" at once, and every voter answers a pair every few seconds). The
votes that arrive while a thread is busy are answered together, in one transaction. The
page falls back to the HTTP form's POST whenever the socket gives no answer; a comment's
client-made id keeps a retry from making a copy. Presence (who has the
page open) is recorded on connect and on disconnect, and refreshed by heartbeats;
all three are gathered and written together, at most once a second per process:
1,000 pages beating every 25 s are two UPDATEs a second, not forty row writes, and
1,000 pages reconnecting after a network blip are a few statements, not thousands
queued in front of their own connects. A page that was away catches up on the
socket too (``catchup``), without an HTTP request.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from config.db_threads import database_sync_to_async
from facilitation import fanout, realtime, selectors, services
from facilitation.permissions import LiveViewer, live_viewer_for_scope
from facilitation.selectors_voting import turn_payload
from facilitation.services.voting import DuelAnswer
from facilitation.writes import answer_duels, write_comment

logger = logging.getLogger(__name__)

REFUSED = 4403
PRESENCE = "presence.writes"  # the debounce key of the batched presence writes
# Votes run in threads of their own: a thousand voters must not keep the sockets' connects and catch-ups
# (the loop's default pool) waiting. A vote that waited longer than the page waits for its answer
# (voting.js posts it over HTTP after 20 s) is not stored here: the page has posted it already.
# Two threads: each answers all the votes waiting at once, so more add little, and with four the GIL kept
# the facilitators' own requests waiting 12–22 s (p95) under a thousand voters (S7, session 12).
VOTES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="votes")
VOTE_DEADLINE_SECONDS = 18.0
VOTE_BATCH = 100  # votes a thread takes at once: a bounded transaction, and threads to share the rest

_presence_lock = threading.Lock()  # the loop adds, a worker thread takes
_arrived: dict[str, tuple[int, int | None, int | None]] = {}  # key -> (workshop, participant, user), not yet written
_beats: dict[str, int | None] = {}  # presence key -> participant id, heard since the last write
_left: dict[str, int] = {}  # presence key -> workshop id, closed since the last write


def _arrive(key: str, viewer: LiveViewer) -> None:
    participant_id = viewer.participant.pk if viewer.participant is not None else None
    user_id = viewer.user.pk if viewer.user is not None else None
    with _presence_lock:
        _arrived[key] = (viewer.workshop.pk, participant_id, user_id)
    fanout.debounce(PRESENCE, _write_presence)


def _heard(key: str, participant_id: int | None) -> None:
    with _presence_lock:
        _beats[key] = participant_id
    fanout.debounce(PRESENCE, _write_presence)


def _leave(key: str, workshop_id: int) -> None:
    with _presence_lock:
        _beats.pop(key, None)
        if _arrived.pop(key, None) is None:  # written already (or being written): its row goes
            _left[key] = workshop_id
    fanout.debounce(PRESENCE, _write_presence)


def _write_presence() -> None:
    """Arrivals, heartbeats and departures since the last write, in a few statements (at most once a
    second per process); then the facilitators' counts, which now include them."""
    with _presence_lock:
        arrived, beats, left = dict(_arrived), dict(_beats), dict(_left)
        _arrived.clear()
        _beats.clear()
        _left.clear()
    # Each part on its own: a failed INSERT (the database away a moment) must not keep the departures
    # from being written, nor the counts from being pushed.
    for write, rows in (
        (services.presence_arrive, arrived),
        (services.presence_refresh, beats),
        (services.presence_depart, left),
    ):
        try:
            write(rows)
        except Exception:
            logger.exception("presence write failed (%s rows)", len(rows))
    for workshop_id in {workshop_id for workshop_id, _p, _u in arrived.values()} | set(left.values()):
        services.stats_changed(workshop_id=workshop_id)


@dataclass
class _Asked:
    """A vote that came over a socket, waiting for its answer (``future``, on the socket's ``loop``)."""

    viewer: LiveViewer
    address: str
    phase_id: int
    duel_id: int
    choice: str
    asked_at: float  # monotonic
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future | None = None


_asked_lock = threading.Lock()
_asked: list[_Asked] = []  # votes not yet taken by a thread


def _answer_waiting() -> None:
    """Answer the votes waiting (up to ``VOTE_BATCH``), in batches: at a large event many votes arrive
    while a thread works, and the next thread answers all of them in a few transactions
    (``services.duel_answers``) instead of one each. Every vote taken gets its answer, 500 on failure."""
    with _asked_lock:
        taken = _asked[:VOTE_BATCH]
        del _asked[:VOTE_BATCH]
    answers: list[dict] = []
    try:
        answers = _answers(taken)
    finally:
        for asked, answer in itertools.zip_longest(taken, answers, fillvalue={"status": 500}):
            with contextlib.suppress(RuntimeError):  # its loop has closed: the server is stopping
                asked.loop.call_soon_threadsafe(_settle, asked.future, answer)


def _settle(future: asyncio.Future, answer: dict) -> None:
    if not future.done():  # the socket may have closed meanwhile
        future.set_result(answer)


def _answers(taken: list[_Asked]) -> list[dict]:
    """The answer to each vote, as ``vote_duel`` gives it over HTTP with its status, in the voter's language.

    Votes are answered together when they are to one workshop's phase in one language and from different
    voters (a voter's second vote, from another tab, goes in the next batch). A vote that waited for a
    thread past ``VOTE_DEADLINE_SECONDS`` gets 503 and nothing is done: the page has posted it by then.
    """
    answers: dict[int, dict] = {}
    batches: dict[tuple, list[int]] = {}  # (workshop, phase, language, the voter's nth vote here) -> indexes
    votes_of: collections.Counter = collections.Counter()
    for index, asked in enumerate(taken):
        if time.monotonic() - asked.asked_at > VOTE_DEADLINE_SECONDS:
            answers[index] = {"status": 503}
            continue
        viewer = asked.viewer
        nth = votes_of[viewer.workshop.pk, viewer.identity_key]
        votes_of[viewer.workshop.pk, viewer.identity_key] += 1
        batches.setdefault((viewer.workshop.pk, asked.phase_id, viewer.language, nth), []).append(index)
    for (_workshop, phase_id, language, _nth), indexes in sorted(batches.items(), key=lambda item: item[0][3]):
        with translation.override(language):
            answers.update(_answer_batch(phase_id, [taken[index] for index in indexes], indexes))
    return [answers[index] for index in range(len(taken))]


def _answer_batch(phase_id: int, batch: list[_Asked], indexes: list[int]) -> dict[int, dict]:
    """One batch's answers by their index; a batch that fails is answered one vote at a time, so that one
    vote the database refuses (its voter erased meanwhile) does not fail the others."""
    try:
        outcomes = answer_duels(
            phase_id,
            [DuelAnswer(viewer=asked.viewer, duel_id=asked.duel_id, choice=asked.choice) for asked in batch],
            [asked.address for asked in batch],
        )
    except Exception:
        if len(batch) == 1:
            logger.exception("vote over the socket failed")
            return {indexes[0]: {"status": 500}}
        logger.warning("a batch of %s socket votes failed; answering them one by one", len(batch), exc_info=True)
        answers = {}
        for index, asked in zip(indexes, batch, strict=True):
            answers.update(_answer_batch(phase_id, [asked], [index]))
        return answers
    answers = {}
    for index, outcome in zip(indexes, outcomes, strict=True):
        if outcome.status == 200:
            answers[index] = {"status": 200, **turn_payload(outcome.turn)}
        else:
            answers[index] = {"status": outcome.status, "error": outcome.error}
            if outcome.retry_after is not None:
                answers[index]["retry_after"] = outcome.retry_after
    return answers


def _write_comment(viewer: LiveViewer, fields: dict, address: str) -> tuple[int, dict]:
    with translation.override(viewer.language):
        return write_comment(viewer, fields, address=address)


def _admit(scope, workshop_id: int) -> tuple[LiveViewer | None, set[int]]:
    """Who connects (session, user, participant) and the rooms they are in: one trip to a worker thread."""
    viewer = live_viewer_for_scope(scope, workshop_id)
    return viewer, (selectors.viewer_room_ids(viewer) if viewer is not None else set())


KEY_LIMIT = 2**63  # a database key is below this


def _whole(value, low: int, high: int = KEY_LIMIT) -> bool:
    """A whole number from the page's JSON (not a bool or float) in ``low`` ≤ value < ``high``."""
    return type(value) is int and low <= value < high


def _is_id(value) -> bool:
    """A row id as the page sends one: a whole number a database key can hold."""
    return _whole(value, 1)


def _ask(content: dict) -> int | None:
    """The number a page gave its question, which the answer repeats (None when it gave none or nonsense)."""
    ask = content.get("ask")
    return ask if _whole(ask, 0, 2**53) else None


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One live page's socket. Its pushes come from this process's ``fanout.Hub``, not the channel layer."""

    # No channel layer: nothing per socket in Redis, no receive loop per socket. Pushes arrive through
    # the hub, which writes frames straight to ``base_send``.
    channel_layer_alias = None
    viewer: LiveViewer | None = None
    hub: fanout.Hub | None = None
    catching_up = False

    async def connect(self) -> None:
        """Accept a participant or organiser of this workshop from an allowed origin; refuse anyone else."""
        # Unique per socket across processes: the presence row of this connection.
        self.key = f"ws.{uuid.uuid4().hex}"
        workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        self.viewer, room_ids = await database_sync_to_async(_admit)(self.scope, workshop_id)
        if self.viewer is None:
            await self.close(code=REFUSED)
            return
        # Join (held) before accepting: a push between the accept and the page's catch-up is not lost.
        self.hub = fanout.hub()
        groups = self._groups(room_ids)
        await self.hub.join(self, groups, workshop_id=workshop_id, language=self.viewer.language, hold=True)
        await self.accept()
        self.hub.release(self)
        _arrive(self.key, self.viewer)

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            await self.hub.leave(self)
        if self.viewer is not None:
            _leave(self.key, self.viewer.workshop.pk)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """A frame that is not JSON text is ignored: it used to raise, which closed the socket of its sender."""
        if not text_data:
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs) -> None:
        """The page's heartbeat keeps this connection counted as present; ``catchup`` asks for what the
        page missed while it was away; ``comment`` writes a comment or a reply; ``vote`` answers a pair.
        A question may carry a number ``ask``, which its answer repeats."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            participant = self.viewer.participant
            _heard(self.key, participant.pk if participant is not None else None)
            await self._send_quietly({"kind": "pong"})
        elif kind == "catchup":
            await self._catch_up(content.get("after"), _ask(content))
        elif kind == "comment":
            await self._comment(content)
        elif kind == "vote":
            await self._vote(content)

    async def _comment(self, content: dict) -> None:
        """Write a comment or a reply from the composer's fields, as its HTTP POST does (the same rate
        limits, the same refusals in the writer's language); the answer (``kind: comment``, its ``status``
        and the POST's JSON) repeats the question's ``ask``, without which nothing is done."""
        ask = _ask(content)
        if ask is None:
            return
        client = self.scope.get("client") or ("",)
        try:
            status, body = await database_sync_to_async(_write_comment)(self.viewer, content, client[0])
        except Exception:  # the database away a moment: the page keeps the comment and posts it over HTTP
            logger.exception("comment over the socket failed")
            status, body = 500, {}
        await self._send_quietly({"kind": "comment", "ask": ask, "status": status, **body})

    async def _vote(self, content: dict) -> None:
        """Answer a pair, as ``vote_duel`` does over HTTP; the answer (``kind: vote``, its ``status``
        and the same JSON) repeats the question's ``ask``, without which nothing is done. A socket's
        frames are handled one after another, so a second vote waits for the first's answer."""
        ask = _ask(content)
        if ask is None:
            return
        phase_id, duel_id, choice = content.get("phase"), content.get("duel"), content.get("choice")
        if not _is_id(phase_id) or not _is_id(duel_id) or not isinstance(choice, str):
            await self._send_quietly({"kind": "vote", "ask": ask, "status": 400})
            return
        client = self.scope.get("client") or ("",)
        loop = asyncio.get_running_loop()
        asked = _Asked(self.viewer, client[0], phase_id, duel_id, choice, time.monotonic(), loop, loop.create_future())
        with _asked_lock:
            _asked.append(asked)
        try:
            # This thread answers the votes waiting when it starts, this one or more; a thread that
            # started earlier may have taken this one already.
            await database_sync_to_async(_answer_waiting, VOTES)()
            answer = await asked.future
        except Exception:  # the database away a moment: the page posts the vote over HTTP instead
            logger.exception("vote over the socket failed")
            answer = {"status": 500}
        await self._send_quietly({"kind": "vote", "ask": ask, **answer})

    async def _catch_up(self, after, ask: int | None = None) -> None:
        """One page of the events after ``after``, as the events endpoint gives it, answered on this socket.

        A thousand pages reconnecting at once each ask once: over HTTP every one would go through the
        middleware, load its session again and get a thread of its own for the sync view; here the viewer
        is known and the query runs in a worker thread. One request at a time per socket; a second
        meanwhile is ignored (the page waits for the answer to its first)."""
        if not _whole(after, 0) or self.catching_up:
            return
        self.catching_up = True
        try:
            body = await database_sync_to_async(selectors.catch_up)(self.viewer, after)
        finally:
            self.catching_up = False
        if ask is not None:
            body["ask"] = ask
        await self._send_quietly({"kind": "catchup", **body})

    async def _send_quietly(self, content: dict) -> None:
        # The page may have closed meanwhile (Daphne then raises); its disconnect follows anyway.
        with contextlib.suppress(Exception):
            await self.send_json(content)

    async def live_control(self, name: str) -> None:
        """``resubscribe``: the rooms changed (new plan, a move, a late joiner); follow exactly the
        rooms this viewer is in now. ``recheck``: a link was revoked or data erased; a connection that
        may no longer see the workshop is closed (the page then reloads into the "access ended" page).
        Both only read; nothing is written."""
        if self.hub is None:
            return
        if name == "resubscribe":
            room_ids = await database_sync_to_async(selectors.viewer_room_ids)(self.viewer)
            self.hub.update(self, self._groups(room_ids))
        elif name == "recheck":
            workshop_id = self.viewer.workshop.pk
            if await database_sync_to_async(live_viewer_for_scope)(self.scope, workshop_id) is None:
                await self.close(code=REFUSED)

    def _groups(self, room_ids) -> list[str]:
        """The groups this viewer hears: their audiences' and those of the rooms they are in."""
        return realtime.groups_for(self.viewer) + realtime.room_groups(self.viewer.workshop.pk, room_ids)


class UnknownSocket(AsyncJsonWebsocketConsumer):
    """A WebSocket path that names no live workshop: refused without touching the database."""

    channel_layer_alias = None

    async def connect(self) -> None:
        await self.close(code=REFUSED)
