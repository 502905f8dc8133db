"""Writes of the reports app: requesting, building, finishing and expiring Excel exports; the CSV rows.

The Celery task ``reports.tasks.export_build`` drives a build; every write it
needs lives here, so views, the task and the management command share one set of rules.
"""

from __future__ import annotations

import csv
import logging
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext

from reports.contributions import COLUMNS, contribution_rows
from reports.models import Export, ReportShare
from workshops.importing import looks_like_formula
from workshops.models import Workshop

logger = logging.getLogger(__name__)

EXPORT_KEEP_DAYS = 7
EXPORT_DIRECTORY = "exports"
ERROR_MAX_LENGTH = 300
# A build not finished in this time is taken as lost (e.g. the broker dropped the message): a new one may start.
EXPORT_STALE_AFTER = timedelta(hours=2)
BUILDING = (Export.Status.PENDING, Export.Status.RUNNING)
CSV_SEPARATOR = ";"
CSV_FORMULA_PREFIX = "'"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- requesting ------------------------------------------------------------------------------------
def export_language(language: str | None) -> str:
    """``language`` if the platform has it, else the default language."""
    codes = {code for code, _name in settings.LANGUAGES}
    language = (language or "").split("-")[0]
    return language if language in codes else settings.LANGUAGE_CODE


def export_request(*, workshop: Workshop, user, language: str) -> Export:
    """Start building the workshop's workbook; returns the export already pending or running instead, if any.

    Creates an Export (PENDING) and enqueues ``reports.export_build`` after commit.
    A build left pending or running for longer than ``EXPORT_STALE_AFTER`` is marked
    FAILED first, so a lost task cannot block new exports. The unique constraint
    ``one_export_building`` backs up the check when two requests race.
    """
    from reports import tasks  # the task module imports this one

    export_expire()
    with transaction.atomic():
        # Serialises two organisers pressing the button at once (PostgreSQL; SQLite has one writer anyway).
        Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
        Export.objects.filter(
            workshop=workshop, status__in=BUILDING, created_at__lt=timezone.now() - EXPORT_STALE_AFTER
        ).update(
            status=Export.Status.FAILED,
            error=gettext("Building the workbook took too long and was stopped. Please try again."),
            finished_at=timezone.now(),
        )
        active = export_building(workshop)
        if active is not None:
            return active
        try:
            with transaction.atomic():
                export = Export.objects.create(
                    workshop=workshop,
                    requested_by=user if user is not None and user.is_authenticated else None,
                    language=export_language(language),
                )
        except IntegrityError:
            # Another request created one between our check and our insert.
            active = export_building(workshop)
            if active is None:
                raise
            return active
        transaction.on_commit(partial(tasks.export_build.delay, export.pk))
    return export


def export_state(export: Export) -> dict:
    """The export's status and counters for a progress display. No side effects."""
    done = export.status == Export.Status.DONE
    total = export.rows_total
    written = min(export.rows_written, total) if total else export.rows_written
    percent = 100 if done else (written * 100 // total if total else 0)
    return {
        "id": export.pk,
        "status": export.status,
        "status_label": str(export.get_status_display()),
        "rows_written": written,
        "rows_total": total,
        "percent": percent,
        "done": done,
        "failed": export.status == Export.Status.FAILED,
        "building": export.status in BUILDING,
        "available": export.is_available,
        "error": export.error,
        "expires_at": export.expires_at.isoformat() if export.expires_at else None,
    }


def export_progress(export_id: int) -> dict:
    """The export's progress dict, read fresh from the database (``status`` "missing" if it is gone)."""
    export = Export.objects.filter(pk=export_id).first()
    if export is None:
        return {"id": export_id, "status": "missing", "done": False, "failed": True, "building": False}
    return export_state(export)


def export_building(workshop: Workshop) -> Export | None:
    """The workshop's export that is pending or running, if any. No side effects."""
    return Export.objects.filter(workshop=workshop, status__in=BUILDING).order_by("created_at").first()


# --- building (called by the task) -----------------------------------------------------------------
def export_start(*, export_id: int, max_attempts: int) -> Export | None:
    """Claim an export for building: RUNNING, one more attempt, counters reset. Returns None if there is nothing to do.

    Nothing to do: the export is gone, already DONE or FAILED (a duplicate or late
    run), or has used up its attempts (then it is marked FAILED here).
    """
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("workshop").filter(pk=export_id).first()
        if export is None or export.status not in BUILDING:
            return None
        if export.attempts >= max_attempts:
            with translation.override(export.language):
                _fail(export, gettext("The workbook could not be built. Please try again."))
            return None
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.RUNNING, attempts=F("attempts") + 1, rows_written=0, error=""
        )
    export.refresh_from_db()
    return export


def export_progress_set(*, export_id: int, rows_written: int, rows_total: int | None = None) -> None:
    """Save how far the build is (an UPDATE of the counters only, so nothing else is overwritten)."""
    fields: dict[str, int] = {"rows_written": rows_written}
    if rows_total is not None:
        fields["rows_total"] = rows_total
    Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(**fields)


