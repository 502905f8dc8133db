"""Celery application: Redis broker when ``REDIS_URL`` is set, eager otherwise."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kehittamo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kehittamo.ping")
def ping() -> dict[str, str]:
    """Answer from a worker: proves the broker and a worker are alive. No side effects."""
    from celery import current_task

    return {"pong": "ok", "hostname": current_task.request.hostname or "eager"}
