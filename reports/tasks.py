"""Background work for reports: building Excel workbooks, deleting expired ones."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _

from reports import services
from reports.models import Export
from reports.workbook import build_workbook, workbook_row_total

logger = logging.getLogger(__name__)


def _lock_seconds() -> int:
    """How long the task's lock lives unless renewed (renewed as the work goes on; a dead worker's expires)."""
    return settings.KEHITTAMO_TASK_LOCK_SECONDS


@shared_task(
    name="reports.export_build",
    bind=True,
    autoretry_for=(Exception,),
    max_retries=2,
    retry_backoff=10,
    acks_late=True,
)
def export_build(self, export_id: int) -> dict:
    """Build an export's workbook into a temporary file, then store it as the export's one file; safe to run again.

    Marks the export RUNNING, saves ``rows_total`` and ``rows_written`` as it goes,
    and ends with DONE, ``finished_at`` and ``expires_at``. A duplicate or late run
    of a finished export does nothing; a retry after a crash starts over and still
    leaves exactly one file. Errors are retried twice; after the last attempt the
    export is FAILED with a short message (the stack trace goes to the log only).
    Returns the export's progress dict.
    """
    try:
        return _run(self, export_id)
    except Exception:
        if self.request.is_eager and self.request.retries < self.max_retries:
            # Without a worker nothing comes back later (and eager Celery re-raises a retry):
            # an eager run tries again at once, in place.
            return self.apply(args=[export_id], retries=self.request.retries + 1).result
        raise  # autoretry_for schedules the next attempt


def _run(task, export_id: int) -> dict:
    lock = f"kehittamo:export:{export_id}"
    if not cache.add(lock, task.request.id or "eager", _lock_seconds()):
        # A re-delivered message while another worker still builds this export: look again later.
        if task.request.is_eager:
            return services.export_progress(export_id)
        try:
            raise task.retry(countdown=_lock_seconds())
        except MaxRetriesExceededError:
            return services.export_progress(export_id)
    try:
        export = services.export_start(export_id=export_id, max_attempts=task.max_retries + 1)
        if export is None:
            return services.export_progress(export_id)
        try:
            _build(export, lock)
        except Exception as exc:
            if task.request.retries < task.max_retries:
                raise
            logger.exception("export failed", extra={"export_id": export_id})
            with translation.override(export.language):
                error = _("Building the workbook failed (%(reason)s). Please try again.") % {
                    "reason": type(exc).__name__
                }
            services.export_fail(export_id=export_id, error=error)
    finally:
        cache.delete(lock)
    return services.export_progress(export_id)


def _build(export: Export, lock: str) -> None:
    total, _per_case = workbook_row_total(export.workshop)
    services.export_progress_set(export_id=export.pk, rows_written=0, rows_total=total)

    def progress(rows_written: int) -> None:
        services.export_progress_set(export_id=export.pk, rows_written=rows_written)
        cache.touch(lock, _lock_seconds())

    with tempfile.TemporaryDirectory(prefix="kehittamo-export-") as directory:
        path = Path(directory) / "workbook.xlsx"
        rows = build_workbook(export.workshop, path, language=export.language, progress=progress)
        services.export_save_file(export=export, path=path, rows=rows)


@shared_task(name="reports.export_expire")
def export_expire() -> int:
    """Delete the files of expired exports (for a periodic schedule). Returns how many were deleted."""
    return services.export_expire()
