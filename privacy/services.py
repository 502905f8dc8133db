"""Erasing personal data: a whole workshop's (by hand or by the retention rule) or one participant's.

What is erased: names, e-mail addresses, organisations and departments, the
link to an account, invitation links and their history, the join code,
presence and the event log, every export file, the case presenters' names and
e-mail addresses. What stays: the content (comments, ideas, votes, rooms'
summaries, feedback) for the report; a participant row stays as a pseudonym
("Osallistuja 17") so non-anonymous content still shows which comments came
from the same person. Anonymous content has no link to anybody left.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from facilitation import realtime
from facilitation.models import Ballot, Comment, Duel, Event, Idea, LiveState, Presence
from facilitation.services.live import workshop_forget_live_links
from privacy import emails, selectors
from privacy.models import DeletionRequest, Erasure
from reports.services import export_delete_all
from workshops.models import Case, InvitationBatch, Participant, Workshop, WorkshopStatusChange

logger = logging.getLogger(__name__)

S = Workshop.Status
# A workshop's data can be erased once it no longer runs or waits to run.
ERASABLE_STATUSES = frozenset({S.CLOSED, S.ARCHIVED, S.CANCELLED, S.DECLINED})
# The status changes that end a workshop; the retention period counts from the latest.
ENDING_STATUSES = (S.CLOSED, S.CANCELLED, S.DECLINED)
PARTICIPANT_FIELDS = [
    "name",
    "email",
    "organisation_name",
    "department",
    "user",
    "token_hash",
    "token_revoked_at",
    "invitation_error",
    "invited_at",
    "first_joined_at",
    "last_seen_at",
    "access_version",
]


class ErasureError(ValueError):
    """An erasure the rules do not allow (e.g. the workshop is still running)."""


def pseudonym(*, number: int, language: str) -> str:
    """The name an erased participant keeps, in the workshop's language: "Osallistuja 17"."""
    with translation.override(language):
        return _("Participant %(number)d") % {"number": number}


def _pseudonymise(participant: Participant, *, number: int, language: str, now: datetime) -> None:
    participant.name = pseudonym(number=number, language=language)
    participant.email = ""
    participant.organisation_name = ""
    participant.department = ""
    participant.user = None
    participant.token_hash = None
    participant.token_revoked_at = participant.token_revoked_at or now
    participant.invitation_error = ""
    participant.invited_at = None
    participant.first_joined_at = None
    participant.last_seen_at = None
    participant.access_version += 1  # the browsers the person joined with are shut out (workshops/guests.py)


def _close_requests(*, requests: QuerySet[DeletionRequest], by: User | None, now: datetime) -> None:
    requests.filter(handled_at__isnull=True).update(handled_at=now, handled_by=by)


@transaction.atomic
def workshop_erase_personal_data(*, workshop: Workshop, by: User | None) -> Erasure:
    """Erase the personal data of an ended workshop, keeping its anonymous content for the report.

    ``by`` None means the retention rule did it. Locks the workshop row; deletes
    export files, events and presence; records an ``Erasure`` and closes open
    deletion requests (their askers are mailed after commit that it was done).
    Raises ``ErasureError`` while the workshop runs or waits.
    """
    locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
    if locked.status not in ERASABLE_STATUSES:
        raise ErasureError(_("Personal data can be erased only after the workshop has ended."))
    now = timezone.now()
    workshop_forget_live_links(workshop_id=locked.pk)
    participants = list(Participant.objects.filter(workshop=locked).order_by("pk"))
    # Those whose own request this erasure carries out are told so, at the address it is about to wipe.
    asking = set(
        DeletionRequest.objects.filter(workshop=locked, handled_at__isnull=True).values_list("participant", flat=True)
    )
    told = [emails.Addressee(person.name, person.email) for person in participants if person.pk in asking]
    for number, participant in enumerate(participants, start=1):
        _pseudonymise(participant, number=number, language=locked.language, now=now)
    Participant.objects.bulk_update(participants, PARTICIPANT_FIELDS, batch_size=500)
    Case.objects.filter(workshop=locked).update(presenter_name="", presenter_email="")
    InvitationBatch.objects.filter(workshop=locked).delete()
    LiveState.objects.filter(pk=locked.pk).update(join_code=None, join_code_enabled=False)
    exports = export_delete_all(workshop=locked)
    realtime.access_recheck(workshop_id=locked.pk)
    _close_requests(requests=DeletionRequest.objects.filter(workshop=locked), by=by, now=now)
    emails.deletion_done_mails(workshop=locked, addressees=told)
    erasure = Erasure.objects.create(
        workshop=locked,
        erased_by=by,
        automatic=by is None,
        erased_at=now,
        participants=len(participants),
        exports=exports,
    )
    logger.info(
        "workshop personal data erased",
        extra={"fields": {"workshop_id": locked.pk, "by_user_id": getattr(by, "pk", None), "automatic": by is None}},
    )
    return erasure


