"""Reads for workshop pages, with their joins decided once."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.models import User
from workshops.models import Participant, Workshop


def workshop_with_cases(workshop_id: int) -> Workshop | None:
    """One workshop with its organisation and cases loaded."""
    return Workshop.objects.select_related("organisation").prefetch_related("cases").filter(pk=workshop_id).first()


def workshops_for_user(user: User) -> QuerySet[Workshop]:
    """Workshops a signed-in user may see: all for facilitators, their organisation's otherwise."""
    queryset = Workshop.objects.select_related("organisation").annotate(participant_count=Count("participants"))
    if user.is_facilitator:
        return queryset.order_by("-starts_at", "-id")
    if user.organisation_id:
        return queryset.filter(organisation_id=user.organisation_id).order_by("-starts_at", "-id")
    return queryset.none()


def participations_for_guest(participant_ids: list[int]) -> QuerySet[Participant]:
    """The guest's own participations, newest workshop first."""
    return (
        Participant.objects.select_related("workshop").filter(pk__in=participant_ids).order_by("-workshop__starts_at")
    )
