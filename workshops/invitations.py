"""Invitations by e-mail: queue a batch, build each personal message, record what happened.

The Celery task ``workshops.tasks.invitations_send`` drives the sending; every
write it needs lives here so views, the task and the admin share one set of rules.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Iterable
from datetime import datetime
from email import encoders
from email.mime.base import MIMEBase
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from config.mail import render_subject
from workshops.models import InvitationBatch, Participant, Workshop
from workshops.services import TransitionError, participant_issue_token, workshop_transition

logger = logging.getLogger(__name__)

HELSINKI = ZoneInfo("Europe/Helsinki")
ICS_FILENAME = "tyopaja.ics"
ICS_MIMETYPE = "text/calendar; method=PUBLISH; charset=UTF-8"
ICS_LINE_OCTETS = 75
ERROR_MAX_LENGTH = 300
# Invitations make sense once the workshop is planned and until it is over.
INVITABLE_STATUSES = {Workshop.Status.PLANNED, Workshop.Status.INVITATIONS_SENT, Workshop.Status.LIVE}
ACTIVE_BATCH_STATUSES = [InvitationBatch.Status.PENDING, InvitationBatch.Status.RUNNING]
# Day names come from the active language; the numeric parts follow each language's habit.
DATE_FORMATS = {"fi": "l j.n.Y", "sv": "l j.n.Y", "en": "l j F Y"}
TIME_FORMATS = {"fi": "G.i", "sv": "G.i", "en": "H:i"}
# Errors of the mail transport: recorded on the participant, the batch goes on.
SEND_ERRORS = (smtplib.SMTPException, OSError)

IS = Participant.InvitationStatus


class NothingToSend(ValueError):
    """No participant qualifies for the requested invitations."""


class WorkshopNotScheduled(NothingToSend):
    """The workshop has no date yet, so an invitation could not say when to come."""


class WorkshopNotInvitable(NothingToSend):
    """The workshop's status does not allow invitations (not planned yet, or already over)."""


# --- starting and following a batch ---------------------------------------------------------------
def invitation_batch_start(
    *,
    workshop: Workshop,
    requested_by: User | None,
    only_not_invited: bool = False,
    participant_ids: Iterable[int] | None = None,
) -> InvitationBatch:
    """Mark the chosen participants QUEUED, create a batch and enqueue its sending after commit.

    Returns the workshop's running batch instead when one is still pending or running.
    """
    from workshops import tasks  # the task module imports this one

    with transaction.atomic():
        # Locking the workshop row serialises two facilitators pressing "send" at once.
        locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
        active = locked.invitation_batches.filter(status__in=ACTIVE_BATCH_STATUSES).order_by("created_at").first()
        if active is not None:
            return active
        if locked.starts_at is None:
            raise WorkshopNotScheduled(_("Set the date and time of the workshop before sending invitations."))
        if locked.status not in INVITABLE_STATUSES:
            raise WorkshopNotInvitable(
                _("Invitations can be sent when the workshop is planned and not yet over (now: %(status)s).")
                % {"status": locked.get_status_display()}
            )
        candidates = Participant.objects.filter(workshop=locked).exclude(email="")
        if only_not_invited:
            candidates = candidates.filter(invitation_status__in=[IS.NOT_INVITED, IS.FAILED])
        if participant_ids is not None:
            candidates = candidates.filter(pk__in=list(participant_ids))
        ids = list(candidates.order_by("pk").values_list("pk", flat=True))
        if not ids:
            raise NothingToSend(_("No participant with an e-mail address is waiting for an invitation."))
        Participant.objects.filter(pk__in=ids).update(invitation_status=IS.QUEUED, invitation_error="")
        batch = InvitationBatch.objects.create(workshop=locked, requested_by=requested_by, total=len(ids))
        batch.participants.set(ids)
        transaction.on_commit(partial(tasks.invitations_send.delay, batch.pk))
    return batch


