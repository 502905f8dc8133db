"""Invitations by e-mail: sent over real SMTP, one mail each, working links, calendar files, retries."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from celery.exceptions import Retry
from django.urls import reverse

from tests.workshops.factories import CaseFactory, ParticipantFactory
from workshops.invitations import (
    ICS_FILENAME,
    NothingToSend,
    WorkshopNotInvitable,
    WorkshopNotScheduled,
    invitation_batch_progress,
    invitation_batch_start,
    invitation_ics,
    invitation_message,
)
from workshops.models import InvitationBatch, Participant, Workshop, WorkshopStatusChange, hash_token
from workshops.tasks import invitations_send

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<>]+/j/[A-Za-z0-9_-]+/")
MONDAY_13_HELSINKI = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 13.00 in Helsinki (EET, UTC+2)


@pytest.fixture(autouse=True)
def eager_celery(settings):
    """Run tasks in-process even where REDIS_URL makes Celery use real workers."""
    from config.celery import app

    # read the app's own values before the settings change (Celery reads Django settings lazily)
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Start a batch and run what it enqueues on commit; returns the batch as it ended."""

    def start(**kwargs) -> InvitationBatch:
        with django_capture_on_commit_callbacks(execute=True):
            batch = invitation_batch_start(**kwargs)
        batch.refresh_from_db()
        return batch

    return start


def _mails_to(sink, address: str) -> list[EmailMessage]:
    return [message for message in sink.messages if message["To"] == address]


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def _link(message: EmailMessage) -> str:
    links = set(LINK.findall(_text(message)))
    assert len(links) == 1, links
    return links.pop()


def _ics_bytes(message: EmailMessage) -> bytes:
    parts = [part for part in message.iter_attachments() if part.get_filename() == ICS_FILENAME]
    assert len(parts) == 1
    assert parts[0].get_content_type() == "text/calendar"
    assert parts[0].get_param("method") == "PUBLISH"
    return parts[0].get_payload(decode=True)


def _ics_properties(raw: bytes) -> dict[str, str]:
    unfolded = raw.decode("utf-8").replace("\r\n ", "")
    properties = {}
    for line in unfolded.split("\r\n"):
        if line:
            name, _, value = line.partition(":")
            properties.setdefault(name, value)
    return properties


def _english(workshop: Workshop) -> Workshop:
    """Our Finnish and Swedish texts come later; English shows the msgids as they are."""
    workshop.language = "en"
    workshop.save(update_fields=["language"])
    return workshop


# --- a whole batch over SMTP -----------------------------------------------------------------------
def test_batch_mails_everyone_once_with_a_personal_link_that_works(
    send, smtp_sink, client, workshop, facilitator, participant, group_leader
):
    batch = send(workshop=workshop, requested_by=facilitator)

    assert invitation_batch_progress(batch=batch) == {
        "status": InvitationBatch.Status.DONE,
        "total": 2,
        "sent": 2,
        "failed": 0,
        "done": True,
        "percent": 100,
    }
    assert batch.finished_at is not None
    smtp_sink.wait_for(2)
    for guest in (participant, group_leader):
        mails = _mails_to(smtp_sink, guest.participant.email)
        assert len(mails) == 1
        link = _link(mails[0])
        token = urlsplit(link).path.split("/")[-2]
        assert link.startswith("http://") or link.startswith("https://")

        stored = Participant.objects.get(pk=guest.participant.pk)
        assert stored.invitation_status == Participant.InvitationStatus.SENT
        assert stored.invited_at >= batch.created_at
        assert stored.invitation_error == ""
        assert stored.token_hash == hash_token(token)
        assert token not in stored.token_hash
        assert token != guest.token  # a fresh link replaces the earlier one

        response = client.get(urlsplit(link).path)
        assert response.status_code == 302
        assert response.url == reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk})
        client.logout()


def test_mail_names_the_date_organisation_cases_and_says_no_password_is_needed(
    send, smtp_sink, workshop, facilitator, participant
):
    _english(workshop)
    workshop.starts_at = MONDAY_13_HELSINKI
    workshop.meeting_url = "https://meet.example.fi/tyopaja-42"
    workshop.save(update_fields=["starts_at", "meeting_url"])
    send(workshop=workshop, requested_by=facilitator)

    (mail,) = smtp_sink.wait_for(1)
    text, html = _text(mail), _html(mail)
    when = "Monday 30 November 2026, 13:00–15:00"
    assert when in mail["Subject"]
    assert "Parastaminen-työpaja" in mail["Subject"]
    for body in (text, html):
        assert when in body
        assert "Esimerkkilän kaupunki" in body
        assert all(title in body for title in ["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"])
        assert "https://meet.example.fi/tyopaja-42" in body
        assert "do not need an account or a password" in body
    assert _link(mail) in html
    assert '<html lang="en">' in html