@transaction.atomic
def participant_erase_personal_data(*, participant: Participant, by: User | None) -> Erasure:
    """Erase one participant's personal data: a pseudonym instead of the name, no link, no anonymous ties.

    The participant's non-anonymous content stays under the pseudonym; their anonymous
    comments and ideas and all their votes lose the link to them; their presence and
    personal events are deleted. Records an ``Erasure`` and closes their deletion request; if there was
    one, the person is mailed after commit that it was done, at the address taken before the wipe.
    """
    locked = Participant.objects.select_for_update().select_related("workshop").get(pk=participant.pk)
    workshop = locked.workshop
    now = timezone.now()
    number = Participant.objects.filter(workshop=workshop, pk__lte=locked.pk).count()
    requests = DeletionRequest.objects.filter(participant=locked)
    # Told at the address about to be wiped, if this erasure carries out their own request.
    told = [emails.Addressee(locked.name, locked.email)] if requests.filter(handled_at__isnull=True).exists() else []
    _pseudonymise(locked, number=number, language=workshop.language, now=now)
    locked.save(update_fields=PARTICIPANT_FIELDS)
    Comment.objects.filter(author_participant=locked, anonymous=True).update(author_participant=None)
    Idea.objects.filter(author_participant=locked, anonymous=True).update(author_participant=None)
    Duel.objects.filter(voter_participant=locked).update(voter_participant=None)
    Ballot.objects.filter(voter_participant=locked).update(voter_participant=None)
    Event.objects.filter(participant=locked).delete()
    Presence.objects.filter(participant=locked).delete()
    realtime.access_recheck(workshop_id=workshop.pk, participant_id=locked.pk)
    _close_requests(requests=requests, by=by, now=now)
    emails.deletion_done_mails(workshop=workshop, addressees=told)
    erasure = Erasure.objects.create(
        workshop=workshop,
        whole_workshop=False,
        participant=locked,
        erased_by=by,
        automatic=False,
        erased_at=now,
        participants=1,
    )
    for field in PARTICIPANT_FIELDS:  # the caller's copy shows the pseudonym too
        setattr(participant, field, getattr(locked, field))
    logger.info(
        "participant personal data erased",
        extra={"fields": {"workshop_id": workshop.pk, "by_user_id": getattr(by, "pk", None)}},
    )
    return erasure


@transaction.atomic
def deletion_request_create(*, participant: Participant) -> DeletionRequest:
    """Record that the participant asks for their personal data to be deleted; asking again changes nothing.

    A new request mails, after commit, a confirmation to the participant (if they have an address) and a
    note to the controller's data protection address and the facilitators who ran the workshop.
    """
    request, created = DeletionRequest.objects.get_or_create(
        participant=participant, handled_at=None, defaults={"workshop_id": participant.workshop_id}
    )
    if created:
        logger.info("personal data deletion requested", extra={"fields": {"workshop_id": participant.workshop_id}})
        recipients = selectors.deletion_request_recipients(participant.workshop)
        emails.deletion_request_mails(request=request, facilitator_emails=recipients)
    return request


# --- retention -----------------------------------------------------------------------------------
def workshops_past_retention(*, now: datetime | None = None) -> QuerySet[Workshop]:
    """Ended workshops whose retention period has passed and whose data has not been erased since they ended."""
    days = settings.KEHITTAMO_RETENTION_DAYS
    if days <= 0:
        return Workshop.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    ended_at = Subquery(
        WorkshopStatusChange.objects.filter(workshop=OuterRef("pk"), to_status__in=ENDING_STATUSES)
        .order_by("-changed_at")
        .values("changed_at")[:1]
    )
    erased_since = Erasure.objects.filter(
        workshop=OuterRef("pk"), whole_workshop=True, erased_at__gte=OuterRef("ended_at")
    )
    return (
        Workshop.objects.filter(status__in=ERASABLE_STATUSES)
        .annotate(ended_at=ended_at)
        .filter(ended_at__lte=cutoff)
        .exclude(Exists(erased_since))
        .order_by("ended_at", "pk")
    )


def retention_erase_due(*, now: datetime | None = None) -> list[int]:
    """Erase every workshop past its retention period (one transaction each). Returns their ids."""
    erased = []
    for workshop in workshops_past_retention(now=now):
        workshop_erase_personal_data(workshop=workshop, by=None)
        erased.append(workshop.pk)
    return erased
