"""The live workshop's WebSocket: checks who connects, joins their groups; the hub forwards pushes.

It never writes comments: those arrive over HTTP POST. Presence (who has the
page open) is recorded on connect and on disconnect; heartbeats are gathered
and written together, at most once a second per process: 1,000 pages beating
every 25 s are two UPDATEs a second, not forty row writes.
"""

from __future__ import annotations

import contextlib
import threading
import uuid

from channels.db import database_sync_to_async as _database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connections

from facilitation import fanout, realtime, selectors, services
from facilitation.permissions import LiveViewer, live_viewer_for_scope

REFUSED = 4403
HEARTBEATS = "presence.heartbeats"  # the debounce key of the batched heartbeat writes

_beats_lock = threading.Lock()  # the loop adds, a worker thread takes
_beats: dict[str, int | None] = {}  # presence key -> participant id, heard since the last write


def _heard(key: str, participant_id: int | None) -> None:
    with _beats_lock:
        _beats[key] = participant_id
    fanout.debounce(HEARTBEATS, _write_heartbeats)


def _write_heartbeats() -> None:
    with _beats_lock:
        beats = dict(_beats)
        _beats.clear()
    services.presence_refresh(beats)


def database_sync_to_async(func):
    """Run the consumer's database work in the worker threads, not all consumers' in one shared thread.

    The default (thread-sensitive) queues every socket's connect, heartbeat and leave behind one
    thread; while the request threads are busy, connects then wait past the server's handshake
    timeout. These functions share no thread-bound state, so they may run side by side.
    """
    # SQLite takes one writer at a time anyway, and the tests' in-memory SQLite is one connection's.
    return _database_sync_to_async(func, thread_sensitive=connections["default"].vendor == "sqlite")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One live page's socket. Its pushes come from this process's ``fanout.Hub``, not the channel layer."""

    # No channel layer: nothing per socket in Redis, no receive loop per socket. Pushes arrive through
    # the hub, which writes frames straight to ``base_send``.
    channel_layer_alias = None
    viewer: LiveViewer | None = None
    hub: fanout.Hub | None = None

    async def connect(self) -> None:
        """Accept a participant or organiser of this workshop from an allowed origin; refuse anyone else."""
        # Unique per socket across processes: the presence row of this connection.
        self.key = f"ws.{uuid.uuid4().hex}"
        workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        self.viewer = await database_sync_to_async(live_viewer_for_scope)(self.scope, workshop_id)
        if self.viewer is None:
            await self.close(code=REFUSED)
            return
        # Join (held) before accepting: a push between the accept and the page's catch-up is not lost.
        self.hub = fanout.hub()
        await self.hub.join(
            self, await self._groups(), workshop_id=workshop_id, language=self.viewer.language, hold=True
        )
        await self.accept()
        self.hub.release(self)
        await database_sync_to_async(services.presence_touch)(key=self.key, viewer=self.viewer)
        self._stats_changed()

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            await self.hub.leave(self)
        if self.viewer is not None:
            await database_sync_to_async(services.presence_leave)(key=self.key)
            self._stats_changed()

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
        """The page's heartbeat keeps this connection counted as present."""
        if isinstance(content, dict) and content.get("type") == "ping":
            participant = self.viewer.participant
            _heard(self.key, participant.pk if participant is not None else None)
            # The page may have closed meanwhile (Daphne then raises); its disconnect follows anyway.
            with contextlib.suppress(Exception):
                await self.send_json({"kind": "pong"})

    async def live_control(self, name: str) -> None:
        """``resubscribe``: the rooms changed (new plan, a move, a late joiner); follow exactly the
        rooms this viewer is in now. ``recheck``: a link was revoked or data erased; a connection that
        may no longer see the workshop is closed (the page then reloads into the "access ended" page).
        Both only read; nothing is written."""
        if self.hub is None:
            return
        if name == "resubscribe":
            self.hub.update(self, await self._groups())
        elif name == "recheck":
            workshop_id = self.viewer.workshop.pk
            if await database_sync_to_async(live_viewer_for_scope)(self.scope, workshop_id) is None:
                await self.close(code=REFUSED)

    async def _groups(self) -> list[str]:
        room_ids = await database_sync_to_async(selectors.viewer_room_ids)(self.viewer)
        return realtime.groups_for(self.viewer) + realtime.room_groups(self.viewer.workshop.pk, room_ids)

    def _stats_changed(self) -> None:
        # Coalesced per workshop and process: a reconnect storm makes a couple of pushes, not one per socket.
        services.stats_changed(workshop_id=self.viewer.workshop.pk)


class UnknownSocket(AsyncJsonWebsocketConsumer):
    """A WebSocket path that names no live workshop: refused without touching the database."""

    channel_layer_alias = None

    async def connect(self) -> None:
        await self.close(code=REFUSED)
