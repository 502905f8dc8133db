"""The live workshop's WebSocket: checks who connects, joins their groups, forwards pushes.

It never writes comments: those arrive over HTTP POST. Presence (who has the
page open) is recorded on connect, on the client's heartbeat and on
disconnect, never in the event handler that runs once per connected client.
"""

from __future__ import annotations

from channels.db import database_sync_to_async as _database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connections

from facilitation import realtime, selectors, services
from facilitation.permissions import LiveViewer, live_viewer_for_scope

REFUSED = 4403


def database_sync_to_async(func):
    """Run the consumer's database work in the worker threads, not all consumers' in one shared thread.

    The default (thread-sensitive) queues every socket's connect, heartbeat and leave behind one
    thread; while the request threads are busy, connects then wait past the server's handshake
    timeout. These functions share no thread-bound state, so they may run side by side.
    """
    # SQLite takes one writer at a time anyway, and the tests' in-memory SQLite is one connection's.
    return _database_sync_to_async(func, thread_sensitive=connections["default"].vendor == "sqlite")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    viewer: LiveViewer | None = None
    groups_joined: list[str]

    async def connect(self) -> None:
        """Accept a participant or organiser of this workshop from an allowed origin; refuse anyone else."""
        self.groups_joined = []
        workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        self.viewer = await database_sync_to_async(live_viewer_for_scope)(self.scope, workshop_id)
        if self.viewer is None:
            await self.close(code=REFUSED)
            return
        for group in realtime.groups_for(self.viewer):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self._join_rooms()
        await self.accept()
        await database_sync_to_async(self._arrive)()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.viewer is not None:
            await database_sync_to_async(self._leave)()

    async def receive_json(self, content, **kwargs) -> None:
        """The page's heartbeat keeps this connection counted as present."""
        if isinstance(content, dict) and content.get("type") == "ping":
            await database_sync_to_async(services.presence_touch)(key=self.channel_name, viewer=self.viewer)
            await self.send_json({"kind": "pong"})

    async def live_event(self, message: dict) -> None:
        """Forward one pushed event in the viewer's language (no database access here)."""
        await self.send_json(realtime.event_for_client(message["event"], self.viewer.language))

    async def live_resubscribe(self, message: dict) -> None:
        """The rooms changed (new plan, a move, a late joiner): follow exactly the rooms this viewer is in now.

        Reads the memberships; writes nothing.
        """
        await self._join_rooms()

    async def _join_rooms(self) -> None:
        room_ids = await database_sync_to_async(selectors.viewer_room_ids)(self.viewer)
        wanted = set(realtime.room_groups(self.viewer.workshop.pk, room_ids))
        current = {group for group in self.groups_joined if ".r" in group}
        for group in current - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.remove(group)
        for group in wanted - current:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    def _arrive(self) -> None:
        services.presence_touch(key=self.channel_name, viewer=self.viewer)
        services.stats_publish(workshop=self.viewer.workshop)

    def _leave(self) -> None:
        services.presence_leave(key=self.channel_name)
        services.stats_publish(workshop=self.viewer.workshop)
