"""The suite runs against the real services when they are configured (CI always does)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_database_is_postgresql_when_database_url_is_set():
    require_service("PostgreSQL", bool(os.environ.get("DATABASE_URL")))
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_sqlite_runs_in_wal_mode_without_database_url(tmp_path):
    """The embedded default: SQLite with write-ahead logging, no variables needed."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SQLITE_PATH"] = str(tmp_path / "wal.sqlite3")
    code = (
        "import django; django.setup();"
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "from django.conf import settings;"
        "print(c.fetchone()[0], settings.CHANNEL_LAYERS['default']['BACKEND'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["wal", "channels.layers.InMemoryChannelLayer", "True"]


def test_each_parallel_test_worker_has_a_redis_database_of_its_own():
    """`make test` runs two pytest-xdist workers; sharing a Redis database, one's cache.clear() would empty the
    other's rate limits mid-test. A server a worker starts inherits both variables and must not move again."""
    code = (
        "import django, os; django.setup(); from django.conf import settings;"
        "print(settings.REDIS_URL, os.environ['REDIS_URL'])"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KEHITTAMO_REDIS_WORKER"}}

    def urls(**env) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.split()

    url = "redis://127.0.0.1:6379/9"
    assert urls(REDIS_URL=url, PYTEST_XDIST_WORKER="gw0") == ["redis://127.0.0.1:6379/10"] * 2
    assert urls(REDIS_URL=url, PYTEST_XDIST_WORKER="gw1") == ["redis://127.0.0.1:6379/11"] * 2
    assert urls(REDIS_URL="redis://127.0.0.1:6379/15", PYTEST_XDIST_WORKER="gw0") == ["redis://127.0.0.1:6379/0"] * 2
    moved = {"REDIS_URL": "redis://127.0.0.1:6379/11", "PYTEST_XDIST_WORKER": "gw1", "KEHITTAMO_REDIS_WORKER": "gw1"}
    assert urls(**moved) == ["redis://127.0.0.1:6379/11"] * 2
    assert urls(REDIS_URL=url, PYTEST_XDIST_WORKER="") == [url] * 2


async def test_channel_layer_round_trip_goes_through_redis():
    """Two separate layer instances (as in two processes) only meet through Redis."""
    require_service("Redis", bool(os.environ.get("REDIS_URL")))
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    receiver_side, sender_side = RedisChannelLayer(**config), RedisChannelLayer(**config)
    group = f"test-{uuid.uuid4().hex}"
    try:
        channel = await receiver_side.new_channel()
        await receiver_side.group_add(group, channel)
        await sender_side.group_send(group, {"type": "test.message", "text": "Hei ryhmä! åäö"})
        message = await receiver_side.receive(channel)
        assert message == {"type": "test.message", "text": "Hei ryhmä! åäö"}
    finally:
        await receiver_side.flush()
        await receiver_side.close_pools()
        await sender_side.close_pools()


async def test_an_idle_receive_on_the_redis_layer_outlasts_its_blocking_pop():
    """redis-py 8 reads with a 5 s timeout by default, as long as the layer's BZPOPMIN: without a longer
    ``socket_timeout`` every consumer idle for 5 s died with "Timeout reading" (django/channels_redis#422)."""
    require_service("Redis", bool(os.environ.get("REDIS_URL")))
    import asyncio

    from channels_redis.core import RedisChannelLayer

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    receiver_side, sender_side = RedisChannelLayer(**config), RedisChannelLayer(**config)
    try:
        channel = await receiver_side.new_channel()
        waiting = asyncio.ensure_future(receiver_side.receive(channel))
        await asyncio.sleep(receiver_side.brpop_timeout + 1.5)  # one whole blocking pop came back empty
        assert not waiting.done()
        await sender_side.send(channel, {"type": "test.message", "text": "vihdoin"})
        assert (await asyncio.wait_for(waiting, 5))["text"] == "vihdoin"
    finally:
        await receiver_side.flush()
        await receiver_side.close_pools()
        await sender_side.close_pools()


def test_task_runs_on_a_real_celery_worker_through_redis(celery_eager):
    """Start `celery worker` as its own process and have it answer through the Redis broker."""
    require_service("Redis", bool(os.environ.get("REDIS_URL")))
    from config.celery import app, ping

    assert not settings.CELERY_TASK_ALWAYS_EAGER
    # other tests may have switched the app to eager in this process; this one must use the broker
    celery_eager(False)
    assert app.conf.broker_url.startswith("redis://")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        result = ping.apply_async(queue=queue).get(timeout=60)
        assert result["pong"] == "ok"
        assert result["hostname"].startswith(f"{queue}@")
        # It yields the cores to the web processes (config.celery): niceness is added to the parent's.
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, own + settings.KEHITTAMO_WORKER_NICE) > own
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode in (0, -15), output


def test_the_server_starts_with_every_language_ready_for_the_pushed_panels():
    """The first phase change renders the panel in every language; each language's reverse table and date
    formats are ready from the start instead of being built in that request."""
    import sys

    from django.urls import clear_url_caches, get_resolver
    from django.utils.formats import reset_format_cache

    from config import asgi

    clear_url_caches()
    reset_format_cache()
    for code, _name in settings.LANGUAGES:
        sys.modules.pop(f"django.conf.locale.{code}.formats", None)
    asgi._warm_up()
    assert set(get_resolver()._reverse_dict) >= {code for code, _name in settings.LANGUAGES}
    assert all(f"django.conf.locale.{code}.formats" in sys.modules for code, _name in settings.LANGUAGES)


def test_the_server_tunes_the_garbage_collector_for_many_sockets():
    """Full collections every ~20 s stopped a 1,000-socket server for 300-500 ms (docs/performance.md)."""
    import gc

    import config.asgi  # noqa: F401  (the server's entry point sets it up)

    assert gc.get_threshold()[0] >= 50_000
    assert gc.get_freeze_count() > 10_000  # Django and the app, made at start, are out of the collector's way
