from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from config import throttle
from facilitation.selectors_feedback import lobby_feedback
from workshops import selectors
from workshops.guests import guest_entries, guest_login
from workshops.permissions import workshop_for_viewer
from workshops.services import participant_join_by_token

PAGE_SIZE = 25


def home(request):
    """Landing page: the signed-in user's workshops, the guest's workshops, or an introduction."""
    page = None
    if request.user.is_authenticated:
        paginator = Paginator(selectors.workshops_for_user(request.user), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    participations = selectors.participations_for_guest(list(guest_entries(request).values()))
    return render(request, "workshops/home.html", {"page": page, "participations": participations})


@never_cache
def join(request, token: str):
    """Exchange a personal invitation token for a guest session, then drop the token from the URL.

    Links that lead nowhere count against the client address's joins (like joins by code): guessing
    tokens meets the friendly 429, while real links always work, also from a hall behind one address."""
    participant = participant_join_by_token(token=token)
    if participant is None:
        if retry_after := throttle.over_limit("join", request=request, scopes=("address",)):
            return throttle.refusal(request, retry_after, as_json=False)
        return render(request, "workshops/join_invalid.html", status=404)
    guest_login(request, participant)
    return redirect("workshops:lobby", workshop_id=participant.workshop_id)


def lobby(request, workshop_id: int):
    """The workshop's lobby: date, agenda, cases and the viewer's own role; the live view once it runs."""
    access = workshop_for_viewer(request, workshop_id)
    if access.workshop.status == access.workshop.Status.LIVE:
        return redirect("facilitation:live", workshop_id=workshop_id)
    context = {"access": access, "workshop": access.workshop, "feedback": lobby_feedback(request, access)}
    return render(request, "workshops/lobby.html", context)
