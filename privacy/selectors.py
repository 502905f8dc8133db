"""What the platform holds about one participant, for their "my data" page and an admin's export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from facilitation.models import Comment, FeedbackReceipt, Idea, Reaction, RoomMember
from privacy.models import DeletionRequest, Erasure
from workshops.models import Participant, Workshop


@dataclass(frozen=True)
class Contribution:
    kind: str  # "comment" or "idea"
    phase: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class RoomVisit:
    round: int
    room: str
    case: str


@dataclass
class ParticipantData:
    participant: Participant
    workshop: Workshop
    rooms: list[RoomVisit] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    anonymous_linked: int = 0  # anonymous comments and ideas still tied to the author (until the workshop closes)
    reactions: int = 0
    answered_feedback: bool = False
    open_request: DeletionRequest | None = None
    erased_at: datetime | None = None

    def as_dict(self, *, own: bool = False) -> dict:
        """The same data as plain JSON-friendly values (the download).

        How many anonymous contributions are still linked goes only to the person themselves
        (``own``): told to an organiser, it would say who wrote the anonymous ones.
        """
        person = self.participant
        document = {
            "workshop": {"id": self.workshop.pk, "title": self.workshop.title},
            "participant": {
                "name": person.name,
                "email": person.email,
                "organisation": person.organisation_name,
                "department": person.department,
                "role": person.get_role_display(),
                "role_group": person.get_role_group_display(),
                "people_on_this_screen": person.team_size,
                "account": person.user.email if person.user_id else "",
                "invitation": person.get_invitation_status_display(),
                "invited_at": _iso(person.invited_at),
                "link_revoked_at": _iso(person.token_revoked_at),
                "first_joined_at": _iso(person.first_joined_at),
                "last_seen_at": _iso(person.last_seen_at),
                "created_at": _iso(person.created_at),
            },
            "rooms": [{"round": room.round, "room": room.room, "case": room.case} for room in self.rooms],
            "contributions": [
                {"kind": item.kind, "phase": item.phase, "text": item.text, "created_at": _iso(item.created_at)}
                for item in self.contributions
            ],
            "reactions": self.reactions,
            "answered_feedback_survey": self.answered_feedback,
            "deletion_requested_at": _iso(self.open_request.requested_at) if self.open_request else None,
            "erased_at": _iso(self.erased_at),
        }
        if own:
            document["anonymous_contributions_still_linked"] = self.anonymous_linked
        return document


def _iso(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def participant_data(participant: Participant) -> ParticipantData:
    """Everything stored about the participant, their non-anonymous contributions and what is not linked.

    A constant number of queries, whatever the amount of data.
    """
    person = Participant.objects.select_related("workshop", "user").get(pk=participant.pk)
    data = ParticipantData(participant=person, workshop=person.workshop)
    memberships = (
        RoomMember.objects.filter(participant=person)
        .select_related("round", "room", "room__case")
        .order_by("round__number")
    )
    data.rooms = [
        RoomVisit(
            round=member.round.number, room=member.room.label, case=member.room.case.title if member.room.case else ""
        )
        for member in memberships
    ]
    comments = (
        Comment.objects.filter(author_participant=person, anonymous=False, deleted_at__isnull=True)
        .select_related("phase")
        .order_by("created_at", "pk")
    )
    ideas = Idea.objects.filter(author_participant=person, anonymous=False).select_related("phase")
    data.contributions = sorted(
        [Contribution("comment", comment.phase.title, comment.text, comment.created_at) for comment in comments]
        + [Contribution("idea", idea.phase.title, idea.text, idea.created_at) for idea in ideas],
        key=lambda item: item.created_at,
    )
    anonymous = Comment.objects.filter(author_participant=person, anonymous=True).aggregate(
        n=Count("pk", filter=Q(deleted_at__isnull=True))
    )["n"]
    data.anonymous_linked = anonymous + Idea.objects.filter(author_participant=person, anonymous=True).count()
    data.reactions = Reaction.objects.filter(participant=person).count()
    data.answered_feedback = FeedbackReceipt.objects.filter(participant=person).exists()
    data.open_request = DeletionRequest.objects.filter(participant=person, handled_at__isnull=True).first()
    erasure = (
        Erasure.objects.filter(Q(participant=person) | Q(workshop=person.workshop, whole_workshop=True))
        .order_by("-erased_at")
        .first()
    )
    data.erased_at = erasure.erased_at if erasure else None
    return data


def workshop_privacy_overview(workshop: Workshop) -> dict:
    """The facilitator's data protection page: erasures so far, open and handled requests, the participants."""
    return {
        "erasures": list(
            Erasure.objects.filter(workshop=workshop).select_related("erased_by", "participant").order_by("-erased_at")
        ),
        "requests": list(
            DeletionRequest.objects.filter(workshop=workshop)
            .select_related("participant", "handled_by")
            .order_by("handled_at", "requested_at")
        ),
        "participants": list(Participant.objects.filter(workshop=workshop).order_by("name", "pk")),
        "erased": Erasure.objects.filter(workshop=workshop, whole_workshop=True).exists(),
    }


def deletion_request_recipients(workshop: Workshop) -> list[str]:
    """Who hears of a new deletion request: the controller's data protection address and the active
    facilitators who have run this workshop (moved it through its statuses or created it). No side effects."""
    from accounts.models import User
    from workshops.models import WorkshopStatusChange

    ran_it = WorkshopStatusChange.objects.filter(workshop=workshop).values("changed_by")
    staff = (
        User.objects.filter(is_staff=True, is_active=True)
        .filter(Q(pk__in=ran_it) | Q(pk=workshop.created_by_id))
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    recipients = [settings.KEHITTAMO_PRIVACY_EMAIL] if settings.KEHITTAMO_PRIVACY_EMAIL else []
    for email in staff:
        if email.lower() not in {known.lower() for known in recipients}:
            recipients.append(email)
    return recipients
