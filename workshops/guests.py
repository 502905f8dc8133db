"""Guest identity kept in the session: one participant per workshop, across reloads."""

from __future__ import annotations

from workshops.models import Participant

SESSION_KEY = "kehittamo_participants"


def guest_login(request, participant: Participant) -> None:
    """Remember in the session that this browser is ``participant`` in their workshop."""
    memberships = dict(request.session.get(SESSION_KEY, {}))
    if not memberships and not request.user.is_authenticated:
        # A fresh identity gets a fresh session key (no session fixation).
        request.session.cycle_key()
    memberships[str(participant.workshop_id)] = participant.pk
    request.session[SESSION_KEY] = memberships


def guest_participant_id(request, workshop_id: int) -> int | None:
    return request.session.get(SESSION_KEY, {}).get(str(workshop_id))


def guest_participant_ids(request) -> list[int]:
    return list(request.session.get(SESSION_KEY, {}).values())
