"""The live workshop pages: the participant's view, the facilitator's controls, and the JSON they post to.

Data changes arrive as HTTP POSTs (the browser sends JSON-accepting fetches;
without JavaScript the same forms post and redirect). A comment and a pairwise vote may
come over the page's socket instead (``consumers.LiveConsumer``), through the same code.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config import throttle
from facilitation import realtime, selectors, services
from facilitation.models import COMMENT_MAX_LENGTH, Phase
from facilitation.permissions import LiveViewer, live_viewer, require_live_facilitator
from facilitation.services import LiveError
from facilitation.writes import comment_body, int_or_none, write_comment
from workshops.models import Workshop


def wants_json(request) -> bool:
    """The page's script asks for JSON; a plain form post gets a page or a redirect."""
    return "application/json" in request.headers.get("Accept", "")


def _js_strings() -> dict[str, str]:
    return {
        "connection_connecting": _("Connecting…"),
        "connection_live": _("Live: updates appear by themselves."),
        "connection_reconnecting": _("Connection lost, reconnecting… You can keep typing: nothing you write is lost."),
        "connection_offline": _("You are offline. Keep typing: your text is sent when the connection returns."),
        "connection_polling": _("Live connection unavailable: the page updates every few seconds."),
        "connection_closed": _("The workshop has ended."),
        "oneMinute": _("One minute left."),
        "timeUp": _("Time is up."),
        "paused": _("paused"),
        "timerStarted": _("Timer started: %s left."),
        "sending": _("Sending…"),
        "sent": _("Sent."),
        "queued": _("Not sent yet: it is kept on this device and sent when the connection returns."),
        "refused": _("This could not be saved. Your text is kept."),
        "failed": _("Something went wrong. Please try again."),
        "offlineAction": _("No connection right now. Please try again in a moment."),
        "empty": _("Write something first."),
        "send": _("Send"),
        "discard": _("Discard"),
        "discardConfirm": _("Throw this text away for good?"),
        "deleteConfirm": _("Delete this comment for good? This cannot be undone."),
        "keptLabel": _("Unsent text"),
        "broadcastTitle": _("Message from the facilitator"),
        "hiddenBadge": _("Hidden from participants"),
        "closed": _("The workshop has ended. Thank you for taking part!"),
        "helpCalled": _("The facilitator has been called."),
        "helpComing": _("The facilitator is on the way."),
        "roomCalls": _("Room %s calls for the facilitator."),
        "summarySaved": _("Summary saved at %s."),
        "summaryOffline": _("Not saved yet: no connection. Keep writing; it is saved when the connection returns."),
    }


def _live_context(viewer: LiveViewer, page: selectors.LivePage, last_event: int, **extra) -> dict:
    return {
        "viewer": viewer,
        "workshop": viewer.workshop,
        "page": page,
        "last_event": last_event,
        "moderated_cases": ",".join(str(pk) for pk in sorted(viewer.presented_case_ids)),
        "shared_panel": selectors.sees_shared_panel(viewer),  # the page may show a pushed panel as it is
        "csrf_slot": realtime.csrf_slot(),
        "comment_max_length": COMMENT_MAX_LENGTH,
        "now": timezone.now(),
        "js_strings": _js_strings(),
        **extra,
    }


# Shared copies of a page part (the participants' panel, the facilitators' room overview) are rendered once
# for many browsers. The CSRF token is per browser, so a copy holds a placeholder (the same in every process,
# unguessable) that each answer fills in.
def _with_csrf(request, html: str) -> str:
    # Not user text (hence the nosec): the template's own output, escaped when rendered, with the token put in.
    return mark_safe(html.replace(realtime.csrf_slot(), get_token(request)))  # noqa: S308  # nosec B308, B703


def _read_placed(viewer: LiveViewer, *, shared: bool) -> selectors.LiveRead:
    """The page's read of the workshop (``selectors.live_read``); someone arriving during the small-group rounds
    goes straight into the smallest suitable room first, and the page reads again.

    The same read decides; only someone not yet placed takes the workshop's lock (every page load used to).
    """
    read = selectors.live_read(viewer, shared=shared)
    if read.unplaced:
        services.late_joiner_place(workshop=viewer.workshop, participant=viewer.participant)
        read = selectors.live_read(viewer, shared=shared)
    return read


