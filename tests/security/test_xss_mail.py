"""Hostile input in the decline reason and in every e-mail the platform sends.

The decline reason goes through the facilitator's form and is read back on every page that shows it. Every
e-mail (the contact person's "accepted" and "declined", the participant's invitation with its HTML part and
calendar file, allauth's sign-up confirmation and password reset) is rendered with hostile values in every
field a person typed: workshop titles and goals, organisation and person names, case titles, the reason.
The HTML part may hold only markup the e-mail templates write and no script-capable link; the plain-text
part and the subject carry the values as typed, never HTML-escaped (``&lt;script&gt;`` in a text e-mail
is garbage to the reader); the calendar file gains no lines. One vector per family in the normal suite,
the whole corpus with ``--faults``.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import PASSWORD, ContactPersonFactory, OrganisationFactory
from tests.security import xss_corpus
from tests.security.hostile import _staff_client
from tests.security.html_scan import injected, injected_email, visible_text
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.invitations import ICS_FILENAME, invitation_message
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db

LANGUAGES = ("fi", "sv", "en")
# What HTML escaping leaves in a text: named and numeric character references.
ENTITY = re.compile(r"&(?:[a-zA-Z]+|#[0-9]+|#[xX][0-9a-fA-F]+);")


@pytest.fixture(autouse=True)
def _corpus_is_not_a_flood(settings):
    """Hundreds of declines, sign-ups and resets in seconds: the rate limits have their own tests."""
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000
    settings.ACCOUNT_RATE_LIMITS = False


def _flat(text: str) -> str:
    return " ".join(text.split())


def plain_findings(where: str, text: str, values: list[str]) -> list[str]:
    """A plain text (body or subject) must show each value as typed and no character reference of its own."""
    findings = []
    flat = _flat(text)
    for value in values:
        if _flat(value) not in flat:
            findings.append(f"{where}: {value!r} is not there as typed")
    rest = flat
    for value in sorted(values, key=len, reverse=True):
        rest = rest.replace(_flat(value), " ")
    findings += [f"{where}: HTML-escaped {entity!r}" for entity in ENTITY.findall(rest)]
    return findings


def mail_findings(message, *, body: list[str], subject: list[str] = ()) -> list[str]:
    """Everything wrong with one sent or built message, given the hostile values its parts must show."""
    label = f"mail {message.subject[:60]!r}"
    findings = plain_findings(f"{label} subject", message.subject, list(subject))
    if "\n" in message.subject or "\r" in message.subject:
        findings.append(f"{label}: a line break in the subject")
    findings += plain_findings(f"{label} text", message.body, body)
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            findings += [f"{label} html: {finding}" for finding in injected_email(content)]
            visible = visible_text(content)
            findings += [f"{label} html: {v!r} is not shown" for v in body if _flat(v) not in visible]
    for name, content, _mimetype in message.attachments:
        if name == ICS_FILENAME:
            for line in content.replace("\r\n ", "").split("\r\n"):
                if line and not re.match(r"^[A-Z][A-Z-]*[:;]", line):
                    findings.append(f"{label} calendar: a line the file did not write: {line[:80]!r}")
    # the message really builds (headers are checked for injection there)
    message.message()
    return findings


def page_findings(pages: dict[str, tuple[Client, str]]) -> list[str]:
    findings = []
    for label, (client, url) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, f"{label} ({url}) answered {response.status_code}"
        findings += [f"{label}: {finding}" for finding in injected(response.content.decode())]
    return findings


def _pick(vectors: list[str], index: int, limit: int = 10_000) -> str:
    """The vector at ``index`` (wrapping), stripped as the forms strip, shortened to a field's limit."""
    return vectors[index % len(vectors)].strip()[:limit]


# --- the decline reason ---------------------------------------------------------------------------
# The normal suite tries 11 vectors of the corpus; make test-faults every one of them.
CORPUS = [
    pytest.param(lambda: xss_corpus.sample(11), id="sample"),
    pytest.param(xss_corpus.vectors, id="every-vector", marks=pytest.mark.faults),
]


