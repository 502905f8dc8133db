"""Joining an open event with the short join code, and the facilitator's screen that shows it."""

from __future__ import annotations

import io
from functools import partial

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config import throttle
from config.errors import bad_request
from facilitation.forms_join import NAME_MAX_LENGTH, JoinCodeForm
from facilitation.services import (
    TEAM_SIZE_MAX,
    LiveError,
    join_code_set,
    live_for_join_code,
    live_state,
    participant_join_by_code,
    participant_team_size_set,
)
from workshops.guests import guest_login, guest_participant
from workshops.models import Participant
from workshops.permissions import workshop_for_facilitator

# Wrong codes allowed per client address in one window; then every POST gets 429 until it passes.
FAILED_ATTEMPTS_LIMIT = 30
FAILED_ATTEMPTS_WINDOW = 10 * 60  # seconds


# --- throttling (config/throttle.py counts) -----------------------------------------------
def _failures_key(request) -> str:
    return f"join-code-failures:{throttle.client_address(request)}"


def _throttled(request) -> bool:
    return throttle.hits(_failures_key(request)) >= FAILED_ATTEMPTS_LIMIT


def _count_failure(request) -> None:
    """One more wrong code from this address; the window runs from its first failure."""
    throttle.count(_failures_key(request), FAILED_ATTEMPTS_WINDOW)


def _refused(request, retry_after: int):
    """429 as the join form again, with what the person typed kept and a note to wait (not a bare error page)."""
    typed = request.POST
    team_size = typed.get("team_size", "")
    initial = {
        "code": typed.get("code", "")[:20],
        "name": typed.get("name", "")[:NAME_MAX_LENGTH],
        "team_size": int(team_size) if team_size.isdigit() and 1 <= int(team_size) <= TEAM_SIZE_MAX else 1,
    }
    context = {
        "form": JoinCodeForm(initial=initial),
        "refused": _(
            "Too many people tried to join from here in a short time. Wait a moment and press Join "
            "again: what you typed is kept."
        ),
    }
    response = render(request, "facilitation/join_code.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# --- guests ------------------------------------------------------------------------
def _joined_already(request, workshop_id: int) -> bool:
    """This browser (or this account) already is a participant of the workshop.

    A browser whose way in no longer holds (link revoked, data erased) is not: it may join anew."""
    if guest_participant(request, workshop_id) is not None:
        return True
    return (
        request.user.is_authenticated
        and Participant.objects.filter(user=request.user, workshop_id=workshop_id).exists()
    )


@never_cache
@require_http_methods(["GET", "POST"])
def join_code(request, code: str = ""):
    """Guests join an open event with the code and a name; a browser that joined before goes straight in."""
    joined_already = partial(_joined_already, request)
    if request.method == "POST":
        if _throttled(request):
            return _refused(request, FAILED_ATTEMPTS_WINDOW)
        if retry_after := throttle.over_limit("join", request=request, scopes=("address",)):
            return _refused(request, retry_after)
        form = JoinCodeForm(request.POST, joined_already=joined_already)
        if form.is_valid():
            live = form.live
            if form.is_member:
                return redirect("workshops:lobby", workshop_id=live.workshop_id)
            if retry_after := throttle.over_limit(
                "join", request=request, workshop_id=live.workshop_id, scopes=("workshop",)
            ):
                return _refused(request, retry_after)
            try:
                with transaction.atomic():
                    participant = participant_join_by_code(live=live, name=form.cleaned_data["name"])
                    if form.cleaned_data["team_size"] > 1:
                        participant_team_size_set(participant=participant, size=form.cleaned_data["team_size"])
            except LiveError as error:
                form.add_error("name", str(error))
            else:
                guest_login(request, participant)
                return redirect("workshops:lobby", workshop_id=live.workshop_id)
        elif form.code_failed:
            _count_failure(request)
    else:
        code = code or request.GET.get("code", "")
        if code:
            # Only someone already inside learns anything here: a guess just shows the form.
            live = live_for_join_code(code)
            if live is not None and joined_already(live.workshop_id):
                return redirect("workshops:lobby", workshop_id=live.workshop_id)
        form = JoinCodeForm(initial={"code": code[:20]})
    return render(request, "facilitation/join_code.html", {"form": form})


# --- the facilitator's side --------------------------------------------------------
def _join_address() -> str:
    return settings.KEHITTAMO_SITE_URL + reverse("facilitation:join_code")


def _prefilled_address(code: str) -> str:
    return settings.KEHITTAMO_SITE_URL + reverse("facilitation:join_code_prefilled", kwargs={"code": code})


@login_required
@never_cache
def join_screen(request, workshop_id: int):
    """Switch the join code on or off, and show it large with its QR code for projecting."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    live = live_state(workshop)
    code = live.join_code if live.join_code_enabled else None
    context = {
        "workshop": workshop,
        "live": live,
        "code": code,
        "code_display": f"{code[:3]} {code[3:]}" if code else "",
        "code_works": bool(code) and live_for_join_code(code) is not None,
        # The address people type: without "https://", which every browser adds by itself.
        "join_address_display": _join_address().split("://", 1)[-1],
    }
    return render(request, "facilitation/join_screen.html", context)


@login_required
@require_POST
def join_code_toggle(request, workshop_id: int):
    """``action`` on, off or renew; a renewed code works at once and the old one no longer does."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    action = request.POST.get("action")
    if action == "on":
        join_code_set(workshop=workshop, enabled=True)
        messages.success(request, _("The join code is on. Anyone with the code can join."))
    elif action == "off":
        join_code_set(workshop=workshop, enabled=False)
        messages.success(request, _("The join code is off. Nobody can join with it now."))
    elif action == "renew":
        join_code_set(workshop=workshop, enabled=True, renew=True)
        messages.success(request, _("A new join code was made. The old one no longer works."))
    else:
        return bad_request(request)
    return redirect("facilitation:join_screen", workshop_id=workshop.pk)


@login_required
@never_cache
def join_qr(request, workshop_id: int):
    """An SVG QR code of the join page with the code filled in; 404 while the code is off."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    live = live_state(workshop)
    if not (live.join_code_enabled and live.join_code):
        raise Http404
    buffer = io.BytesIO()
    segno.make(_prefilled_address(live.join_code), error="m").save(
        buffer, kind="svg", scale=10, border=4, dark="#000", light="#fff", xmldecl=False, svgclass=None, lineclass=None
    )
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