def _render_live(request, viewer: LiveViewer, *, template: str, status: int = 200, **extra):
    limit = selectors.thread_limit(request.GET.get("show"))
    # A plain participant's panel comes from the copy they share, with their own marks put in, so that the page
    # is right without its script too. A refused write's page keeps the draft in a render of its own. The read
    # comes before the page's comments are: a change in between is sent again from ``read.last_event``.
    read = _read_placed(viewer, shared=not extra)
    state = read.state
    panel = None if extra else _shared_panel(request, viewer, limit, read=read)
    if panel is None:
        page = selectors.live_page(viewer, limit=limit, state=state)
    else:
        page = selectors.LivePage.bar_only(state, limit)
        mine, reactions = selectors.own_marks(viewer, state.current_phase_id)
        panel = mark_safe(realtime.mark_own(panel, mine, reactions))  # noqa: S308  # nosec B308, B703
    context = _live_context(viewer, page, read.last_event, panel_html=panel, **extra)
    return render(request, template, context, status=status)


@never_cache
@require_GET
def live(request, workshop_id: int):
    """The participant's live view: current phase, timer, broadcasts and comment threads."""
    viewer = live_viewer(request, workshop_id)
    if viewer.workshop.status != Workshop.Status.LIVE:
        return redirect("workshops:lobby", workshop_id=workshop_id)
    return _render_live(request, viewer, template="facilitation/live.html")


@never_cache
@require_GET
def panel(request, workshop_id: int):
    """The current phase's panel alone, fetched by the page when the phase changes."""
    viewer = live_viewer(request, workshop_id)
    read = _read_placed(viewer, shared=True)
    limit = selectors.thread_limit(request.GET.get("show"))
    html = _shared_panel(request, viewer, limit, read=read)
    if html is None:
        page = selectors.live_page(viewer, limit=limit, state=read.state)
        return render(request, "facilitation/partials/panel.html", _live_context(viewer, page, 0))
    return HttpResponse(html)


def _shared_panel(request, viewer: LiveViewer, limit: int, read: selectors.LiveRead) -> str | None:
    """The current phase's panel from the copy the viewer shares with others like them (rendered now if there is
    none yet), with this browser's CSRF token; None when the viewer's panel is their own. ``read``: the page's
    ``live_read``."""
    language = translation.get_language()
    copies = realtime.shared_panels(viewer, read, [language], limit=limit)
    return None if copies is None else _with_csrf(request, copies[language])


@never_cache
@require_GET
def threads(request, workshop_id: int, phase_id: int):
    """The comment lists of one phase, fetched after answers are revealed or when the page fell behind."""
    viewer = live_viewer(request, workshop_id)
    phase = selectors.phase_of_workshop(viewer, phase_id)
    if phase is None:
        raise Http404
    lists = {
        thread.key: render_to_string(
            "facilitation/partials/comment_list.html", {"thread": thread, "viewer": viewer}, request=request
        )
        for thread in selectors.threads_for(viewer, phase, selectors.thread_limit(request.GET.get("show")))
    }
    return JsonResponse({"threads": lists})


@never_cache
@require_GET
def events(request, workshop_id: int):
    """Events after ``?after=`` for catching up after a reconnect, and for pages polling without a socket."""
    viewer = live_viewer(request, workshop_id)
    after = int_or_none(request.GET.get("after")) or 0
    if request.GET.get("poll") and request.session.session_key:
        services.presence_touch(key=f"poll:{request.session.session_key}:{workshop_id}", viewer=viewer)
    return JsonResponse(selectors.catch_up(viewer, after, status=viewer.workshop.status))


def _error(request, viewer: LiveViewer, message: str, status: int = 400, **draft):
    """A refused write: JSON for the page's script; without it, the page again with the text kept."""
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return _render_live(request, viewer, template="facilitation/live.html", status=status, draft=draft)