def export_save_file(*, export: Export, path: Path, rows: int) -> Export:
    """Store the built file as the export's only file and mark it DONE, kept for ``EXPORT_KEEP_DAYS``.

    Any file an earlier attempt left behind (saved before a crash, or recorded on
    the row) is deleted first, so the export ends with exactly one file.
    """
    _delete_files(export)
    name = f"{export.pk}-{secrets.token_urlsafe(12)}.xlsx"  # unguessable, in case the media folder is ever served
    with path.open("rb") as handle:
        export.file.save(name, File(handle), save=False)
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        file=export.file.name,
        status=Export.Status.DONE,
        rows_written=rows,
        rows_total=rows,
        finished_at=now,
        expires_at=now + timedelta(days=EXPORT_KEEP_DAYS),
        error="",
    )
    export.refresh_from_db()
    return export


def export_fail(*, export_id: int, error: str) -> None:
    """Mark a build FAILED with a short message for the organisers (never a stack trace)."""
    export = Export.objects.filter(pk=export_id).first()
    if export is not None:
        _fail(export, error)


def _fail(export: Export, error: str) -> None:
    _delete_files(export)
    Export.objects.filter(pk=export.pk).exclude(status=Export.Status.DONE).update(
        status=Export.Status.FAILED, error=error[:ERROR_MAX_LENGTH], file="", finished_at=timezone.now()
    )


def _delete_files(export: Export) -> None:
    """Remove every stored file of the export: the one on record and any saved just before a crash."""
    storage = Export._meta.get_field("file").storage
    recorded = Export.objects.filter(pk=export.pk).values_list("file", flat=True).first()
    names = {recorded} if recorded else set()
    try:
        _directories, files = storage.listdir(EXPORT_DIRECTORY)
    except (FileNotFoundError, NotImplementedError):
        files = []
    names.update(f"{EXPORT_DIRECTORY}/{name}" for name in files if name.startswith(f"{export.pk}-"))
    for name in names:
        storage.delete(name)


# --- expiry ----------------------------------------------------------------------------------------
def export_expire() -> int:
    """Delete the files of exports past their expiry date (the rows stay, as history). Returns how many."""
    expired = list(Export.objects.filter(expires_at__lte=timezone.now()).exclude(file="").only("pk", "file"))
    storage = Export._meta.get_field("file").storage
    for export in expired:
        storage.delete(export.file.name)
    Export.objects.filter(pk__in=[export.pk for export in expired]).update(file="")
    return len(expired)


def export_download_name(export: Export) -> str:
    """The file name a download gets: the workshop's title as a slug and the export's date."""
    finished = timezone.localtime(export.finished_at or export.created_at).date()
    return f"{slugify(export.workshop.title) or 'kehittamo'}-{finished.isoformat()}.xlsx"


def export_recent(workshop: Workshop, limit: int = 10) -> list[Export]:
    """The workshop's latest exports, newest first. No side effects."""
    return list(Export.objects.filter(workshop=workshop).order_by("-created_at", "-pk")[:limit])


# --- CSV -------------------------------------------------------------------------------------------
class _Echo:
    """A file-like object that returns what is written, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_value(value) -> str:
    """One CSV field: dates in ISO form, and user text that a spreadsheet would run as a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        return CSV_FORMULA_PREFIX + text if looks_like_formula(text) else text
    return str(value)


def contributions_csv(workshop: Workshop, *, language: str) -> Iterator[str]:
    """The main sheet as CSV text pieces: BOM, ``;``-separated, CRLF, headers in ``language``. Reads in chunks."""
    writer = csv.writer(_Echo(), delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    keys = [column.key for column in COLUMNS]
    # The override wraps the whole iteration: a streaming response is read after the view has returned.
    with translation.override(language):
        yield "\ufeff" + writer.writerow([str(column.header) for column in COLUMNS])
        for row in contribution_rows(workshop):
            yield writer.writerow([csv_value(row[key]) for key in keys])


# --- the report's share link ----------------------------------------------------------
@transaction.atomic
def report_share_set(*, workshop: Workshop, action: str) -> ReportShare:
    """Switch the participants' link to the report on or off, or give it a new token (which also switches it on).

    The first switch-on makes the token; an old link stops working at once after a renewal.
    """
    share = ReportShare.objects.select_for_update().filter(workshop=workshop).first()
    if share is None:
        share = ReportShare(workshop=workshop, token=secrets.token_urlsafe(24))
    if action == "renew":
        share.token = secrets.token_urlsafe(24)
    share.enabled = action in {"on", "renew"}
    share.changed_at = timezone.now()
    share.save()
    return share


def export_delete_all(*, workshop: Workshop) -> int:
    """Delete every export of the workshop, its files included (personal data erasure). Returns how many rows."""
    exports = list(Export.objects.filter(workshop=workshop))
    for export in exports:
        _delete_files(export)
    Export.objects.filter(pk__in=[export.pk for export in exports]).delete()
    return len(exports)
