"""Voting on the live page: pairs, dots, ratings, and the facilitator's switch for showing the results.

The page's script posts with ``Accept: application/json`` and gets the next
pair or the new counts as JSON; without JavaScript the same forms post and
redirect back to the page, which shows the waiting pair.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config import throttle
from facilitation import selectors, services
from facilitation.permissions import LiveViewer, live_viewer, require_live_facilitator
from facilitation.selectors_voting import VotingView, duel_message, ranking_for, ranking_payload, turn_payload
from facilitation.services import LiveError
from facilitation.services.voting import DuelTurn
from facilitation.tasks import RANKING_CACHE_SECONDS, ranking_cache_key
from facilitation.views import throttled, wants_json
from facilitation.writes import int_or_none, take_turn


def _back(request, viewer: LiveViewer):
    """Back to the page the form was on (the live page or the facilitator's controls)."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and urlsplit(referer).path.startswith("/"):
        # Not redirect(): it would take a referer without a slash ("S") for a view's name to reverse.
        return HttpResponseRedirect(referer)
    return redirect(reverse("facilitation:live", args=[viewer.workshop.pk]))


def _refused(request, viewer: LiveViewer, error: LiveError | str, status: int = 400):
    if wants_json(request):
        return JsonResponse({"error": str(error)}, status=status)
    messages.error(request, str(error))
    return _back(request, viewer)


def _phase_or_404(viewer: LiveViewer, phase_id: int):
    phase = selectors.phase_of_workshop(viewer, phase_id)
    if phase is None:
        raise Http404
    return phase


def _turn_json(request, viewer: LiveViewer, phase, turn: DuelTurn) -> JsonResponse:
    """The next pair for the page's script: ids and texts to put on the buttons, and the panel's duel part."""
    body = turn_payload(turn)
    if turn.duel is not None and request.POST.get("has_form") == "1":
        return JsonResponse(body)  # the page only changes the texts on its buttons
    # The duel part of the panel, for a page that shows no pair yet (or none any more); no extra queries.
    view = VotingView(
        phase=phase, method=phase.voting, source=None, can_vote=True, duel=turn.duel, compared=turn.compared
    )
    body["html"] = render_to_string(
        "facilitation/partials/voting_duel.html",
        {"vv": view, "viewer": viewer, "workshop": viewer.workshop, "done_message": body["message"]},
        request=request,
    )
    return JsonResponse(body)


def _duel_turn(request, workshop_id: int, phase_id: int, service, *, counts: bool = True, **arguments):
    viewer = live_viewer(request, workshop_id)
    outcome = take_turn(viewer, phase_id, service, request=request, counts=counts, **arguments)
    if outcome.status == 429:
        return throttle.refusal(request, outcome.retry_after, as_json=wants_json(request))
    if outcome.status == 404:
        raise Http404
    if outcome.status != 200:
        return _refused(request, viewer, outcome.error)
    turn = outcome.turn
    if wants_json(request):
        return _turn_json(request, viewer, turn.phase, turn)
    if turn.done:
        messages.info(request, duel_message(turn))
    return _back(request, viewer)


@require_POST
def vote_next(request, workshop_id: int, phase_id: int):
    """Ask for a pair: the one waiting for an answer, or a new one."""
    return _duel_turn(request, workshop_id, phase_id, services.duel_next, counts=False)


@require_POST
def vote_duel(request, workshop_id: int, phase_id: int):
    """Answer a pair (left, right or skip); a second post for the same pair changes nothing."""
    return _duel_turn(
        request,
        workshop_id,
        phase_id,
        services.duel_answer,
        duel_id=int_or_none(request.POST.get("duel")) or 0,
        choice=request.POST.get("choice", ""),
    )


@require_POST
def vote_dot(request, workshop_id: int, phase_id: int):
    """Place a dot on an idea (``action=add``) or take one back (``action=remove``)."""
    viewer = live_viewer(request, workshop_id)
    phase = _phase_or_404(viewer, phase_id)
    if refused := throttled(request, viewer, "vote"):
        return refused
    try:
        state = services.dot_change(
            viewer=viewer,
            phase_id=phase.pk,
            idea_id=int_or_none(request.POST.get("idea")) or 0,
            add=request.POST.get("action") != "remove",
        )
    except LiveError as error:
        return _refused(request, viewer, error)
    if wants_json(request):
        return JsonResponse(
            {
                "idea": state.idea_id,
                "dots": state.dots,
                "used": state.used,
                "budget": state.budget,
                "left": state.left,
                "dots_text": ngettext("%(count)s dot", "%(count)s dots", state.dots) % {"count": state.dots},
                "budget_text": ngettext(
                    "You have %(left)s dot left of %(budget)s.",
                    "You have %(left)s dots left of %(budget)s.",
                    state.left,
                )
                % {"left": state.left, "budget": state.budget},
            }
        )
    return _back(request, viewer)


@require_POST
def vote_rating(request, workshop_id: int, phase_id: int):
    """Rate an idea from 1 to 5 (or change the rating)."""
    viewer = live_viewer(request, workshop_id)
    phase = _phase_or_404(viewer, phase_id)
    if refused := throttled(request, viewer, "vote"):
        return refused
    try:
        ballot = services.rating_set(
            viewer=viewer,
            phase_id=phase.pk,
            idea_id=int_or_none(request.POST.get("idea")) or 0,
            value=request.POST.get("value"),
        )
    except LiveError as error:
        return _refused(request, viewer, error)
    if wants_json(request):
        return JsonResponse({"idea": ballot.idea_id, "value": ballot.value, "message": _("Rating saved.")})
    messages.success(request, _("Rating saved."))
    return _back(request, viewer)


@require_POST
def results_toggle(request, workshop_id: int, phase_id: int):
    """The facilitator shows the current ranking to the participants (``action=open``) or hides it."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    phase = _phase_or_404(viewer, phase_id)
    try:
        phase = services.results_show(viewer=viewer, phase_id=phase.pk, show=request.POST.get("action") == "open")
    except LiveError as error:
        return _refused(request, viewer, error)
    if wants_json(request):
        return JsonResponse({"phase": phase.pk, "open": phase.results_open_at is not None})
    return _back(request, viewer)


@never_cache
@require_GET
def results_ranking(request, workshop_id: int, phase_id: int):
    """The phase's ranking as JSON (the top ideas): for facilitators, and for everyone while the results are open.

    Pages without a live connection poll this; the payload is the one the last push
    carried, or a fresh one, kept for two seconds.
    """
    viewer = live_viewer(request, workshop_id)
    phase = _phase_or_404(viewer, phase_id)
    if not phase.prioritises:
        raise Http404
    if not viewer.is_staff and phase.results_open_at is None:
        raise PermissionDenied
    payload = cache.get(ranking_cache_key(phase.pk))
    if payload is None:
        payload = ranking_payload(ranking_for(phase))
        cache.set(ranking_cache_key(phase.pk), payload, RANKING_CACHE_SECONDS)
    return JsonResponse(payload)