def throttled(request, viewer: LiveViewer, action: str, *, room_id: int | None = None, **draft):
    """None while ``action`` (post, vote, summary, help) is within its rate limits; else the 429 answer.

    A refused text comes back: the page's script keeps it in its outbox and shows the message; without
    the script, the page is shown again with the text in its box. ``room_id`` counts an action in a room
    per room too.
    """
    retry_after = throttle.over_limit(
        action, request=request, workshop_id=viewer.workshop.pk, person=viewer.identity_key, room_id=room_id
    )
    if retry_after is None:
        return None
    if draft:
        response = _error(request, viewer, throttle.message(), status=429, **draft)
        response["Retry-After"] = str(retry_after)
        return response
    return throttle.refusal(request, retry_after, as_json=wants_json(request))


@require_POST
def comment_new(request, workshop_id: int):
    """Write a comment or a reply; a repeated ``client_id`` returns the stored one (200) instead of a copy.

    The page's script sends comments over its socket (``consumers.LiveConsumer``) and posts here when the
    socket gives no answer; without the script the composer's form posts here."""
    viewer = live_viewer(request, workshop_id)
    status, body = write_comment(viewer, request.POST, address=throttle.client_address(request))
    if wants_json(request):
        response = JsonResponse(body, status=status)
    elif status < 300:
        messages.success(request, _("Your comment was saved."))
        return redirect(f"{reverse('facilitation:live', args=[workshop_id])}#comment-{body['id']}")
    else:
        draft = {"thread": request.POST.get("thread", ""), "text": request.POST.get("text", "")}
        response = _error(request, viewer, body["error"], status=status, **draft)
    if "retry_after" in body:
        response["Retry-After"] = str(body["retry_after"])
    return response


def _comment_write(request, workshop_id: int, comment_id: int, action):
    viewer = live_viewer(request, workshop_id)
    try:
        comment = action(viewer)
    except LiveError as error:
        return _error(request, viewer, str(error), text=request.POST.get("text", ""))
    if wants_json(request):
        return JsonResponse(comment_body(viewer, comment))
    return redirect(f"{reverse('facilitation:live', args=[workshop_id])}#comment-{comment_id}")


@require_POST
def comment_edit(request, workshop_id: int, comment_id: int):
    """The author changes their comment while the workshop is live."""
    text = request.POST.get("text", "")
    if refused := throttled(request, live_viewer(request, workshop_id), "post", text=text):
        return refused
    return _comment_write(
        request,
        workshop_id,
        comment_id,
        lambda viewer: services.comment_update(viewer=viewer, comment_id=comment_id, text=text),
    )


@require_POST
def comment_delete(request, workshop_id: int, comment_id: int):
    """The author removes their comment (the page asks first)."""
    return _comment_write(
        request, workshop_id, comment_id, lambda viewer: services.comment_delete(viewer=viewer, comment_id=comment_id)
    )


@require_POST
def comment_hide(request, workshop_id: int, comment_id: int):
    """A facilitator or the case's presenter hides (or shows again) a comment."""
    service = services.comment_unhide if request.POST.get("action") == "unhide" else services.comment_hide
    return _comment_write(
        request, workshop_id, comment_id, lambda viewer: service(viewer=viewer, comment_id=comment_id)
    )


@require_POST
def comment_react(request, workshop_id: int, comment_id: int):
    """React once to a comment; the same reaction again takes it back."""
    viewer = live_viewer(request, workshop_id)
    if refused := throttled(request, viewer, "vote"):
        return refused
    try:
        comment, mine = services.reaction_toggle(
            viewer=viewer, comment_id=comment_id, kind=request.POST.get("kind", "")
        )
    except LiveError as error:
        return _error(request, viewer, str(error))
    if wants_json(request):
        counts = {"agree": comment.agree_count, "good_point": comment.good_point_count}
        return JsonResponse({"id": comment.pk, "counts": counts, "mine": mine})
    return redirect(f"{reverse('facilitation:live', args=[workshop_id])}#comment-{comment_id}")