def test_finnish_workshop_gets_helsinki_time_with_finnish_date_habits(workshop, participant):
    workshop.starts_at = MONDAY_13_HELSINKI
    workshop.save(update_fields=["starts_at"])

    message = invitation_message(participant=participant.participant, token="x" * 43)

    # Day names come from Django's own Finnish catalogue; the numbers from our format.
    assert "maanantai 30.11.2026" in message.subject
    assert "13.00–15.00" in message.body
    assert message.to == ["aino@example.fi"]


def test_only_the_group_leaders_and_presenters_mails_explain_a_role(
    send, smtp_sink, workshop, participant, group_leader
):
    _english(workshop)
    presenter = ParticipantFactory(
        workshop=workshop, name="Pekka Esittelijä", email="pekka@example.fi", role=Participant.Role.PRESENTER
    )
    CaseFactory(workshop=workshop, position=4, title="Lähiöiden olohuoneet", presenter_email="pekka@example.fi")
    send(workshop=workshop, requested_by=None)
    smtp_sink.wait_for(3)

    (leader_mail,) = _mails_to(smtp_sink, "rauha@example.fi")
    (plain_mail,) = _mails_to(smtp_sink, "aino@example.fi")
    (presenter_mail,) = _mails_to(smtp_sink, presenter.email)
    for body in (_text(leader_mail), _html(leader_mail)):
        assert "Your role: group leader" in body
        assert "small group" in body
    for body in (_text(presenter_mail), _html(presenter_mail)):
        assert "Your role: presenter" in body
        assert "Lähiöiden olohuoneet" in body
        assert "observations and questions" in body
    for body in (_text(plain_mail), _html(plain_mail)):
        assert "Your role" not in body


def test_html_body_escapes_names_the_plain_text_keeps_them(workshop):
    _english(workshop)
    person = ParticipantFactory(workshop=workshop, name="Tiina <b>Testi</b>", email="tiina@example.fi")

    message = invitation_message(participant=person, token="t" * 43)

    html = message.alternatives[0][0]
    assert "Tiina &lt;b&gt;Testi&lt;/b&gt;" in html
    assert "<b>Testi</b>" not in html
    assert "Hello Tiina <b>Testi</b>," in message.body


# --- the calendar file ------------------------------------------------------------------------------
def test_calendar_attachment_is_valid_rfc5545(send, smtp_sink, workshop, participant):
    workshop.starts_at = MONDAY_13_HELSINKI
    workshop.duration_minutes = 90
    workshop.save(update_fields=["starts_at", "duration_minutes"])
    send(workshop=workshop, requested_by=None)

    (mail,) = smtp_sink.wait_for(1)
    raw = _ics_bytes(mail)
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF only
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))

    properties = _ics_properties(raw)
    person = participant.participant
    assert properties["BEGIN"] == "VCALENDAR"
    assert properties["VERSION"] == "2.0"
    assert properties["METHOD"] == "PUBLISH"
    assert properties["PRODID"]
    assert properties["UID"] == f"workshop-{workshop.pk}-participant-{person.pk}@kehittamo"
    assert properties["DTSTART"] == "20261130T110000Z"
    assert properties["DTEND"] == "20261130T123000Z"
    assert re.fullmatch(r"\d{8}T\d{6}Z", properties["DTSTAMP"])
    assert properties["SUMMARY"] == "Parastaminen-työpaja"
    assert properties["URL"] == _link(mail)
    assert _link(mail) in properties["DESCRIPTION"].replace("\\n", "\n")
    assert "LOCATION" not in properties  # no video meeting set


def test_calendar_text_is_escaped_and_folded_on_character_boundaries(workshop, participant):
    workshop.title = "Äänestäjien ääni, osallisuus; ja \\ kehittäminen\n" + "ä" * 80
    workshop.meeting_url = "https://meet.example.fi/room?id=1,2"
    join_url = "https://kehittamo.example.fi/j/" + "a" * 43 + "/"

    raw = invitation_ics(workshop=workshop, participant=participant.participant, join_url=join_url).encode("utf-8")

    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # no line ends in the middle of a character
    assert any(line.startswith(b" ") for line in lines)
    properties = _ics_properties(raw)
    assert properties["SUMMARY"] == "Äänestäjien ääni\\, osallisuus\\; ja \\\\ kehittäminen\\n" + "ä" * 80
    assert properties["LOCATION"] == "https://meet.example.fi/room?id=1\\,2"
    assert properties["URL"] == join_url


