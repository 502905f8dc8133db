"""The idea collection over HTTP: sending ideas, the facilitators' moderation, and team sizes.

The page's script posts with ``Accept: application/json`` and gets JSON (errors
as ``{"error": ...}`` with 400); a plain form post gets a redirect back with a
message, or the page again with the typed text kept.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facilitation import services
from facilitation.models import Idea
from facilitation.permissions import LiveViewer, live_viewer, require_live_facilitator
from facilitation.selectors_ideas import with_merged_count
from facilitation.services import LiveError
from facilitation.views import _error, throttled, wants_json
from facilitation.writes import CHECKED, int_or_none


def _back(viewer: LiveViewer, idea_id: int | None = None):
    """Facilitators return to their controls, everyone else to the live page."""
    name = "facilitation:control" if viewer.is_staff else "facilitation:live"
    anchor = f"#idea-{idea_id}" if idea_id else ""
    return redirect(reverse(name, args=[viewer.workshop.pk]) + anchor)


def _idea_json(request, viewer: LiveViewer, idea: Idea, status: int = 200, **extra) -> JsonResponse:
    idea.mine = idea.is_by(participant=viewer.participant, user=viewer.user)
    if not hasattr(idea, "merged_count"):
        with_merged_count(idea)
    html = render_to_string("facilitation/partials/idea.html", {"idea": idea, "viewer": viewer}, request)
    body = {"id": idea.pk, "dom_id": f"idea-{idea.pk}", "thread": f"i{idea.phase_id}", "phase": idea.phase_id}
    return JsonResponse({**body, "html": html, **extra}, status=status)


def _refused(request, viewer: LiveViewer, message: str, idea_id: int | None = None):
    if wants_json(request):
        return JsonResponse({"error": message}, status=400)
    messages.error(request, message)
    return _back(viewer, idea_id)


@require_POST
def idea_new(request, workshop_id: int):
    """Send an idea; a repeated ``client_id`` returns the stored one (200) instead of a copy."""
    viewer = live_viewer(request, workshop_id)
    text = request.POST.get("text", "")
    thread = request.POST.get("thread", "")
    if refused := throttled(request, viewer, "post", thread=thread, text=text):
        return refused
    try:
        client_id = uuid.UUID(request.POST.get("client_id") or str(uuid.uuid4()))
    except ValueError:
        message = _("This idea could not be saved. Please reload the page.")
        return _error(request, viewer, message, thread=thread, text=text)
    try:
        idea, created = services.idea_create(
            viewer=viewer,
            phase_id=int_or_none(request.POST.get("phase")) or 0,
            text=text,
            anonymous=request.POST.get("anonymous") in CHECKED,
            can_run=request.POST.get("can_run") in CHECKED,
            client_id=client_id,
            language=getattr(request, "LANGUAGE_CODE", "fi"),
        )
    except LiveError as error:
        return _error(request, viewer, str(error), thread=thread, text=text)
    if wants_json(request):
        return _idea_json(request, viewer, idea, status=201 if created else 200)
    messages.success(request, _("Your idea was saved."))
    return redirect(f"{reverse('facilitation:live', args=[workshop_id])}#idea-{idea.pk}")


def _moderate(request, workshop_id: int, idea_id: int, action):
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    try:
        idea = action(viewer)
    except LiveError as error:
        return _refused(request, viewer, str(error), idea_id)
    if wants_json(request):
        return _idea_json(request, viewer, idea)
    return _back(viewer, idea.pk)


@require_POST
def idea_hide(request, workshop_id: int, idea_id: int):
    """A facilitator hides an idea from the participants (``action=unhide`` shows it again)."""
    service = services.idea_unhide if request.POST.get("action") == "unhide" else services.idea_hide
    return _moderate(request, workshop_id, idea_id, lambda viewer: service(viewer=viewer, idea_id=idea_id))


@require_POST
def idea_edit(request, workshop_id: int, idea_id: int):
    """A facilitator corrects an idea's typos; the idea shows "edited by moderator"."""
    text = request.POST.get("text", "")
    return _moderate(
        request,
        workshop_id,
        idea_id,
        lambda viewer: services.idea_moderate(viewer=viewer, idea_id=idea_id, text=text),
    )


@require_POST
def idea_merge(request, workshop_id: int, idea_id: int | None = None):
    """A facilitator merges a duplicate into another idea, after ticking the box that says it cannot be undone."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    idea_id = idea_id or int_or_none(request.POST.get("idea"))
    into_id = int_or_none(request.POST.get("into"))
    if not idea_id or not into_id:
        return _refused(request, viewer, _("Choose the duplicate idea and the idea it duplicates."))
    if request.POST.get("confirm") not in CHECKED:
        return _refused(request, viewer, _("Merging cannot be undone: tick the box to confirm it."), idea_id)
    try:
        into = services.idea_merge(viewer=viewer, idea_id=idea_id, into_id=into_id)
    except LiveError as error:
        return _refused(request, viewer, str(error), idea_id)
    if wants_json(request):
        return _idea_json(request, viewer, into, merged=idea_id)
    messages.success(request, _("The ideas were merged."))
    return _back(viewer, into.pk)


@require_POST
def team_size(request, workshop_id: int):
    """A participant says how many people share their screen."""
    viewer = live_viewer(request, workshop_id)
    try:
        participant = services.team_size_set(viewer=viewer, size=request.POST.get("size", ""))
    except LiveError as error:
        return _refused(request, viewer, str(error))
    size = participant.team_size
    alone = size == 1
    message = _("Saved: one person on this screen.") if alone else _("You are a team of %(size)s.") % {"size": size}
    if wants_json(request):
        return JsonResponse({"size": size, "message": message})
    messages.success(request, message)
    return _back(viewer)
