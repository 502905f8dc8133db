"""Data protection pages: the privacy notice, the accessibility statement, a participant's own data, erasure."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from privacy import exports, selectors, services
from workshops.models import Participant
from workshops.permissions import workshop_for_facilitator, workshop_for_viewer

EXPORT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _controller() -> dict:
    return {
        "name": settings.KEHITTAMO_CONTROLLER_NAME,
        "address": settings.KEHITTAMO_CONTROLLER_ADDRESS,
        "email": settings.KEHITTAMO_PRIVACY_EMAIL,
        "dpo_email": settings.KEHITTAMO_DPO_EMAIL,
        "accessibility_email": settings.KEHITTAMO_ACCESSIBILITY_EMAIL,
        "retention_days": settings.KEHITTAMO_RETENTION_DAYS,
        "data_protection_authority": settings.KEHITTAMO_DATA_PROTECTION_AUTHORITY,
        "accessibility_authority": settings.KEHITTAMO_ACCESSIBILITY_AUTHORITY,
        "statement_date": settings.KEHITTAMO_ACCESSIBILITY_STATEMENT_DATE,
    }


@require_GET
def privacy_notice(request):
    """The privacy notice (tietosuojaseloste): what is processed, why, how long, and the person's rights."""
    return render(request, "privacy/notice.html", {"controller": _controller()})


@require_GET
def accessibility_statement(request):
    """The accessibility statement (saavutettavuusseloste) with its feedback channel and the supervisory authority."""
    return render(request, "privacy/accessibility.html", {"controller": _controller()})


def _own_participant(request, workshop_id: int) -> Participant:
    """The viewer's own participant row in the workshop (guest link or account); anyone else gets 404."""
    access = workshop_for_viewer(request, workshop_id)
    if access.participant is None:
        raise Http404
    return access.participant


@never_cache
@require_GET
def my_data(request, workshop_id: int):
    """What the platform holds about the viewer in this workshop, with the download and the deletion request."""
    participant = _own_participant(request, workshop_id)
    return render(request, "privacy/my_data.html", {"data": selectors.participant_data(participant)})


@never_cache
@require_GET
def my_data_export(request, workshop_id: int):
    """The viewer's own data as a JSON download."""
    participant = _own_participant(request, workshop_id)
    return _download(selectors.participant_data(participant), "json", own=True)


@never_cache
@require_http_methods(["GET", "POST"])
def my_data_delete(request, workshop_id: int):
    """Ask for one's personal data to be deleted: a confirmation page first, then the recorded request."""
    participant = _own_participant(request, workshop_id)
    if request.method == "POST":
        services.deletion_request_create(participant=participant)
        messages.success(request, _("Your request was recorded. The organisers will delete your personal data."))
        return redirect("privacy:my_data", workshop_id=workshop_id)
    return render(request, "privacy/my_data_delete.html", {"data": selectors.participant_data(participant)})


@login_required
@never_cache
@require_GET
def workshop_privacy(request, workshop_id: int):
    """For facilitators: the workshop's erasures, the participants' deletion requests and per-person tools."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    context = {"workshop": workshop, **selectors.workshop_privacy_overview(workshop)}
    context["can_erase"] = workshop.status in services.ERASABLE_STATUSES
    context["retention_days"] = settings.KEHITTAMO_RETENTION_DAYS
    return render(request, "privacy/workshop.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def workshop_erase(request, workshop_id: int):
    """Erase the workshop's personal data after a confirmation page that says what cannot be undone."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if request.method == "POST":
        try:
            services.workshop_erase_personal_data(workshop=workshop, by=request.user)
        except services.ErasureError as error:
            messages.error(request, str(error))
            return redirect("privacy:workshop", workshop_id=workshop_id)
        messages.success(request, _("The workshop's personal data was erased."))
        return redirect("privacy:workshop", workshop_id=workshop_id)
    context = {
        "workshop": workshop,
        "can_erase": workshop.status in services.ERASABLE_STATUSES,
        "participant_count": workshop.participants.count(),
        "export_count": workshop.exports.count(),
    }
    return render(request, "privacy/workshop_erase.html", context)


def _participant_of(workshop, participant_id: int) -> Participant:
    return get_object_or_404(Participant.objects.select_related("workshop"), pk=participant_id, workshop=workshop)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def participant_erase(request, workshop_id: int, participant_id: int):
    """Erase one participant's personal data (e.g. on their request) after a confirmation page."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    participant = _participant_of(workshop, participant_id)
    if request.method == "POST":
        services.participant_erase_personal_data(participant=participant, by=request.user)
        messages.success(request, _("The participant's personal data was erased."))
        return redirect("privacy:workshop", workshop_id=workshop_id)
    return render(request, "privacy/participant_erase.html", {"workshop": workshop, "participant": participant})


@login_required
@never_cache
@require_GET
def participant_export(request, workshop_id: int, participant_id: int, kind: str):
    """One participant's data as a JSON or Excel download, for answering a data subject's access request."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if kind not in EXPORT_TYPES:
        raise Http404
    participant = _participant_of(workshop, participant_id)
    return _download(selectors.participant_data(participant), kind)


def _download(data: selectors.ParticipantData, kind: str, *, own: bool = False) -> HttpResponse:
    body = exports.participant_data_json(data, own=own) if kind == "json" else exports.participant_data_xlsx(data)
    response = HttpResponse(body, content_type=EXPORT_TYPES[kind])
    name = slugify(data.participant.name) or "participant"
    response["Content-Disposition"] = f'attachment; filename="{name}-{data.participant.pk}.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