def decline_everywhere(vectors: list[str], facilitator, capture, shown: list | None = None) -> list[str]:
    """For each vector a requested workshop with a hostile title, declined through the form with a hostile
    (multi-line) reason; the pages that show the reason parsed, the contact person's e-mail checked. ``shown``
    collects (label, client, url) of the pages, for the browser test to open."""
    fc = _staff_client(facilitator)
    contact = ContactPersonFactory(organisation=OrganisationFactory(name=_pick(vectors, 3, 200)))
    cc = _staff_client(contact)
    findings = []
    for index in range(len(vectors)):
        title = _pick(vectors, index, 200)
        reason = f"{_pick(vectors, index + 1)}\n{_pick(vectors, index + 2)}"
        workshop = WorkshopFactory(
            organisation=contact.organisation,
            status=Workshop.Status.REQUESTED,
            created_by=contact,
            title=title,
            language=LANGUAGES[index % len(LANGUAGES)],
        )
        mail.outbox.clear()
        with capture(execute=True):
            response = fc.post(reverse("workshops:decline", args=[workshop.pk]), {"reason": reason})
        assert response.status_code == 302, response.content.decode()[:500]
        workshop.refresh_from_db()
        assert workshop.status == Workshop.Status.DECLINED and workshop.decline_reason == reason
        [sent] = mail.outbox
        assert sent.to == [contact.email]
        findings += mail_findings(sent, body=[title, *reason.splitlines()], subject=[title])
        manage = reverse("workshops:manage", args=[workshop.pk])
        findings += page_findings({"contact person's workshop": (cc, manage), "facilitator's workshop": (fc, manage)})
    pages = {
        "contact person's home": (cc, reverse("home")),
        "facilitator's queue": (fc, reverse("workshops:queue")),
        "facilitator's home": (fc, reverse("home")),
    }
    findings += page_findings(pages)
    if shown is not None:
        manage = reverse("workshops:manage", args=[workshop.pk])
        shown += [(label, client, url) for label, (client, url) in pages.items()]
        shown += [("contact person's declined workshop", cc, manage), ("facilitator's declined workshop", fc, manage)]
    # the reason reached the pages (a scan of a page that dropped it would prove nothing)
    shown = cc.get(reverse("workshops:manage", args=[workshop.pk])).content.decode()
    assert _flat(_pick(vectors, len(vectors))) in visible_text(shown)
    return findings


@pytest.mark.parametrize("vectors", CORPUS)
def test_a_hostile_decline_reason_is_text_on_every_page_and_in_the_mail(
    vectors, facilitator, django_capture_on_commit_callbacks
):
    findings = decline_everywhere(vectors(), facilitator, django_capture_on_commit_callbacks)
    assert not findings, "\n".join(findings)


# --- the contact person's "accepted" e-mail ---------------------------------------------------------
def accepted_mails(vectors: list[str], facilitator, capture) -> list[str]:
    fc = _staff_client(facilitator)
    contact = ContactPersonFactory()
    findings = []
    for index in range(len(vectors)):
        title = _pick(vectors, index, 200)
        workshop = WorkshopFactory(
            organisation=contact.organisation,
            status=Workshop.Status.REQUESTED,
            created_by=contact,
            title=title,
            language=LANGUAGES[index % len(LANGUAGES)],
        )
        data = {
            "date": "2030-01-15",
            "time": "13:00",
            "duration_minutes": "120",
            "language": workshop.language,
            "meeting_url": "https://meet.example.fi/työpaja?huone=1&kieli=fi",
        }
        mail.outbox.clear()
        with capture(execute=True):
            response = fc.post(reverse("workshops:accept", args=[workshop.pk]), data)
        assert response.status_code == 302, response.content.decode()[:500]
        [sent] = mail.outbox
        findings += mail_findings(sent, body=[title, data["meeting_url"]], subject=[title])
    return findings


@pytest.mark.parametrize("vectors", CORPUS)
def test_the_accepted_mail_carries_a_hostile_title_as_typed(vectors, facilitator, django_capture_on_commit_callbacks):
    findings = accepted_mails(vectors(), facilitator, django_capture_on_commit_callbacks)
    assert not findings, "\n".join(findings)


