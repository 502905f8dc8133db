"""Who may see what. An object of another workshop answers 404, exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404

from workshops.guests import guest_has_entry, guest_participant
from workshops.models import Participant, Workshop
from workshops.selectors import workshop_with_cases


class GuestAccessEnded(Http404):
    """The browser joined this workshop, but its way in no longer holds (link revoked, data erased).

    A 404 like any refusal (so every caller that catches ``Http404`` refuses it too), shown as a page
    that says what happened instead of "page not found".
    """


@dataclass(frozen=True)
class WorkshopAccess:
    workshop: Workshop
    participant: Participant | None
    is_facilitator: bool
    is_contact_person: bool


def workshop_for_viewer(request, workshop_id: int, *, cases: bool = True) -> WorkshopAccess:
    """The workshop if the request may see it (facilitator, own contact person, its participant); with its
    cases loaded unless ``cases`` is false (the live pages, read on every load, show the current phase's case).

    A participant's browser reads its participant and the workshop in one query (every live request does).
    """
    participant = guest_participant(request, workshop_id, with_workshop=True)
    if participant is not None:
        workshop = participant.workshop
        if cases:
            prefetch_related_objects([workshop], "cases")
    else:
        workshop = workshop_with_cases(workshop_id, cases=cases)
    if workshop is None:
        raise Http404
    user = request.user
    is_facilitator = user.is_authenticated and user.is_facilitator
    is_contact = (
        user.is_authenticated
        and user.is_active
        and (user.organisation_id == workshop.organisation_id or workshop.created_by_id == user.pk)
    )
    # A revoked link also ends the sessions that came in with it (the link may have reached the wrong
    # person), and a new link for the same person does not let them back in; nor does erased data.
    if participant is None and user.is_authenticated:
        participant = Participant.objects.filter(user=user, workshop=workshop).first()
    if not (is_facilitator or is_contact or participant):
        if guest_has_entry(request, workshop.pk):
            raise GuestAccessEnded
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
