"""Who is looking at a live workshop, and what they may do there.

Views pass the request; the WebSocket consumer passes its scope. Both carry a
session and a user, which is all ``workshop_for_viewer`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from workshops.models import Participant, Workshop
from workshops.permissions import workshop_for_viewer


@dataclass(frozen=True)
class LiveViewer:
    """A participant, facilitator or the organisation's contact person inside one workshop."""

    workshop: Workshop
    participant: Participant | None
    user: object | None  # the signed-in user, if any
    is_facilitator: bool
    is_contact_person: bool
    presented_case_ids: frozenset[int] = field(default_factory=frozenset)
    language: str = settings.LANGUAGE_CODE

    @property
    def is_staff(self) -> bool:
        """Facilitators run the workshop and moderate every comment."""
        return self.is_facilitator

    @property
    def writes_as_user(self) -> bool:
        """Organisers without a participant row write under their account."""
        return self.participant is None

    def can_moderate(self, case_id: int | None) -> bool:
        """Facilitators hide any comment; a case's presenter hides comments on their case."""
        return self.is_facilitator or (case_id is not None and case_id in self.presented_case_ids)

    @property
    def identity_key(self) -> str:
        return f"p{self.participant.pk}" if self.participant else f"u{self.user.pk}"


def _presented_case_ids(workshop: Workshop, participant: Participant | None) -> frozenset[int]:
    if participant is None or participant.role != Participant.Role.PRESENTER or not participant.email:
        return frozenset()
    return frozenset(workshop.cases.filter(presenter_email__iexact=participant.email).values_list("pk", flat=True))


def live_viewer(request, workshop_id: int, language: str | None = None) -> LiveViewer:
    """The viewer of a workshop's live pages; 404 for anyone who is not part of it."""
    access = workshop_for_viewer(request, workshop_id, cases=False)
    user = request.user if request.user.is_authenticated else None
    return LiveViewer(
        workshop=access.workshop,
        participant=access.participant,
        user=user,
        is_facilitator=access.is_facilitator,
        is_contact_person=access.is_contact_person,
        presented_case_ids=_presented_case_ids(access.workshop, access.participant),
        language=language or getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
    )


def live_viewer_for_scope(scope, workshop_id: int) -> LiveViewer | None:
    """The same check for a WebSocket scope; None instead of 404. The user comes from the scope's session
    here, in the caller's worker thread (see ``config.asgi``)."""
    from django.contrib.auth import get_user

    from accounts.middleware import language_for_request

    request = SimpleNamespace(session=scope["session"], COOKIES=scope.get("cookies", {}))
    request.user = scope["user"] if "user" in scope else get_user(request)
    try:
        return live_viewer(request, workshop_id, language=language_for_request(request))
    except Http404:
        return None


def in_room(viewer: LiveViewer, room) -> bool:
    """Facilitators, the room's leader and its present members take part in a room's work."""
    from facilitation.models import RoomMember

    if viewer.is_staff:
        return True
    participant = viewer.participant
    return participant is not None and (
        room.leader_id == participant.pk
        or RoomMember.objects.filter(room=room, participant=participant, left_at__isnull=True).exists()
    )


def require_live_facilitator(viewer: LiveViewer) -> None:
    """Running the workshop is the facilitator's job; anyone else who may see it gets 403."""
    if not viewer.is_facilitator:
        raise PermissionDenied
