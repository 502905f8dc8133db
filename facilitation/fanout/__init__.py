"""Live pushes fanned out once per server process instead of once per recipient.

The textbook Channels design sends one channel-layer message per recipient and encodes the JSON once
per recipient. Here every event leaves the publisher once (one Redis ``PUBLISH`` per event), every
server process receives it once (one subscription per workshop per process), builds each language's
frame once and writes it straight to its local sockets.

- ``publish()`` is called by ``realtime`` after commit, from any thread (request threads, the Celery
  worker). With ``REDIS_URL`` it publishes on the workshop's Redis channel; without it (SQLite dev
  server, eager Celery, the tests) it hands the message to every ``Hub`` of this process.
- One ``Hub`` per event loop (a server process has one) keeps ``group -> members`` and one Redis pub/sub
  connection subscribed to the workshops that have local sockets. After that connection drops it
  reconnects with back-off, subscribes again and sends every local socket a ``resync`` frame: the
  page then fetches what it missed by event id (PostgreSQL is the truth). While it is away every
  local socket (and any that connects meanwhile) gets a ``live.paused`` frame: the page polls.
- A publish that fails (Redis away) is logged and kept for a retry, at most ``RETRY_LIMIT`` messages
  for ``RETRY_FOR`` seconds; the request that committed never sees the failure.
- Frames are built only from the event payload, which never names an anonymous author.
- ``debounce()`` coalesces the facilitators' presence counts: a reconnect storm of 1,000 sockets makes
  a couple of pushes, not 1,000 (the last one reads the settled counts).

Group names come from ``realtime`` (the only place that names them); the hub only matches strings.

Modules: ``wire`` (channel names, frames, the Redis client), ``publisher`` (publish and retry),
``members`` (one socket, written without waiting), ``hubs`` (the per-loop hub and its subscription).
The sockets' and the hub's database work runs through ``config.db_threads``.
"""

from facilitation.fanout.hubs import Hub, debounce, hub
from facilitation.fanout.members import Member, Subscriber
from facilitation.fanout.publisher import publish
from facilitation.fanout.wire import channel_for, encode_frame

__all__ = ["Hub", "Member", "Subscriber", "channel_for", "debounce", "encode_frame", "hub", "publish"]