def invitation_batch_progress(*, batch: InvitationBatch) -> dict:
    """The batch's counters for a progress page, read fresh from the database. No side effects."""
    fresh = InvitationBatch.objects.only("status", "total", "sent", "failed").get(pk=batch.pk)
    done = fresh.status == InvitationBatch.Status.DONE
    handled = fresh.sent + fresh.failed
    percent = 100 if done or not fresh.total else min(100, handled * 100 // fresh.total)
    return {
        "status": fresh.status,
        "total": fresh.total,
        "sent": fresh.sent,
        "failed": fresh.failed,
        "done": done,
        "percent": percent,
    }


def invitation_batch_queued(*, batch: InvitationBatch) -> list[Participant]:
    """The batch's participants still waiting to be sent, with workshop, organisation and cases. No side effects.

    Only QUEUED ones: whoever this batch already reached is SENT with ``invited_at`` after
    ``batch.created_at`` (or FAILED), so a retried or re-delivered task never mails them twice.
    """
    return list(
        batch.participants.filter(invitation_status=IS.QUEUED)
        .select_related("workshop", "workshop__organisation")
        .prefetch_related("workshop__cases")
        .order_by("pk")
    )


def invitation_batch_interrupted(*, batch: InvitationBatch) -> int:
    """Fail the batch's participants left SENDING by a worker that died mid-send; returns how many.

    Their mail may or may not have left, so they are not mailed again automatically (an invitation is
    never sent twice): the organiser sees the note and can send theirs again.
    """
    with transaction.atomic():
        interrupted = batch.participants.filter(invitation_status=IS.SENDING).update(
            invitation_status=IS.FAILED,
            invitation_error=_(
                "Sending was interrupted; the invitation may not have arrived. Send it again if needed."
            ),
        )
        if interrupted:
            InvitationBatch.objects.filter(pk=batch.pk).update(failed=F("failed") + interrupted)
    if interrupted:
        logger.warning("invitations interrupted mid-send", extra={"batch_id": batch.pk, "count": interrupted})
    return interrupted


def invitation_batch_mark_running(*, batch: InvitationBatch) -> None:
    """Move a pending batch to RUNNING so the progress page shows that sending has begun."""
    InvitationBatch.objects.filter(pk=batch.pk, status=InvitationBatch.Status.PENDING).update(
        status=InvitationBatch.Status.RUNNING
    )


def invitation_send_one(*, batch: InvitationBatch, participant: Participant, connection: BaseEmailBackend) -> bool:
    """Give the participant a fresh link, mail it and save the outcome and the batch counter at once.

    On a transport error the participant is FAILED with a short description, the
    previous link keeps working (the new one never reached anyone), and the
    connection is closed so the next send opens a fresh one. Returns True when sent.
    """
    if not participant.email:
        _record_failure(batch=batch, participant=participant, error=_("No e-mail address."))
        return False
    previous = (participant.token_hash, participant.token_revoked_at)
    # The new token is committed before the mail leaves: a mailed link must always work.
    token = participant_issue_token(participant=participant)
    try:
        message = invitation_message(participant=participant, token=token)
        # SENDING is committed just before the hand-over to the mail server: if the worker dies before the
        # outcome is saved, nobody can know whether the mail left, and a retry must not mail the person a
        # second time (see ``invitation_batch_interrupted``).
        participant.invitation_status = IS.SENDING
        participant.save(update_fields=["invitation_status"])
        delivered = connection.send_messages([message])
        if not delivered:
            raise smtplib.SMTPException("the mail server accepted no recipient")
    except SEND_ERRORS as exc:
        _token_restore(participant=participant, previous=previous)
        invitation_connection_close(connection)
        _record_failure(batch=batch, participant=participant, error=invitation_error_text(exc, secret=token))
        logger.warning("invitation not sent", extra={"participant_id": participant.pk, "batch_id": batch.pk})
        return False
    except Exception:
        _token_restore(participant=participant, previous=previous, status=IS.QUEUED)
        raise
    with transaction.atomic():
        participant.invitation_status = IS.SENT
        participant.invited_at = timezone.now()
        participant.invitation_error = ""
        participant.save(update_fields=["invitation_status", "invited_at", "invitation_error"])
        InvitationBatch.objects.filter(pk=batch.pk).update(sent=F("sent") + 1)
    return True


def invitation_batch_finish(*, batch: InvitationBatch, error: str = "") -> InvitationBatch:
    """Mark the batch DONE, fail any participant still queued, and move a PLANNED workshop to INVITATIONS_SENT.

    ``error`` (e.g. "mail server unreachable") is recorded on participants the batch never reached.
    """
    with transaction.atomic():
        leftover = batch.participants.filter(invitation_status=IS.QUEUED)
        failed = leftover.update(
            invitation_status=IS.FAILED, invitation_error=(error or _("Not sent."))[:ERROR_MAX_LENGTH]
        )
        InvitationBatch.objects.filter(pk=batch.pk).exclude(status=InvitationBatch.Status.DONE).update(
            status=InvitationBatch.Status.DONE, finished_at=timezone.now(), failed=F("failed") + failed
        )
    batch.refresh_from_db()
    workshop = batch.workshop
    if batch.sent and workshop.status == Workshop.Status.PLANNED:
        try:
            workshop_transition(
                workshop=workshop,
                to_status=Workshop.Status.INVITATIONS_SENT,
                by=batch.requested_by,
                note="invitations sent",
            )
        except TransitionError:
            # Someone moved the workshop on meanwhile (e.g. it went live); their step wins.
            logger.info("workshop status left as it was", extra={"workshop_id": workshop.pk})
    return batch


def _token_restore(
    *, participant: Participant, previous: tuple[str | None, datetime | None], status: str | None = None
) -> None:
    """Put back the link the participant had before an invitation that never left (and ``status``, if given)."""
    participant.token_hash, participant.token_revoked_at = previous
    fields = ["token_hash", "token_revoked_at"]
    if status is not None:
        participant.invitation_status = status
        fields.append("invitation_status")
    participant.save(update_fields=fields)


def _record_failure(*, batch: InvitationBatch, participant: Participant, error: str) -> None:
    """Save the participant as FAILED with ``error`` and count it on the batch, in one transaction."""
    with transaction.atomic():
        participant.invitation_status = IS.FAILED
        participant.invitation_error = error[:ERROR_MAX_LENGTH]
        participant.save(update_fields=["invitation_status", "invitation_error"])
        InvitationBatch.objects.filter(pk=batch.pk).update(failed=F("failed") + 1)


def invitation_connection_close(connection: BaseEmailBackend) -> None:
    """Close a mail connection that may be broken; the next send opens a new one. Never raises."""
    try:
        connection.close()
    except SEND_ERRORS:
        logger.debug("closing a broken mail connection failed", exc_info=True)


def invitation_error_text(exc: BaseException, *, secret: str = "") -> str:
    """A short description safe to show a facilitator: exception class and message, never the token."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = [_smtp_reply(code, text) for code, text in exc.recipients.values()]
        detail = "; ".join(reasons)
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = _smtp_reply(exc.smtp_code, exc.smtp_error)
    else:
        detail = str(exc)
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if secret:
        text = text.replace(secret, "[link]")
    text = " ".join(text.split())
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"


def _smtp_reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {text}".strip()


# --- the message ----------------------------------------------------------------------------------
class _InvitationEmail(EmailMultiAlternatives):
    """An e-mail whose calendar attachment goes out base64-encoded with a clean Content-Type.

    Django would repeat the charset parameter and send the file as 8bit, which
    some mail servers rewrite; base64 keeps the CRLF line endings RFC 5545 asks for.
    """

    def _create_mime_attachment(self, content, mimetype):
        if mimetype != ICS_MIMETYPE:
            return super()._create_mime_attachment(content, mimetype)
        part = MIMEBase("text", "calendar", method="PUBLISH", charset="UTF-8")
        part.set_payload(content.encode("utf-8"))
        encoders.encode_base64(part)
        return part


def invitation_join_url(*, token: str) -> str:
    """The absolute personal join link for a token. No side effects."""
    return f"{settings.KEHITTAMO_SITE_URL}{reverse('workshops:join', kwargs={'token': token})}"


def invitation_when(*, workshop: Workshop) -> str:
    """The workshop's date and time in Helsinki time, worded in the active language. No side effects."""
    start = timezone.localtime(workshop.starts_at, HELSINKI)
    end = timezone.localtime(workshop.ends_at, HELSINKI)
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    date_format = DATE_FORMATS.get(language, DATE_FORMATS["en"])
    time_format = TIME_FORMATS.get(language, TIME_FORMATS["en"])
    parts = {
        "date": formats.date_format(start, date_format),
        "start": formats.time_format(start, time_format),
        "end": formats.time_format(end, time_format),
    }
    if end.date() != start.date():
        parts["end"] = f"{formats.date_format(end, date_format)} {parts['end']}"
    # Translators: the workshop's date and time, e.g. "maanantai 30.11.2026 klo 13.00–15.00".
    return _("%(date)s, %(start)s–%(end)s") % parts


def invitation_message(*, participant: Participant, token: str) -> EmailMultiAlternatives:
    """Build (not send) the participant's invitation in the workshop's language, with the calendar file attached."""
    workshop = participant.workshop
    join_url = invitation_join_url(token=token)
    with translation.override(workshop.language):
        cases = list(workshop.cases.all())
        email = participant.email.lower()
        context = {
            "participant": participant,
            "workshop": workshop,
            "organisation": workshop.organisation,
            "cases": cases,
            "when": invitation_when(workshop=workshop),
            "join_url": join_url,
            "meeting_url": workshop.meeting_url,
            "language": workshop.language,
            "is_presenter": participant.role == Participant.Role.PRESENTER,
            "is_group_leader": participant.role == Participant.Role.GROUP_LEADER,
            "presented_cases": [case for case in cases if email and case.presenter_email.lower() == email],
            "ics_filename": ICS_FILENAME,
        }
        subject = render_subject("workshops/email/invitation_subject.txt", context)
        text = _tidy_text(render_to_string("workshops/email/invitation_body.txt", context))
        html = render_to_string("workshops/email/invitation_body.html", context)
        ics = invitation_ics(workshop=workshop, participant=participant, join_url=join_url)
    message = _InvitationEmail(subject=subject, body=text, to=[participant.email])
    message.attach_alternative(html, "text/html")
    message.attach(ICS_FILENAME, ics, ICS_MIMETYPE)
    return message


def _tidy_text(text: str) -> str:
    """Trim trailing spaces and runs of blank lines that template tags leave behind."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- the calendar file ----------------------------------------------------------------------------
def invitation_ics(*, workshop: Workshop, participant: Participant, join_url: str) -> str:
    """An RFC 5545 calendar (METHOD:PUBLISH) with the workshop as one event. No side effects.

    Raises ValueError when the workshop has no start time.
    """
    if workshop.starts_at is None:
        raise ValueError("the workshop has no start time")
    with translation.override(workshop.language):
        description = "\n".join(
            [
                _("Join the workshop with your personal link:"),
                join_url,
                "",
                _("No account or password is needed. The link is personal, please do not forward it."),
            ]
        )
        if workshop.meeting_url:
            description += "\n\n" + _("Video meeting:") + "\n" + workshop.meeting_url
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Kehittamo//Workshop invitations//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:workshop-{workshop.pk}-participant-{participant.pk}@kehittamo",
        f"DTSTAMP:{_ics_utc(timezone.now())}",
        f"DTSTART:{_ics_utc(workshop.starts_at)}",
        f"DTEND:{_ics_utc(workshop.ends_at)}",
        f"SUMMARY:{_ics_text(workshop.title)}",
        f"DESCRIPTION:{_ics_text(description)}",
    ]
    if workshop.meeting_url:
        lines.append(f"LOCATION:{_ics_text(workshop.meeting_url)}")
    lines += [
        f"URL:{_ics_uri(join_url)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)


def _ics_utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return _CONTROL_CHARS.sub("", value)


def _ics_uri(value: str) -> str:
    """A URI value is not escaped, but must not break the line."""
    return _CONTROL_CHARS.sub("", value.replace("\r", "").replace("\n", ""))


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1) without splitting a UTF-8 character."""
    if len(line.encode("utf-8")) <= ICS_LINE_OCTETS:
        return line
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = ICS_LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            pieces.append("".join(current))
            current, size = [], 0
            limit = ICS_LINE_OCTETS - 1  # continuation lines begin with one space
        current.append(char)
        size += octets
    pieces.append("".join(current))
    return "\r\n ".join(pieces)
