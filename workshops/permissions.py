"""Who may see what. An object of another workshop answers 404, exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from workshops.guests import guest_participant_id
from workshops.models import Participant, Workshop
from workshops.selectors import workshop_with_cases


@dataclass(frozen=True)
class WorkshopAccess:
    workshop: Workshop
    participant: Participant | None
    is_facilitator: bool
    is_contact_person: bool


def workshop_for_viewer(request, workshop_id: int) -> WorkshopAccess:
    """The workshop if the request may see it (facilitator, own contact person, its participant)."""
    workshop = workshop_with_cases(workshop_id)
    if workshop is None:
        raise Http404
    user = request.user
    is_facilitator = user.is_authenticated and user.is_facilitator
    is_contact = user.is_authenticated and user.is_active and user.organisation_id == workshop.organisation_id
    participant = None
    participant_id = guest_participant_id(request, workshop.pk)
    if participant_id is not None:
        participant = Participant.objects.filter(pk=participant_id, workshop=workshop).first()
    if participant is None and user.is_authenticated:
        participant = Participant.objects.filter(user=user, workshop=workshop).first()
    if not (is_facilitator or is_contact or participant):
        raise Http404
    return WorkshopAccess(workshop, participant, is_facilitator, is_contact)
