"""The big screen: results shown large on a projector or a live stream, for the facilitator.

The page connects like the live page (live.js: socket, catch-up, polling) and
``static/js/bigscreen.js`` keeps the figures and the ranking up to date from
the pushes ("ranking", "phase", "stats", "idea.*"), fetching ``data.json``
again after a reconnect, on a phase change and while it has to poll.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db.models import Count, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from facilitation import selectors, selectors_voting
from facilitation.models import Idea, LiveState, Phase, Presence
from facilitation.permissions import LiveViewer, live_viewer, require_live_facilitator
from facilitation.services.common import PRESENCE_WINDOW
from facilitation.tasks import ranking_cache_key
from facilitation.views import _js_strings
from workshops.guests import guest_participant_ids
from workshops.models import Participant

TOP = 10  # ideas on the screen: more would not be readable from the back of a hall
NEWEST_IDEAS = 6


# --- reads -----------------------------------------------------------------------------
def _live(workshop_id: int) -> LiveState | None:
    return LiveState.objects.select_related("current_phase").filter(pk=workshop_id).first()


def _presence(workshop_id: int) -> dict:
    """Participants with the page open now, and the people behind them (a team on one screen counts N)."""
    present = Presence.objects.filter(
        workshop_id=workshop_id, seen_at__gte=timezone.now() - PRESENCE_WINDOW, participant__isnull=False
    ).values("participant")
    counts = Participant.objects.filter(workshop_id=workshop_id, pk__in=present).aggregate(
        connected=Count("pk"), people=Sum("team_size")
    )
    return {"connected": counts["connected"], "people": counts["people"] or 0}


def _join(live: LiveState | None, workshop_id: int) -> dict | None:
    if live is None or not (live.join_code_enabled and live.join_code):
        return None
    code = live.join_code
    address = settings.KEHITTAMO_SITE_URL + reverse("facilitation:join_code")
    return {
        "code": code,
        "code_display": f"{code[:3]} {code[3:]}",
        # The address people type: without "https://", which every browser adds by itself.
        "address": address.split("://", 1)[-1],
        "qr_url": f"{reverse('facilitation:join_qr', args=[workshop_id])}?code={code}",
    }


def _ranking(phase: Phase) -> dict:
    """The ranking as pushed in "ranking" events (``selectors_voting.ranking_payload``), top ``TOP``.

    The payload of the latest push is kept for two seconds (``facilitation.tasks``); many screens
    resyncing at once after a reconnect then share it instead of each computing the ranking.
    """
    payload = cache.get(ranking_cache_key(phase.pk))
    if payload is None:
        payload = selectors_voting.ranking_payload(selectors_voting.ranking_for(phase), top=TOP)
    return {**payload, "top": payload["top"][:TOP]}


def need_votes(ranking: dict | None) -> int:
    """Ideas not ranked yet for want of comparisons (the payload gives a count or the list)."""
    unranked = (ranking or {}).get("unranked") or 0
    return len(unranked) if isinstance(unranked, list | tuple) else int(unranked)


def _ideas(phase: Phase) -> dict:
    """How many ideas the collection has; the newest ones only when everyone may see them."""
    active = Idea.objects.filter(phase=phase, hidden_at__isnull=True, merged_into__isnull=True)
    newest = []
    if phase.ideas_public:
        newest = [
            {"id": pk, "text": text}
            for pk, text in active.order_by("-created_at", "-id").values_list("pk", "text")[:NEWEST_IDEAS]
        ]
    return {"phase": phase.pk, "count": active.count(), "public": phase.ideas_public, "newest": newest}


def bigscreen_data(viewer: LiveViewer, live: LiveState | None) -> dict:
    """Everything the big screen shows, JSON-safe; the query count does not grow with ideas or votes."""
    workshop = viewer.workshop
    phase = live.current_phase if live else None
    data = {
        "status": workshop.status,
        "phase": {"id": phase.pk, "title": phase.title, "kind": phase.kind} if phase else None,
        "stats": _presence(workshop.pk),
        "join": _join(live, workshop.pk),
        "ranking": None,
        "ideas": None,
        "need_votes": 0,
    }
    if phase is not None and phase.kind == Phase.Kind.PRIORITISATION:
        data["ranking"] = _ranking(phase)
        data["need_votes"] = need_votes(data["ranking"])
    elif phase is not None and phase.kind == Phase.Kind.IDEAS:
        data["ideas"] = _ideas(phase)
    return data


def _ranked_top(ranking: dict | None) -> list[dict]:
    if not ranking:
        return []
    return [item for item in ranking.get("top", []) if item.get("rank") is not None][:TOP]


def _strings() -> dict:
    return {
        "needVotesOne": ngettext("%(counter)s idea still needs votes", "%(counter)s ideas still need votes", 1),
        "needVotesOther": ngettext("%(counter)s idea still needs votes", "%(counter)s ideas still need votes", 2),
        "ideasOne": ngettext("%(counter)s idea", "%(counter)s ideas", 1),
        "ideasOther": ngettext("%(counter)s idea", "%(counter)s ideas", 2),
        "leader": _("Now in first place: %(text)s"),
        "phase": _("Now: %(title)s"),
        "score": _("score"),
        "qrAlt": _("QR code that opens the join page with the code %(code)s filled in"),
        "fullscreen": _("Full screen"),
        "fullscreenExit": _("Leave full screen"),
    }


def _facilitator(request, workshop_id: int) -> LiveViewer:
    """The facilitator's viewer; participants 403, outsiders 404."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    return viewer


# --- views -----------------------------------------------------------------------------
@never_cache
@require_GET
def bigscreen(request, workshop_id: int):
    """The full-screen results view; a browser that is nobody yet is sent to sign in first."""
    try:
        viewer = _facilitator(request, workshop_id)
    except Http404:
        if not request.user.is_authenticated and not guest_participant_ids(request):
            return redirect_to_login(request.get_full_path())
        raise
    last_event = selectors.last_event_id(viewer)  # before reading: a change in between is sent again
    live = _live(workshop_id)
    data = bigscreen_data(viewer, live)
    context = {
        "viewer": viewer,
        "workshop": viewer.workshop,
        "page": {"live": live},
        "last_event": last_event,
        "moderated_cases": "",
        "now": timezone.now(),
        "js_strings": _js_strings(),
        "bigscreen_strings": _strings(),
        "data": data,
        "top": _ranked_top(data["ranking"]),
    }
    return render(request, "facilitation/bigscreen.html", context)


@never_cache
@require_GET
def bigscreen_data_json(request, workshop_id: int):
    """The big screen's figures now, for a resync after a reconnect and for polling without a socket."""
    viewer = _facilitator(request, workshop_id)
    return JsonResponse(bigscreen_data(viewer, _live(workshop_id)))
