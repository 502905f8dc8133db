"""Pages for exporting a workshop's contributions: the Excel workbook (built in the background) and a CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reports import services
from reports.models import Export
from workshops.permissions import workshop_for_organiser


def _export_of(workshop, export_id: int) -> Export:
    return get_object_or_404(Export.objects.select_related("workshop"), pk=export_id, workshop=workshop)


def _language(request) -> str:
    return services.export_language(getattr(request, "LANGUAGE_CODE", None) or translation.get_language())


def _progress_text(state: dict) -> str:
    """What the status line says, also read out by screen readers as it changes."""
    if state["done"]:
        return _("The workbook is ready: %(rows)d rows.") % {"rows": state["rows_total"]}
    if state["failed"]:
        return state.get("error") or _("Building the workbook failed. Please try again.")
    if state["status"] == Export.Status.PENDING:
        return _("Waiting for its turn to be built…")
    return _("Being built: %(written)d of %(total)d rows written (%(percent)d %%).") % {
        "written": state["rows_written"],
        "total": state["rows_total"],
        "percent": state["percent"],
    }


@login_required
@require_GET
def export(request, workshop_id: int):
    """The export page: create the workbook, follow its progress, download it or an earlier one; the CSV link."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    exports = services.export_recent(workshop)
    latest = exports[0] if exports else None
    state = services.export_state(latest) if latest else None
    return render(
        request,
        "reports/export.html",
        {
            "workshop": workshop,
            "exports": exports,
            "latest": latest,
            "latest_text": _progress_text(state) if state else "",
            "keep_days": services.EXPORT_KEEP_DAYS,
        },
    )


@login_required
@require_POST
def export_start(request, workshop_id: int):
    """Start building the workbook in the page's language (or find the build already under way)."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    export = services.export_request(workshop=workshop, user=request.user, language=_language(request))
    export.refresh_from_db()
    if export.status == Export.Status.DONE:
        messages.success(request, _("The workbook is ready."))
    elif export.status == Export.Status.FAILED:
        messages.error(request, export.error or _("Building the workbook failed. Please try again."))
    else:
        messages.success(request, _("The workbook is being built. You can follow its progress below."))
    return redirect("reports:export", workshop_id=workshop.pk)


@login_required
@require_GET
@never_cache
def export_progress(request, workshop_id: int, export_id: int):
    """JSON for the progress bar: status, rows written of the total, and the download link once ready."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    export = _export_of(workshop, export_id)
    state = services.export_state(export)
    state["text"] = _progress_text(state)
    state["download_url"] = (
        reverse("reports:export_download", args=[workshop.pk, export.pk]) if state["available"] else None
    )
    state["expires"] = (
        formats.date_format(timezone.localtime(export.expires_at), "SHORT_DATETIME_FORMAT") if export.expires_at else ""
    )
    return JsonResponse(state)


@login_required
@require_GET
@never_cache
def export_download(request, workshop_id: int, export_id: int):
    """The built workbook as an attachment named after the workshop; 404 once it has expired."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    export = _export_of(workshop, export_id)
    if not export.is_available:
        raise Http404
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=services.export_download_name(export),
        content_type=services.XLSX_CONTENT_TYPE,
    )


@login_required
@require_GET
@never_cache
def export_csv(request, workshop_id: int):
    """Every contribution as CSV for Excel: UTF-8 with BOM, semicolons, CRLF, headers in the user's language."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    response = StreamingHttpResponse(
        services.contributions_csv(workshop, language=_language(request)), content_type="text/csv; charset=utf-8"
    )
    filename = f"{slugify(workshop.title) or 'kehittamo'}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
