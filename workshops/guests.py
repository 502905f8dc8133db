"""Guest identity kept in the session: one participant per workshop, across reloads.

Each workshop's entry is ``[participant id, access version]``. The version is the participant's
``access_version`` when this browser came in; revoking their link or erasing their data raises it, so
a browser that joined before then is shut out, also after a new link is issued to the same person.
"""

from __future__ import annotations

from workshops.models import Participant

SESSION_KEY = "kehittamo_participants"


def session_entry(participant: Participant) -> list[int]:
    """What the session stores for ``participant`` (also used by the load tests' seeded sessions)."""
    return [participant.pk, participant.access_version]


def guest_login(request, participant: Participant) -> None:
    """Remember in the session that this browser is ``participant`` in their workshop."""
    memberships = dict(request.session.get(SESSION_KEY, {}))
    if not memberships and not request.user.is_authenticated:
        # A fresh identity gets a fresh session key (no session fixation).
        request.session.cycle_key()
    memberships[str(participant.workshop_id)] = session_entry(participant)
    request.session[SESSION_KEY] = memberships


def _parsed(value) -> tuple[int, int] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, 0  # a session stored before the versions: only a never-revoked participant matches
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
    ):
        return value[0], value[1]
    return None


def guest_entries(request) -> dict[int, tuple[int, int]]:
    """Workshop id -> (participant id, access version) as this browser's session remembers them."""
    entries = {}
    for workshop_id, value in request.session.get(SESSION_KEY, {}).items():
        parsed = _parsed(value)
        if parsed is not None and str(workshop_id).isdigit():
            entries[int(workshop_id)] = parsed
    return entries


def guest_has_entry(request, workshop_id: int) -> bool:
    """The browser joined this workshop once, whether or not that still lets it in."""
    return int(workshop_id) in guest_entries(request)


def guest_participant(request, workshop_id: int, *, with_workshop: bool = False) -> Participant | None:
    """The participant this browser joined the workshop as, while the way it came in still holds.

    None when the link was revoked (also if a new one was issued since) or the person's data erased.
    ``with_workshop`` reads the workshop and its organisation in the same query.
    """
    entry = guest_entries(request).get(int(workshop_id))
    if entry is None:
        return None
    participant_id, version = entry
    participants = Participant.objects.all()
    if with_workshop:
        participants = participants.select_related("workshop__organisation")
    return participants.filter(
        pk=participant_id, workshop_id=workshop_id, access_version=version, token_revoked_at__isnull=True
    ).first()


def guest_participant_ids(request) -> list[int]:
    """Every participant id the session names, valid or not (to tell a guest from a stranger)."""
    return [participant_id for participant_id, _version in guest_entries(request).values()]