def test_calendar_needs_a_start_time(workshop, participant):
    workshop.starts_at = None
    with pytest.raises(ValueError):
        invitation_ics(workshop=workshop, participant=participant.participant, join_url="https://x.fi/j/a/")


# --- choosing whom to invite --------------------------------------------------------------------------
def test_only_not_invited_skips_those_already_invited(send, smtp_sink, workshop, participant, group_leader):
    send(workshop=workshop, requested_by=None, participant_ids=[participant.participant.pk])
    newcomer = ParticipantFactory(workshop=workshop, name="Uusi Osallistuja", email="uusi@example.fi")

    batch = send(workshop=workshop, requested_by=None, only_not_invited=True)

    assert set(batch.participants.values_list("pk", flat=True)) == {group_leader.participant.pk, newcomer.pk}
    assert batch.total == 2
    smtp_sink.wait_for(3)
    assert len(_mails_to(smtp_sink, "aino@example.fi")) == 1
    assert len(_mails_to(smtp_sink, "rauha@example.fi")) == 1
    assert len(_mails_to(smtp_sink, "uusi@example.fi")) == 1
    with pytest.raises(NothingToSend):
        invitation_batch_start(workshop=workshop, requested_by=None, only_not_invited=True)


def test_participant_without_email_is_not_queued(send, smtp_sink, workshop, participant):
    no_email = ParticipantFactory(workshop=workshop, name="Ei Sähköpostia", email="")

    batch = send(workshop=workshop, requested_by=None)

    assert list(batch.participants.all()) == [participant.participant]
    no_email.refresh_from_db()
    assert no_email.invitation_status == Participant.InvitationStatus.NOT_INVITED
    with pytest.raises(NothingToSend):
        invitation_batch_start(workshop=workshop, requested_by=None, participant_ids=[no_email.pk])


def test_a_workshop_without_a_date_cannot_send_invitations(workshop, participant, django_capture_on_commit_callbacks):
    workshop.starts_at = None
    workshop.save(update_fields=["starts_at"])

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(WorkshopNotScheduled):
        invitation_batch_start(workshop=workshop, requested_by=None)

    assert issubclass(WorkshopNotScheduled, NothingToSend)
    assert callbacks == []
    assert not InvitationBatch.objects.exists()
    participant.participant.refresh_from_db()
    assert participant.participant.invitation_status == Participant.InvitationStatus.NOT_INVITED


@pytest.mark.parametrize("status", [Workshop.Status.REQUESTED, Workshop.Status.CANCELLED, Workshop.Status.CLOSED])
def test_a_workshop_not_planned_or_already_over_sends_nothing(workshop, participant, status):
    workshop.status = status
    workshop.save(update_fields=["status"])

    with pytest.raises(WorkshopNotInvitable):
        invitation_batch_start(workshop=workshop, requested_by=None)

    assert issubclass(WorkshopNotInvitable, NothingToSend)
    assert not InvitationBatch.objects.exists()