# --- the facilitator's controls ------------------------------------------------------
@never_cache
@login_required
@require_GET
def control(request, workshop_id: int):
    """The facilitator's control view: phases, timer, broadcast, counts, and the live threads."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    stats = services.live_stats(workshop_id)
    return _render_live(request, viewer, template="facilitation/control.html", stats=stats)


def _seconds(request) -> int:
    minutes = int_or_none(request.POST.get("minutes")) or 0
    seconds = int_or_none(request.POST.get("seconds")) or 0
    if minutes < 0 or seconds < 0:
        raise LiveError(_("Give the time as whole minutes."))
    return minutes * 60 + seconds


def _participant_from_post(request, viewer: LiveViewer):
    participant = viewer.workshop.participants.filter(pk=int_or_none(request.POST.get("participant")) or 0).first()
    if participant is None:
        raise LiveError(_("That person is not in this workshop."))
    return participant


def _phase_from_post(request, viewer: LiveViewer) -> Phase:
    phase = selectors.phase_of_workshop(viewer, int_or_none(request.POST.get("phase")) or 0)
    if phase is None:
        raise LiveError(_("That phase is not on this workshop's agenda."))
    return phase


CONTROL_ACTIONS = {
    "start": lambda request, viewer: services.live_start(workshop=viewer.workshop, by=request.user),
    "next": lambda request, viewer: services.phase_go(workshop=viewer.workshop, offset=1),
    "previous": lambda request, viewer: services.phase_go(workshop=viewer.workshop, offset=-1),
    "goto": lambda request, viewer: services.phase_go(
        workshop=viewer.workshop, phase=_phase_from_post(request, viewer)
    ),
    "timer-start": lambda request, viewer: services.timer_start(workshop=viewer.workshop, seconds=_seconds(request)),
    "timer-pause": lambda request, viewer: services.timer_pause(workshop=viewer.workshop),
    "timer-resume": lambda request, viewer: services.timer_resume(workshop=viewer.workshop),
    "timer-extend": lambda request, viewer: services.timer_extend(workshop=viewer.workshop, seconds=_seconds(request)),
    "timer-clear": lambda request, viewer: services.timer_clear(workshop=viewer.workshop),
    "broadcast": lambda request, viewer: services.broadcast_send(
        workshop=viewer.workshop, text=request.POST.get("text", "")
    ),
    "broadcast-clear": lambda request, viewer: services.broadcast_send(workshop=viewer.workshop, text=""),
    "reveal": lambda request, viewer: services.phase_reveal(phase=_phase_from_post(request, viewer)),
    "close": lambda request, viewer: services.live_close(workshop=viewer.workshop, by=request.user),
    "round-start": lambda request, viewer: services.round_start(
        workshop=viewer.workshop, number=int_or_none(request.POST.get("round")) or 0
    ),
    "round-close": lambda request, viewer: services.round_close(workshop=viewer.workshop),
    "room-broadcast": lambda request, viewer: services.room_broadcast(
        workshop=viewer.workshop, room_id=int_or_none(request.POST.get("room")) or 0, text=request.POST.get("text", "")
    ),
    "help-clear": lambda request, viewer: services.room_help_clear(
        viewer=viewer, room_id=int_or_none(request.POST.get("room")) or 0
    ),
    "member-gone": lambda request, viewer: services.participant_leave(
        workshop=viewer.workshop, participant=_participant_from_post(request, viewer)
    ),
    "rebalance": lambda request, viewer: services.rounds_rebalance(workshop=viewer.workshop),
}
RETURN_TO = {"rooms": "facilitation:rooms_live", "controls": "facilitation:control"}


@never_cache
@login_required
def control_action(request, workshop_id: int, action: str):
    """One facilitator action (POST). Closing asks first: GET shows what closing means."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    if action not in CONTROL_ACTIONS:
        raise Http404
    if request.method == "GET" and action == "close":
        return render(request, "facilitation/close_confirm.html", {"workshop": viewer.workshop})
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    back = RETURN_TO.get(request.POST.get("return_to", ""), "facilitation:control")
    try:
        CONTROL_ACTIONS[action](request, viewer)
    except LiveError as error:
        if wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, str(error))
        return redirect(back, workshop_id=workshop_id)
    if wants_json(request):
        return JsonResponse({"ok": True})
    if action == "close":
        messages.success(request, _("The workshop is closed. Thank you!"))
        return redirect("workshops:manage", workshop_id=workshop_id)
    return redirect(back, workshop_id=workshop_id)


