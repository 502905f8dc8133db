"""Django's PostgreSQL backend, with a pool that checks a connection by looking, not by asking.

psycopg's own check (what Django gives the pool with ``CONN_HEALTH_CHECKS``) sends an empty query on
every checkout, and every request and every socket's database work checks a connection out: one round
trip more each, about 2.5 ms while a live event keeps both cores busy. A connection that waits in the
pool has nothing to read unless the server spoke first, and a server that goes away does speak: a
restart or ``pg_terminate_backend`` sends its "terminating connection" notice and closes the socket.
So a connection whose socket has nothing waiting is handed out as it is; one with something waiting
gets psycopg's full check, which raises for a dead one (the pool then discards it and opens another).
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def check_connection(conn: psycopg.Connection) -> None:
    """Raise if ``conn`` is known or likely to be dead; a round trip only when the server spoke first."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    waiting = select.poll()  # poll, not select: a live server's descriptors go past select's 1,024
    waiting.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    if waiting.poll(0):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django builds the pool with psycopg's check (``CONN_HEALTH_CHECKS``) and offers no way to give
        # another; it is set here before the pool opens (Django opens it on the first connection).
        if pool is not None and pool._check is not None:
            pool._check = check_connection
        return pool
