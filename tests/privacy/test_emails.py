"""Deletion requests by e-mail: the participant hears that it was received and that it was done (at the
address taken before the erasure wipes it), the staff hear that one waits; in the workshop's language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from privacy import services
from privacy.models import DeletionRequest
from tests.facilitation.conftest import guest_client
from tests.privacy.conftest import close
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db

CANARY = "kanarialintu@example.fi"


def ask(participant, capture):
    client = guest_client(participant)
    with capture(execute=True):
        response = client.post(reverse("privacy:my_data_delete", args=[participant.workshop_id]))
    assert response.status_code == 302
    return response


def mails_to(outbox, address):
    return [message for message in outbox if message.to == [address]]


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_asking_mails_the_participant_a_confirmation_and_the_staff_a_note(
    trail, facilitator, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.KEHITTAMO_PRIVACY_EMAIL = "tietosuoja@kaupunki.example.fi"
    ask(trail.canary, django_capture_on_commit_callbacks)
    [confirmation] = mails_to(mailoutbox, CANARY)
    assert confirmation.subject == f"Saimme pyyntösi poistaa henkilötietosi: {trail.workshop.title}"
    assert "Hei Kanarialintu Kaivosmies," in confirmation.body
    assert "tietosuoja@kaupunki.example.fi" in confirmation.body
    assert "Saimme pyyntösi" in html_of(confirmation) and '<html lang="fi">' in html_of(confirmation)

    [to_controller] = mails_to(mailoutbox, "tietosuoja@kaupunki.example.fi")
    [to_facilitator] = mails_to(mailoutbox, facilitator.email)  # they started the workshop
    for note in (to_controller, to_facilitator):
        assert trail.workshop.title in note.subject
        assert settings.KEHITTAMO_SITE_URL + reverse("privacy:workshop", args=[trail.workshop.pk]) in note.body
        assert "Kanarialintu" not in note.body and CANARY not in note.body  # the page says who; the mail need not
    assert len(mailoutbox) == 3

    # Asking again changes nothing and mails nobody.
    ask(trail.canary, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3


def test_a_participant_without_an_address_is_not_mailed_but_the_staff_are(
    trail, facilitator, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.KEHITTAMO_PRIVACY_EMAIL = "tietosuoja@kaupunki.example.fi"
    nameless = ParticipantFactory(workshop=trail.workshop, name="Ilman Osoitetta", email="")
    ask(nameless, django_capture_on_commit_callbacks)
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        ["tietosuoja@kaupunki.example.fi", facilitator.email]
    )


def test_erasing_on_request_mails_done_to_the_address_it_wipes(
    trail, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    ask(trail.canary, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.participant_erase_personal_data(participant=trail.canary, by=facilitator)
    [done] = mailoutbox
    assert done.to == [CANARY]
    assert done.subject == f"Henkilötietosi on poistettu: {trail.workshop.title}"
    assert "Hei Kanarialintu Kaivosmies," in done.body and "Henkilötietosi on poistettu" in html_of(done)
    assert Participant.objects.get(pk=trail.canary.pk).email == ""  # wiped, yet the mail reached the person
    assert not DeletionRequest.objects.filter(handled_at__isnull=True).exists()


def test_erasing_without_a_request_mails_nobody(trail, facilitator, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.participant_erase_personal_data(participant=trail.canary, by=facilitator)
    assert mailoutbox == []


def test_erasing_the_workshop_tells_only_those_who_asked_in_the_workshops_language(
    trail, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    trail.workshop.language = "sv"
    trail.workshop.save(update_fields=["language"])
    ask(trail.canary, django_capture_on_commit_callbacks)
    [confirmation] = mails_to(mailoutbox, CANARY)
    assert confirmation.subject.startswith("Vi har tagit emot din begäran")
    mailoutbox.clear()
    close(trail, facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        services.workshop_erase_personal_data(workshop=trail.workshop, by=facilitator)
    [done] = mailoutbox
    assert done.to == [CANARY] and done.subject.startswith("Dina personuppgifter har raderats")


def test_a_mail_server_that_fails_does_not_lose_the_request(
    trail, settings, caplog, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as probe:  # a port nobody listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    ask(trail.canary, django_capture_on_commit_callbacks)  # the participant still gets the 302, not a 500
    assert DeletionRequest.objects.get().participant == trail.canary
    assert "privacy mail not sent: ConnectionRefusedError" in caplog.text
    assert CANARY not in caplog.text