# --- the participant's invitation ------------------------------------------------------------------
def invitations(vectors: list[str]) -> list[str]:
    """An invitation for each vector: hostile organisation, title, goal, name and case titles, the person the
    presenter of one case and group leader in turn (each role's paragraphs rendered)."""
    findings = []
    for index in range(len(vectors)):
        organisation = OrganisationFactory(name=f"{_pick(vectors, index, 180)} {index}")
        workshop = WorkshopFactory(
            organisation=organisation,
            title=_pick(vectors, index + 1, 200),
            goal=f"{_pick(vectors, index + 2)}\n\n{_pick(vectors, index + 3)}",
            language=LANGUAGES[index % len(LANGUAGES)],
            meeting_url="https://meet.example.fi/työpaja",
        )
        email = f"kutsuttu{index}@example.fi"
        cases = [
            CaseFactory(workshop=workshop, title=_pick(vectors, index + 4 + n, 200), presenter_email=email)
            if n == 0
            else CaseFactory(workshop=workshop, title=_pick(vectors, index + 4 + n, 200))
            for n in range(3)
        ]
        role = (Participant.Role.PRESENTER, Participant.Role.GROUP_LEADER, Participant.Role.PARTICIPANT)[index % 3]
        person = ParticipantFactory(workshop=workshop, name=_pick(vectors, index + 7, 150), email=email, role=role)
        message = invitation_message(participant=person, token=f"token-{index}")
        values = [
            organisation.name,
            workshop.title,
            *workshop.goal.split("\n\n"),
            person.name,
            *(case.title for case in cases),
        ]
        findings += mail_findings(message, body=values, subject=[workshop.title])
    return findings


@pytest.mark.parametrize("vectors", CORPUS)
def test_the_invitation_shows_hostile_values_as_text_in_both_parts(vectors):
    findings = invitations(vectors())
    assert not findings, "\n".join(findings)


# --- allauth's e-mails: sign-up confirmation and password reset -----------------------------------------------
def account_mails(vectors: list[str]) -> list[str]:
    findings = []
    for index in range(len(vectors)):
        name = _pick(vectors, index, 150)
        email = f"hostile{index}@example.fi"
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = LANGUAGES[index % len(LANGUAGES)]
        mail.outbox.clear()
        data = {"name": name, "email": email, "password1": PASSWORD, "password2": PASSWORD}
        response = client.post(reverse("account_signup"), data)
        assert response.status_code == 302, response.content.decode()[:500]
        assert User.objects.get(email=email).name == name
        [confirmation] = mail.outbox
        findings += mail_findings(confirmation, body=[name])
        mail.outbox.clear()
        assert Client().post(reverse("account_reset_password"), {"email": email}).status_code == 302
        [reset] = mail.outbox
        findings += mail_findings(reset, body=[])
    return findings


@pytest.mark.parametrize("vectors", CORPUS)
def test_the_account_mails_carry_a_hostile_name_as_typed(vectors):
    findings = account_mails(vectors())
    assert not findings, "\n".join(findings)


# --- the deletion request's mails: received, done, and the note to the facilitators ----------------------------
def deletion_mails(vectors: list[str], capture) -> list[str]:
    from privacy.emails import Addressee, deletion_done_mails, deletion_request_mails
    from privacy.services import deletion_request_create

    findings = []
    for index in range(len(vectors)):
        workshop = WorkshopFactory(title=_pick(vectors, index, 200), language=LANGUAGES[index % len(LANGUAGES)])
        person = ParticipantFactory(workshop=workshop, name=_pick(vectors, index + 1, 150))
        mail.outbox.clear()
        with capture(execute=True):
            request = deletion_request_create(participant=person)  # mails the person and the staff itself
            deletion_request_mails(request=request, facilitator_emails=["fasilitaattori@example.fi"])
            deletion_done_mails(workshop=workshop, addressees=[Addressee(person.name, person.email)])
        to_person = [message for message in mail.outbox if message.to == [person.email]]
        assert len(to_person) >= 3 and len(mail.outbox) > len(to_person)  # received twice, done; the staff notes
        for message in mail.outbox:
            to_person = message.to == [person.email]
            values = [workshop.title, person.name] if to_person else [workshop.title]
            findings += mail_findings(message, body=values, subject=[workshop.title])
    return findings


@pytest.mark.parametrize("vectors", CORPUS)
def test_the_deletion_mails_carry_hostile_names_and_titles_as_typed(vectors, django_capture_on_commit_callbacks):
    findings = deletion_mails(vectors(), django_capture_on_commit_callbacks)
    assert not findings, "\n".join(findings)