def test_second_start_while_one_is_under_way_returns_the_same_batch(
    workshop, participant, group_leader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as first_callbacks:
        first = invitation_batch_start(workshop=workshop, requested_by=None)
    assert len(first_callbacks) == 1
    assert first.status == InvitationBatch.Status.PENDING
    assert set(Participant.objects.values_list("invitation_status", flat=True)) == {Participant.InvitationStatus.QUEUED}
    InvitationBatch.objects.filter(pk=first.pk).update(status=InvitationBatch.Status.RUNNING)

    with django_capture_on_commit_callbacks() as second_callbacks:
        second = invitation_batch_start(workshop=workshop, requested_by=None)

    assert second.pk == first.pk
    assert second_callbacks == []
    assert InvitationBatch.objects.count() == 1


# --- idempotency and failures -------------------------------------------------------------------------
def test_progress_moves_after_every_participant(send, smtp_sink, monkeypatch, workshop, participant, group_leader):
    from workshops import invitations

    seen = []
    send_one = invitations.invitation_send_one

    def send_and_look(*, batch, participant, connection):
        result = send_one(batch=batch, participant=participant, connection=connection)
        seen.append(invitation_batch_progress(batch=batch))
        return result

    monkeypatch.setattr(invitations, "invitation_send_one", send_and_look)
    send(workshop=workshop, requested_by=None)

    assert [(p["status"], p["sent"], p["percent"], p["done"]) for p in seen] == [
        (InvitationBatch.Status.RUNNING, 1, 50, False),
        (InvitationBatch.Status.RUNNING, 2, 100, False),
    ]


def test_running_the_task_again_mails_nobody_twice(send, smtp_sink, workshop, participant, group_leader):
    batch = send(workshop=workshop, requested_by=None)
    smtp_sink.wait_for(2)

    invitations_send.delay(batch.pk)  # a duplicate delivery after the batch finished
    # A re-delivery after a crash just before the batch was marked done:
    InvitationBatch.objects.filter(pk=batch.pk).update(status=InvitationBatch.Status.RUNNING, finished_at=None)
    result = invitations_send.delay(batch.pk).get()

    assert len(smtp_sink.messages) == 2
    assert result["sent"] == 2
    assert result["failed"] == 0
    assert result["done"] is True


def test_a_refused_address_fails_alone_and_a_retry_sends_only_to_it(
    send, smtp_sink, client, workshop, participant, group_leader
):
    async def refuse_rauha(server, session, envelope, address, rcpt_options):
        if address == "rauha@example.fi":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_sink.handle_RCPT = refuse_rauha  # aiosmtpd looks hooks up on every new connection
    batch = send(workshop=workshop, requested_by=None)

    assert (batch.status, batch.total, batch.sent, batch.failed) == (InvitationBatch.Status.DONE, 2, 1, 1)
    leader = Participant.objects.get(pk=group_leader.participant.pk)
    aino = Participant.objects.get(pk=participant.participant.pk)
    assert aino.invitation_status == Participant.InvitationStatus.SENT
    assert leader.invitation_status == Participant.InvitationStatus.FAILED
    assert leader.invitation_error.startswith("SMTPRecipientsRefused")
    assert "550" in leader.invitation_error
    assert len(leader.invitation_error) <= 300
    assert leader.invited_at is None
    # The mail never left, so the leader's earlier link still works.
    assert leader.token_hash == hash_token(group_leader.token)
    assert client.get(reverse("workshops:join", kwargs={"token": group_leader.token})).status_code == 302
    assert len(smtp_sink.wait_for(1)) == 1

    del smtp_sink.handle_RCPT
    retry = send(workshop=workshop, requested_by=None, participant_ids=[leader.pk])

    assert retry.pk != batch.pk
    assert (retry.total, retry.sent, retry.failed) == (1, 1, 0)
    smtp_sink.wait_for(2)
    assert len(_mails_to(smtp_sink, "aino@example.fi")) == 1
    assert len(_mails_to(smtp_sink, "rauha@example.fi")) == 1
    leader.refresh_from_db()
    assert leader.invitation_status == Participant.InvitationStatus.SENT
    assert leader.invitation_error == ""


def test_error_text_never_contains_the_token(send, smtp_sink, workshop, participant, monkeypatch):
    from django.core.mail.backends.smtp import EmailBackend

    def broken(self, messages):
        link = LINK.search(messages[0].body).group(0)
        raise OSError(f"connection reset while sending {link}")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    batch = send(workshop=workshop, requested_by=None)

    person = Participant.objects.get(pk=participant.participant.pk)
    assert batch.failed == 1
    assert person.invitation_status == Participant.InvitationStatus.FAILED
    assert person.invitation_error.startswith("OSError: connection reset while sending")
    assert "/j/" in person.invitation_error
    assert not re.search(r"/j/[A-Za-z0-9_-]{20,}", person.invitation_error)


def test_unreachable_mail_server_without_a_worker_fails_the_batch_cleanly(
    send, smtp_sink, settings, workshop, participant
):
    settings.EMAIL_PORT = _closed_port()

    batch = send(workshop=workshop, requested_by=None)

    person = Participant.objects.get(pk=participant.participant.pk)
    assert (batch.status, batch.sent, batch.failed) == (InvitationBatch.Status.DONE, 0, 1)
    assert batch.finished_at is not None
    assert person.invitation_status == Participant.InvitationStatus.FAILED
    assert person.invitation_error.startswith("ConnectionRefusedError")
    assert smtp_sink.messages == []
    workshop.refresh_from_db()
    assert workshop.status == Workshop.Status.PLANNED


def test_on_a_worker_an_unreachable_mail_server_is_retried_before_giving_up(
    settings, monkeypatch, workshop, participant, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    with django_capture_on_commit_callbacks():  # enqueue nothing: we play the worker below
        batch = invitation_batch_start(workshop=workshop, requested_by=None)
    retries = []

    def fake_retry(*, exc=None, **options):
        retries.append(exc)
        return Retry(exc=exc)

    monkeypatch.setattr(invitations_send, "retry", fake_retry)

    invitations_send.push_request(id="worker-1", retries=0, is_eager=False)
    try:
        with pytest.raises(Retry):
            invitations_send.run(batch.pk)
    finally:
        invitations_send.pop_request()
    assert len(retries) == 1
    assert isinstance(retries[0], ConnectionRefusedError)
    batch.refresh_from_db()
    participant.participant.refresh_from_db()
    assert batch.status == InvitationBatch.Status.RUNNING
    assert participant.participant.invitation_status == Participant.InvitationStatus.QUEUED  # nobody failed yet

    invitations_send.push_request(id="worker-1", retries=invitations_send.max_retries, is_eager=False)
    try:
        result = invitations_send.run(batch.pk)
    finally:
        invitations_send.pop_request()
    assert len(retries) == 1
    assert result == {"status": "done", "total": 1, "sent": 0, "failed": 1, "done": True, "percent": 100}
    participant.participant.refresh_from_db()
    assert participant.participant.invitation_status == Participant.InvitationStatus.FAILED


def _closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the workshop's status ----------------------------------------------------------------------------
def test_sending_moves_a_planned_workshop_to_invitations_sent(send, smtp_sink, workshop, facilitator, participant):
    assert workshop.status == Workshop.Status.PLANNED

    send(workshop=workshop, requested_by=facilitator)

    workshop.refresh_from_db()
    assert workshop.status == Workshop.Status.INVITATIONS_SENT
    change = WorkshopStatusChange.objects.get(workshop=workshop)
    assert (change.from_status, change.to_status) == (Workshop.Status.PLANNED, Workshop.Status.INVITATIONS_SENT)
    assert change.changed_by == facilitator
    assert change.note == "invitations sent"


def test_a_worker_killed_between_mail_and_record_never_mails_anyone_twice(
    send, smtp_sink, monkeypatch, workshop, participant, group_leader
):
    """The mail left, the worker died before saving that: the retry must not send it again."""
    from workshops import invitations

    class WorkerKilled(BaseException):  # SIGKILL: no except clause of the task sees it
        pass

    real_now = invitations.timezone.now

    def now_or_die():
        if _mails_to(smtp_sink, "rauha@example.fi") and not killed:
            killed.append(True)
            raise WorkerKilled
        return real_now()

    killed: list[bool] = []
    monkeypatch.setattr(invitations.timezone, "now", now_or_die)
    with pytest.raises(WorkerKilled):
        send(workshop=workshop, requested_by=None)
    batch = InvitationBatch.objects.get(workshop=workshop)
    rauha = Participant.objects.get(pk=group_leader.participant.pk)
    assert rauha.invitation_status == Participant.InvitationStatus.SENDING

    result = invitations_send.delay(batch.pk).get()  # the message's next delivery, to a new worker

    assert len(_mails_to(smtp_sink, "rauha@example.fi")) == 1
    assert len(_mails_to(smtp_sink, "aino@example.fi")) == 1
    rauha.refresh_from_db()
    assert rauha.invitation_status == Participant.InvitationStatus.FAILED
    assert rauha.invitation_error.startswith("Lähetys keskeytyi")  # Finnish: the worker runs in the default language
    assert (result["sent"], result["failed"], result["done"]) == (1, 1, True)


def test_an_unexpected_error_mid_send_puts_the_participant_back_in_the_queue(
    monkeypatch, workshop, participant, django_capture_on_commit_callbacks
):
    from workshops import invitations

    def broken(**kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(invitations, "invitation_message", broken)
    before = Participant.objects.get(pk=participant.participant.pk).token_hash
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        invitation_batch_start(workshop=workshop, requested_by=None)
    person = Participant.objects.get(pk=participant.participant.pk)
    assert person.token_hash == before  # the link that was mailed earlier still works
    assert person.invitation_status == Participant.InvitationStatus.FAILED  # the task gave up and said so
