"""Writes about workshops, cases and participants."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from config.mail import render_subject
from workshops.models import Case, Participant, Workshop, WorkshopStatusChange, hash_token
from workshops.signals import workshop_status_changed

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
    from_status = locked.status
    locked.status = to_status
    locked.save(update_fields=["status"])
    workshop.status = to_status
    workshop_status_changed.send(sender=Workshop, workshop=locked, from_status=from_status, to_status=to_status, by=by)
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
    """Stop the participant's personal link from working, and shut out every browser that came in with it.

    Raising ``access_version`` ends those sessions for good: a link issued later lets in only the
    browsers that open the new one.
    """
    from facilitation import realtime  # facilitation builds on workshops, not the other way round

    participant.token_revoked_at = timezone.now()
    participant.access_version += 1
    participant.save(update_fields=["token_revoked_at", "access_version"])
    realtime.access_recheck(workshop_id=participant.workshop_id, participant_id=participant.pk)
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


def _notify_contact(*, workshop: Workshop, template: str) -> None:
    """Mail the person who requested the workshop (in the workshop's language) after commit."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    recipient = workshop.created_by
    if recipient is None or not recipient.email:
        return
    with translation.override(workshop.language):
        context = {
            "workshop": workshop,
            "url": settings.KEHITTAMO_SITE_URL + reverse("workshops:manage", kwargs={"workshop_id": workshop.pk}),
        }
        subject = render_subject(f"workshops/email/{template}_subject.txt", context)
        body = render_to_string(f"workshops/email/{template}_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [recipient.email]))


@transaction.atomic
def workshop_register(
    *,
    user: User,
    organisation: Organisation,
    title: str,
    goal: str,
    format: str,
    preferred_dates: str,
    expected_participants: int | None,
    invited_groups: list[str],
    case_proposals: str,
    language: str,
) -> Workshop:
    """A contact person's workshop request (status "requested"); the history records it.

    A user without an organisation is linked to it now only if they created it; an
    existing organisation is linked when a facilitator accepts the request.
    """
    workshop = workshop_create(
        organisation=organisation,
        title=title,
        created_by=user,
        format=format,
        status=Workshop.Status.REQUESTED,
        goal=goal,
        language=language,
        expected_participants=expected_participants,
    )
    workshop.preferred_dates = preferred_dates
    workshop.invited_groups = list(invited_groups)
    workshop.case_proposals = case_proposals
    workshop.save(update_fields=["preferred_dates", "invited_groups", "case_proposals"])
    WorkshopStatusChange.objects.create(workshop=workshop, to_status=workshop.status, changed_by=user)
    if user.organisation_id is None and not organisation.workshops.exclude(pk=workshop.pk).exists():
        user.organisation = organisation
        user.save(update_fields=["organisation"])
    return workshop


@transaction.atomic
def workshop_accept(
    *,
    workshop: Workshop,
    by: User,
    starts_at: datetime,
    duration_minutes: int,
    meeting_url: str = "",
    language: str | None = None,
) -> Workshop:
    """Accept a request: set the date and move it to "planned"; mails the contact person after commit."""
    workshop = workshop_transition(workshop=workshop, to_status=Workshop.Status.PLANNED, by=by)
    workshop.starts_at = starts_at
    workshop.duration_minutes = duration_minutes
    workshop.meeting_url = meeting_url
    if language:
        workshop.language = language
    workshop.save(update_fields=["starts_at", "duration_minutes", "meeting_url", "language"])
    requester = workshop.created_by
    if requester is not None and requester.organisation_id is None:
        requester.organisation_id = workshop.organisation_id
        requester.save(update_fields=["organisation"])
    _notify_contact(workshop=workshop, template="accepted")
    return workshop


@transaction.atomic
def workshop_decline(*, workshop: Workshop, by: User, reason: str) -> Workshop:
    """Decline a request with a reason; mails the contact person after commit."""
    workshop = workshop_transition(workshop=workshop, to_status=Workshop.Status.DECLINED, by=by, note=reason)
    workshop.decline_reason = reason
    workshop.save(update_fields=["decline_reason"])
    _notify_contact(workshop=workshop, template="declined")
    return workshop


@transaction.atomic
def workshop_create_direct(
    *,
    registration: dict,
    starts_at: datetime,
    duration_minutes: int,
    meeting_url: str = "",
    language: str | None = None,
    template=None,
) -> Workshop:
    """A facilitator's one-step workshop: registered and accepted at once (mails after commit).

    ``registration`` holds ``workshop_register``'s arguments. With ``template``
    (a ``selectors_templates.TemplateEntry``) the agenda, room settings and
    survey are made from it in the same transaction, so a template that cannot
    be applied leaves no workshop behind.
    """
    from workshops.services_templates import template_apply

    user = registration["user"]
    workshop = workshop_register(**registration)
    workshop = workshop_accept(
        workshop=workshop,
        by=user,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        meeting_url=meeting_url,
        language=language,
    )
    if template is not None:
        template_apply(workshop=workshop, template=template)
    return workshop


def workshop_update(*, workshop: Workshop, data: dict[str, object]) -> Workshop:
    """Save edited fields of a workshop (validated by the caller's form, checked again here)."""
    for name, value in data.items():
        setattr(workshop, name, value)
    workshop.full_clean()
    workshop.save(update_fields=list(data))
    return workshop


@transaction.atomic
def workshop_duplicate(*, workshop: Workshop, by: User) -> Workshop:
    """Copy a workshop and its cases (not its participants) as a new planned workshop without a date."""
    from django.utils.translation import gettext

    copy = workshop_create(
        organisation=workshop.organisation,
        title=gettext("%(title)s (copy)") % {"title": workshop.title[:190]},
        created_by=by,
        format=workshop.format,
        status=Workshop.Status.PLANNED,
        goal=workshop.goal,
        language=workshop.language,
        duration_minutes=workshop.duration_minutes,
        expected_participants=workshop.expected_participants,
    )
    copy.duplicated_from = workshop
    copy.invited_groups = workshop.invited_groups
    copy.save(update_fields=["duplicated_from", "invited_groups"])
    WorkshopStatusChange.objects.create(workshop=copy, to_status=copy.status, changed_by=by)
    Case.objects.bulk_create(
        Case(
            workshop=copy,
            position=case.position,
            title=case.title,
            presenter_name=case.presenter_name,
            presenter_email=case.presenter_email,
            description=case.description,
            material_url=case.material_url,
        )
        for case in workshop.cases.all()
    )
    return copy


def case_update(*, case: Case, data: dict[str, object]) -> Case:
    """Save edited fields of a case."""
    for name, value in data.items():
        setattr(case, name, value)
    case.full_clean()
    case.save()
    return case


def case_delete(*, case: Case) -> None:
    """Remove a case and close the gap in the order of the rest.

    Raises ``ValidationError`` when comments or small-group rooms already belong to the case: those stay.
    """
    workshop_id = case.workshop_id
    try:
        case.delete()
    except ProtectedError as error:
        raise ValidationError(
            _("The case already has comments or small-group rooms, so it cannot be removed. You can rename it instead.")
        ) from error
    for index, other in enumerate(Case.objects.filter(workshop_id=workshop_id).order_by("position", "id"), start=1):
        if other.position != index:
            other.position = index
            other.save(update_fields=["position"])


def participant_update(*, participant: Participant, data: dict[str, object]) -> Participant:
    """Save edited fields of a participant."""
    for name, value in data.items():
        setattr(participant, name, value.strip().lower() if name == "email" else value)
    participant.full_clean()
    participant.save()
    return participant


def participant_delete(*, participant: Participant) -> None:
    """Remove a participant; their link stops working with them."""
    participant.delete()


@transaction.atomic
def participants_import(*, workshop: Workshop, rows: list[dict[str, str]]) -> list[Participant]:
    """Create participants from previewed rows; rows whose e-mail is taken by now are skipped."""
    taken = {email.lower() for email in workshop.participants.values_list("email", flat=True) if email}
    fields = {"name", "email", "organisation_name", "department", "role_group", "role"}
    created = []
    for row in rows:
        email = (row.get("email") or "").strip().lower()
        if email in taken:
            continue
        taken.add(email)
        values = {key: (row.get(key) or "") for key in fields}
        values["role"] = values["role"] or Participant.Role.PARTICIPANT
        created.append(Participant(workshop=workshop, **values))
    for participant in created:
        participant.full_clean()
    return Participant.objects.bulk_create(created)