# --- small-group rooms ---------------------------------------------------------------
def _room_write(request, viewer: LiveViewer, service, **arguments):
    workshop_id = viewer.workshop.pk
    try:
        room = service(viewer=viewer, **arguments)
    except LiveError as error:
        if wants_json(request):
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, str(error))
        return redirect("facilitation:live", workshop_id=workshop_id)
    if wants_json(request):
        return JsonResponse({"room": room.pk, "saved": timezone.localtime(timezone.now()).strftime("%H:%M:%S")})
    return redirect("facilitation:live", workshop_id=workshop_id)


@require_POST
def room_summary(request, workshop_id: int, room_id: int):
    """The group leader's summary, saved as they write (the page posts it a moment after each pause).

    Over the rate limit the text comes back: the page's script keeps it and tries again later; without
    the script the page is shown again with the text in the summary's box.
    """
    viewer = live_viewer(request, workshop_id)
    text = request.POST.get("text", "")
    if refused := throttled(request, viewer, "summary", summary_room=room_id, text=text):
        return refused
    return _room_write(request, viewer, services.room_summary_save, room_id=room_id, text=text)


@require_POST
def room_help(request, workshop_id: int, room_id: int):
    """Call the facilitator to the room (a few times a minute at most, per person and per room)."""
    viewer = live_viewer(request, workshop_id)
    if refused := throttled(request, viewer, "help", room_id=room_id):
        return refused
    return _room_write(request, viewer, services.room_help_request, room_id=room_id)


# The overview is the same for every facilitator; while nothing happened in the workshop (no new event) and
# nobody came or went, the rendered HTML is reused by every facilitator and process.
OVERVIEW_CACHE_SECONDS = 30


def _rooms_overview_html(request, viewer: LiveViewer, round_, rounds: list, last_event: int) -> str:
    """The rooms overview fragment, rendered once per change of the workshop and shared by its facilitators."""
    connected = selectors.connected_participant_ids(viewer.workshop.pk)
    key = selectors.rooms_overview_key(viewer, round_, rounds, connected, translation.get_language(), last_event)
    html = cache.get(key)
    if html is None:
        context = {
            "workshop": viewer.workshop,
            "round": round_,
            "rounds": rounds,
            "rooms": selectors.rooms_overview(viewer.workshop, round_, connected=connected),
            "csrf_token": realtime.csrf_slot(),
        }
        html = render_to_string("facilitation/partials/rooms_overview.html", context)
        cache.set(key, html, OVERVIEW_CACHE_SECONDS)
    return _with_csrf(request, html)


@never_cache
@login_required
@require_GET
def rooms_live(request, workshop_id: int):
    """The facilitator's overview of every room in the running round, kept up to date by the page."""
    viewer = live_viewer(request, workshop_id)
    require_live_facilitator(viewer)
    rounds, round_ = selectors.workshop_rounds(viewer.workshop)
    if request.GET.get("fragment"):
        return HttpResponse(_rooms_overview_html(request, viewer, round_, rounds, selectors.last_event_id(viewer)))
    read = selectors.live_read(viewer)  # the bar's timer and broadcast; no phase's panel on this page
    overview = _rooms_overview_html(request, viewer, round_, rounds, read.last_event)
    context = {"viewer": viewer, "workshop": viewer.workshop, "round": round_, "rounds": rounds, "overview": overview}
    page = selectors.LivePage.bar_only(read.state)
    return render(request, "facilitation/rooms_live.html", {**_live_context(viewer, page, read.last_event), **context})


@never_cache
@require_GET
def summaries(request, workshop_id: int):
    """The plenary view: each room's summary per case, side by side."""
    viewer = live_viewer(request, workshop_id)
    return render(
        request,
        "facilitation/summaries.html",
        {"workshop": viewer.workshop, "summaries": selectors.summaries_by_case(viewer.workshop)},
    )
