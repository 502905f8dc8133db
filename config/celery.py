"""Celery application: Redis broker when ``REDIS_URL`` is set, eager otherwise."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kehittamo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kehittamo.ping")
def ping() -> dict[str, str]:
    """Answer from a worker: proves the broker and a worker are alive. No side effects."""
    from celery import current_task

    return {"pong": "ok", "hostname": current_task.request.hostname or "eager"}


@celeryd_init.connect
def _yield_to_the_web(**_kwargs) -> None:
    """The worker runs below the web processes' priority (``WORKER_NICE``, 10 unless set; 0 keeps it equal).

    Its work can wait a few milliseconds; the web processes' cannot. When a round starts, the worker renders
    every room's panel while the web process writes the round's frame to a thousand sockets: at equal
    priority the two shared the cores and the frame's last participant waited up to twice as long (bench S5).
    Ordinary processes on one machine (the benchmark, a plain install); between containers the CPU weights
    do the same (``cpu_shares`` in docker-compose.yml).
    """
    from django.conf import settings

    if settings.KEHITTAMO_WORKER_NICE:
        os.nice(settings.KEHITTAMO_WORKER_NICE)
