"""Writes about workshops, cases and participants."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User
from workshops.models import Case, Participant, Workshop, WorkshopStatusChange, hash_token

# 32 random bytes = 256 bits, well above the 128 bits the invitation links need.
TOKEN_BYTES = 32
CLOSED_STATUSES = {Workshop.Status.DECLINED, Workshop.Status.CANCELLED, Workshop.Status.ARCHIVED}


S = Workshop.Status
# The status workflow. Anything not listed here is refused by workshop_transition().
TRANSITIONS: dict[str, set[str]] = {
    S.REQUESTED: {S.PLANNED, S.DECLINED, S.CANCELLED},
    S.PLANNED: {S.INVITATIONS_SENT, S.LIVE, S.CANCELLED},
    S.INVITATIONS_SENT: {S.LIVE, S.CANCELLED, S.PLANNED},
    S.LIVE: {S.CLOSED},
    S.CLOSED: {S.ARCHIVED, S.LIVE},
    S.ARCHIVED: set(),
    S.DECLINED: {S.REQUESTED},
    S.CANCELLED: set(),
}


class TransitionError(ValueError):
    """A status change the workflow does not allow."""


@transaction.atomic
def workshop_transition(*, workshop: Workshop, to_status: str, by: User | None, note: str = "") -> Workshop:
    """Move a workshop to ``to_status`` if the workflow allows it; record who and when.

    Locks the row so two facilitators clicking at once cannot both move it.
    """
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    if to_status == locked.status:
        return locked
    if to_status not in TRANSITIONS.get(locked.status, set()):
        raise TransitionError(f"{locked.status} -> {to_status} is not allowed")
    WorkshopStatusChange.objects.create(
        workshop=locked, from_status=locked.status, to_status=to_status, changed_by=by, note=note
    )
    locked.status = to_status
    locked.save(update_fields=["status"])
    workshop.status = to_status
    return locked


def organisation_get_or_create(*, name: str, kind: str = Organisation.Kind.MUNICIPALITY) -> Organisation:
    """Return the organisation with this name (case-insensitive), creating it if needed."""
    name = " ".join(name.split())
    existing = Organisation.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    return Organisation.objects.create(name=name, kind=kind)


@transaction.atomic
def workshop_create(
    *,
    organisation: Organisation,
    title: str,
    created_by: User | None = None,
    format: str = Workshop.Format.PARASTAMINEN_A,
    status: str = Workshop.Status.REQUESTED,
    goal: str = "",
    language: str = "fi",
    starts_at: datetime | None = None,
    duration_minutes: int = 120,
    meeting_url: str = "",
    expected_participants: int | None = None,
) -> Workshop:
    """Create a workshop."""
    workshop = Workshop(
        organisation=organisation,
        title=title,
        created_by=created_by,
        format=format,
        status=status,
        goal=goal,
        language=language,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        meeting_url=meeting_url,
        expected_participants=expected_participants,
    )
    workshop.full_clean()
    workshop.save()
    return workshop


def case_create(
    *,
    workshop: Workshop,
    title: str,
    presenter_name: str = "",
    presenter_email: str = "",
    description: str = "",
    material_url: str = "",
    position: int | None = None,
) -> Case:
    """Add a case presentation to a workshop, by default after the existing ones."""
    if position is None:
        position = workshop.cases.count() + 1
    case = Case(
        workshop=workshop,
        title=title,
        presenter_name=presenter_name,
        presenter_email=presenter_email.lower(),
        description=description,
        material_url=material_url,
        position=position,
    )
    case.full_clean()
    case.save()
    return case


def participant_create(
    *,
    workshop: Workshop,
    name: str,
    email: str = "",
    organisation_name: str = "",
    department: str = "",
    role_group: str = "",
    role: str = Participant.Role.PARTICIPANT,
    user: User | None = None,
) -> Participant:
    """Add a participant to a workshop (no account is created)."""
    participant = Participant(
        workshop=workshop,
        name=name.strip(),
        email=email.strip().lower(),
        organisation_name=organisation_name.strip(),
        department=department.strip(),
        role_group=role_group,
        role=role,
        user=user,
    )
    participant.full_clean()
    participant.save()
    return participant


def participant_issue_token(*, participant: Participant) -> str:
    """Give the participant a new personal join token and return it in clear text.

    Only its SHA-256 hash is stored, so the previous link stops working and a
    database copy cannot be used to join.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    participant.token_hash = hash_token(token)
    participant.token_revoked_at = None
    participant.save(update_fields=["token_hash", "token_revoked_at"])
    return token


def participant_revoke_token(*, participant: Participant) -> Participant:
    """Stop the participant's personal link from working."""
    participant.token_revoked_at = timezone.now()
    participant.save(update_fields=["token_revoked_at"])
    return participant


def participant_join_by_token(*, token: str) -> Participant | None:
    """Exchange a join token for its participant, or None when unknown, revoked or closed.

    Records the first and latest time the participant joined.
    """
    if not token or len(token) > 128:
        return None
    participant = (
        Participant.objects.select_related("workshop")
        .filter(token_hash=hash_token(token), token_revoked_at__isnull=True)
        .exclude(workshop__status__in=CLOSED_STATUSES)
        .first()
    )
    if participant is None:
        return None
    now = timezone.now()
    fields = ["last_seen_at"]
    participant.last_seen_at = now
    if participant.first_joined_at is None:
        participant.first_joined_at = now
        fields.append("first_joined_at")
    participant.save(update_fields=fields)
    return participant
