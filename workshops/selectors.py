"""Reads for workshop pages, with their joins decided once."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from workshops.models import InvitationBatch, Participant, Workshop, WorkshopStatusChange


def workshop_with_cases(workshop_id: int, *, cases: bool = True) -> Workshop | None:
    """One workshop with its organisation and (unless ``cases`` is false) its cases loaded."""
    workshops = Workshop.objects.select_related("organisation")
    return (workshops.prefetch_related("cases") if cases else workshops).filter(pk=workshop_id).first()


def workshops_for_user(user: User) -> QuerySet[Workshop]:
    """Workshops a signed-in user may see: all for facilitators, their organisation's otherwise."""
    queryset = Workshop.objects.select_related("organisation").annotate(participant_count=Count("participants"))
    if user.is_facilitator:
        return queryset.order_by("-starts_at", "-id")
    return queryset.filter(Q(organisation_id=user.organisation_id) | Q(created_by=user)).order_by("-starts_at", "-id")


def participations_for_guest(entries: list[tuple[int, int]]) -> QuerySet[Participant]:
    """The guest's own participations that still let them in, newest workshop first.

    ``entries`` are the session's (participant id, access version) pairs (workshops/guests.py).
    """
    if not entries:
        return Participant.objects.none()
    valid = Q()
    for participant_id, version in entries:
        valid |= Q(pk=participant_id, access_version=version)
    return (
        Participant.objects.select_related("workshop")
        .filter(valid, token_revoked_at__isnull=True)
        .order_by("-workshop__starts_at")
    )


def request_queue() -> QuerySet[Workshop]:
    """Requests waiting for a facilitator, oldest first."""
    return (
        Workshop.objects.select_related("organisation", "created_by")
        .filter(status=Workshop.Status.REQUESTED)
        .order_by("created_at", "id")
    )


def upcoming_workshops() -> QuerySet[Workshop]:
    """Accepted workshops that have not ended yet, soonest first."""
    active = [Workshop.Status.PLANNED, Workshop.Status.INVITATIONS_SENT, Workshop.Status.LIVE]
    return (
        Workshop.objects.select_related("organisation")
        .filter(status__in=active)
        .annotate(participant_count=Count("participants"))
        .order_by("starts_at", "id")
    )


def workshop_for_manage_page(workshop_id: int) -> Workshop:
    """A workshop with everything its organiser page shows, loaded in a fixed number of queries."""
    history = WorkshopStatusChange.objects.select_related("changed_by").order_by("changed_at", "id")
    return (
        Workshop.objects.select_related("organisation", "created_by")
        .prefetch_related("cases", Prefetch("status_changes", queryset=history))
        .annotate(participant_count=Count("participants", distinct=True))
        .get(pk=workshop_id)
    )


def participants_of(workshop: Workshop) -> QuerySet[Participant]:
    """A workshop's participants for the list page, alphabetical."""
    return Participant.objects.filter(workshop=workshop).order_by("name", "id")


def invitation_overview(workshop: Workshop) -> dict[str, int]:
    """Counts for the invitation page: invited, opened, failed, not invited."""
    rows = Participant.objects.filter(workshop=workshop).aggregate(
        total=Count("id"),
        invited=Count("id", filter=Q(invitation_status=Participant.InvitationStatus.SENT)),
        opened=Count("id", filter=Q(first_joined_at__isnull=False)),
        failed=Count("id", filter=Q(invitation_status=Participant.InvitationStatus.FAILED)),
        queued=Count("id", filter=Q(invitation_status=Participant.InvitationStatus.QUEUED)),
        without_email=Count("id", filter=Q(email="")),
    )
    return rows


def latest_invitation_batch(workshop: Workshop) -> InvitationBatch | None:
    return InvitationBatch.objects.filter(workshop=workshop).order_by("-created_at", "-id").first()
