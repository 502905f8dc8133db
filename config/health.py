"""``/healthz``: the state of the database, the channel layer and the Celery broker."""

from __future__ import annotations

import asyncio
import logging
import uuid

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.db_threads import database_sync_to_async

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 3.0


def _check_database() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


async def _check_channel_layer() -> dict[str, object]:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    marker = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "marker": marker})
    message = await layer.receive(channel)
    if message.get("marker") != marker:
        raise RuntimeError("channel layer returned a different message")
    return {"ok": True, "backend": type(layer).__name__}


def _check_broker() -> dict[str, object]:
    from config.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
    return {"ok": True, "mode": "broker"}


async def _run(name: str, check) -> tuple[str, dict[str, object]]:
    try:
        # A sync check runs in a worker thread that no request cycle cleans up after: the helper gives
        # the thread's pooled connection back (without it each check kept one, and the pool ran dry).
        coroutine = check() if asyncio.iscoroutinefunction(check) else database_sync_to_async(check)()
        return name, await asyncio.wait_for(coroutine, CHECK_TIMEOUT + 1)
    except Exception as exc:  # a health check reports every failure, whatever its kind
        logger.warning("health check failed", extra={"fields": {"check": name, "error": type(exc).__name__}})
        return name, {"ok": False, "error": type(exc).__name__}


@never_cache
@require_GET
async def healthz(request):
    """Report each dependency; 200 when all are fine, 503 otherwise. No side effects."""
    results = await asyncio.gather(
        _run("database", _check_database),
        _run("channel_layer", _check_channel_layer),
        _run("broker", _check_broker),
    )
    checks = dict(results)
    healthy = all(result["ok"] for result in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
