"""Who may see what. An object of another workshop answers 404, exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
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
    is_contact = (
        user.is_authenticated
        and user.is_active
        and (user.organisation_id == workshop.organisation_id or workshop.created_by_id == user.pk)
    )
    participant = None
    participant_id = guest_participant_id(request, workshop.pk)
    if participant_id is not None:
        # A revoked link also ends the sessions that came in with it: the link may have reached the wrong person.
        participant = Participant.objects.filter(
            pk=participant_id, workshop=workshop, token_revoked_at__isnull=True
        ).first()
    if participant is None and user.is_authenticated:
        participant = Participant.objects.filter(user=user, workshop=workshop).first()
    if not (is_facilitator or is_contact or participant):
        raise Http404
    return WorkshopAccess(workshop, participant, is_facilitator, is_contact)


def _organiser_workshop(user, workshop_id: int) -> Workshop:
    if not user.is_authenticated or not user.is_active:
        raise Http404
    workshop = Workshop.objects.select_related("organisation", "created_by").filter(pk=workshop_id).first()
    if workshop is None:
        raise Http404
    if user.is_facilitator:
        return workshop
    if workshop.organisation_id == user.organisation_id or workshop.created_by_id == user.pk:
        return workshop
    raise Http404


def workshop_for_organiser(user, workshop_id: int) -> Workshop:
    """The workshop for its facilitators and its organisation's contact persons; 404 for anyone else."""
    return _organiser_workshop(user, workshop_id)


def workshop_for_facilitator(user, workshop_id: int) -> Workshop:
    """The workshop for facilitators; its own contact person gets 403, everyone else 404."""
    workshop = _organiser_workshop(user, workshop_id)
    if not user.is_facilitator:
        raise PermissionDenied
    return workshop


def workshop_for_planning(user, workshop_id: int) -> Workshop:
    """Cases and participants: facilitators always, the contact person once the request is accepted."""
    workshop = _organiser_workshop(user, workshop_id)
    if user.is_facilitator:
        return workshop
    if not workshop.is_accepted or workshop.status in {Workshop.Status.CLOSED, Workshop.Status.ARCHIVED}:
        raise PermissionDenied
    return workshop


def require_facilitator(user) -> None:
    """Pages for facilitators only: anonymous users are sent to log in by the view decorator, others get 403."""
    if not user.is_facilitator:
        raise PermissionDenied
