"""The mails about a participant's deletion request: received, done, and the note to the facilitators.

Built in the workshop's language like the invitations (plain text and HTML for the participant, plain
text for the staff, as the workshop's own notices are), and sent after commit: a request or an erasure
that rolls back mails nobody. A mail server that fails is logged; the request and the erasure stand.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from config.mail import render_subject
from privacy.models import DeletionRequest
from workshops.models import Workshop

logger = logging.getLogger(__name__)

SEND_ERRORS = (smtplib.SMTPException, OSError)


@dataclass(frozen=True)
class Addressee:
    """A participant's name and address, taken before an erasure wipes them."""

    name: str
    email: str


def _render(template: str, context: dict) -> tuple[str, str]:
    subject = render_subject(f"privacy/email/{template}_subject.txt", context)
    return subject, render_to_string(f"privacy/email/{template}_body.txt", context).strip() + "\n"


def _participant_message(template: str, *, workshop: Workshop, addressee: Addressee) -> EmailMultiAlternatives:
    with translation.override(workshop.language):
        context = {
            "workshop": workshop,
            "name": addressee.name,
            "language": workshop.language,
            "controller_name": settings.KEHITTAMO_CONTROLLER_NAME,
            "privacy_email": settings.KEHITTAMO_PRIVACY_EMAIL,
        }
        subject, text = _render(template, context)
        html = render_to_string(f"privacy/email/{template}_body.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(subject=subject, body=text, to=[addressee.email])
    message.attach_alternative(html, "text/html")
    return message


def _send(messages: list[EmailMessage], *, kind: str) -> None:
    try:
        get_connection().send_messages(messages)
    except SEND_ERRORS as exc:
        # No address in the log: the log outlives the erasure.
        logger.warning("privacy mail not sent: %s", type(exc).__name__, extra={"fields": {"kind": kind}})


def _send_after_commit(messages: list[EmailMessage], *, kind: str) -> None:
    if messages:
        transaction.on_commit(partial(_send, messages, kind=kind))


def deletion_request_mails(*, request: DeletionRequest, facilitator_emails: list[str]) -> None:
    """After commit: confirm the request to the participant (if they have an address) and tell the staff."""
    participant = request.participant
    workshop = participant.workshop
    messages: list[EmailMessage] = []
    if participant.email:
        addressee = Addressee(participant.name, participant.email)
        messages.append(_participant_message("deletion_received", workshop=workshop, addressee=addressee))
    if facilitator_emails:
        with translation.override(workshop.language):
            url = settings.KEHITTAMO_SITE_URL + reverse("privacy:workshop", kwargs={"workshop_id": workshop.pk})
            subject, text = _render("deletion_waiting", {"workshop": workshop, "url": url})
        # One mail each: the staff do not see each other's addresses, and one bad address stops no other.
        messages += [EmailMessage(subject=subject, body=text, to=[email]) for email in facilitator_emails]
    _send_after_commit(messages, kind="deletion request")


def deletion_done_mails(*, workshop: Workshop, addressees: list[Addressee]) -> None:
    """After commit: tell each person whose request an erasure carried out, at the address taken before it."""
    messages = [
        _participant_message("deletion_done", workshop=workshop, addressee=addressee)
        for addressee in addressees
        if addressee.email
    ]
    _send_after_commit(messages, kind="deletion done")
