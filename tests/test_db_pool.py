"""The pool's connection check: no round trip for a connection nothing happened to, a new one for a dead one."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from config.postgresql import base as db_pool
from tests.conftest import require_service


@pytest.fixture
def conninfo() -> str:
    """The server the app uses (psycopg takes the URL as it is)."""
    require_service("PostgreSQL", bool(os.environ.get("DATABASE_URL")))
    return os.environ["DATABASE_URL"]


@pytest.fixture
def full_checks(monkeypatch) -> list:
    """The connections that got psycopg's own check (a query)."""
    checked = []
    original = ConnectionPool.check_connection

    def counted(conn):
        checked.append(conn.info.backend_pid)
        original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    return checked


def _terminate(conninfo: str, pid: int) -> None:
    """End a backend, as a restart or an administrator would, and wait until it is gone (its goodbye is sent
    before it leaves ``pg_stat_activity``)."""
    with psycopg.connect(conninfo, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 10
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


def test_djangos_pool_checks_with_the_quiet_check(conninfo):
    from django.db import connection

    assert connection.pool._check is db_pool.check_connection


@pytest.mark.django_db(transaction=True)
def test_a_request_after_its_pooled_connection_was_killed_gets_a_working_one(conninfo, full_checks):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        killed = cursor.fetchone()[0]
    connection.close()  # back to the pool, as at the end of a request
    _terminate(conninfo, killed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != killed
    connection.close()


def test_a_healthy_idle_connection_is_handed_out_without_a_query(conninfo, full_checks):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT 1").fetchone()
        for _ in range(3):
            db_pool.check_connection(conn)
        assert full_checks == []
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_a_connection_the_server_ended_is_refused(conninfo, full_checks):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pid = conn.info.backend_pid
        _terminate(conninfo, pid)
        with pytest.raises(psycopg.OperationalError):
            db_pool.check_connection(conn)
        assert full_checks[-1:] == [pid]


def test_a_closed_connection_is_refused_without_touching_its_socket(conninfo):
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        db_pool.check_connection(conn)


def test_the_pool_replaces_a_connection_killed_while_it_waited(conninfo, full_checks):
    with ConnectionPool(conninfo, min_size=1, max_size=1, check=db_pool.check_connection, open=True) as pool:
        with pool.connection() as conn:
            first = conn.info.backend_pid
        _terminate(conninfo, first)
        with pool.connection(timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != first
        assert first in full_checks
