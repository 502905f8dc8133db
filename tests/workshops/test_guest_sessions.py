"""A guest session holds only as long as the way it came in: a revoked link (also once a new one is issued)
and erased personal data shut the browser out with a page that says so; a new link or the join code let in."""

# ruff: noqa: F811  (the live workshop and the privacy trail are fixtures imported from their apps' conftest)

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from facilitation.models import Comment, LiveState
from facilitation.services import join_code_set
from privacy import services as privacy
from tests.facilitation.conftest import guest_client, live_workshop  # noqa: F401  (fixtures)
from tests.privacy.conftest import close, media, trail  # noqa: F401  (fixtures)
from tests.workshops.factories import ParticipantFactory
from workshops.guests import SESSION_KEY
from workshops.models import Participant
from workshops.services import participant_issue_token, participant_revoke_token

pytestmark = pytest.mark.django_db

ENDED = "Your access to this workshop has ended"


def english(client: Client) -> Client:
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def lobby(workshop) -> str:
    return reverse("workshops:lobby", args=[workshop.pk])


def join(client: Client, token: str):
    return client.get(reverse("workshops:join", kwargs={"token": token}))


def guest_pages(workshop) -> list[str]:
    return [
        lobby(workshop),
        reverse("facilitation:live", args=[workshop.pk]),
        reverse("facilitation:events", args=[workshop.pk]),
        reverse("privacy:my_data", args=[workshop.pk]),
        reverse("privacy:my_data_export", args=[workshop.pk]),
        reverse("privacy:my_data_delete", args=[workshop.pk]),
    ]


def assert_shut_out(client: Client, workshop) -> None:
    """Every page of the workshop answers 404 with the page that says why; nothing is a 500."""
    for url in guest_pages(workshop):
        response = client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert ENDED in html and "Traceback" not in html, url


def assert_inside(client: Client, workshop) -> None:
    response = client.get(reverse("facilitation:live", args=[workshop.pk]))
    assert response.status_code == 200


class TestRevokedLinks:
    def test_revoke_then_reissue_keeps_the_old_browser_out_and_lets_the_new_link_in(self, live_workshop):
        person = ParticipantFactory(workshop=live_workshop, name="Lotta Linkki")
        old_browser = english(guest_client(person))
        assert_inside(old_browser, live_workshop)

        participant_revoke_token(participant=person)
        assert_shut_out(old_browser, live_workshop)
        new_token = participant_issue_token(participant=person)
        assert_shut_out(old_browser, live_workshop)  # the new link lets nobody in who did not open it

        other_browser = english(Client())
        assert join(other_browser, new_token).status_code == 302
        assert_inside(other_browser, live_workshop)
        assert join(old_browser, new_token).status_code == 302  # the same person, now with their new link
        assert_inside(old_browser, live_workshop)
        assert old_browser.session[SESSION_KEY] == {str(live_workshop.pk): [person.pk, person.access_version]}

    def test_a_shut_out_browser_cannot_write(self, live_workshop):
        person = ParticipantFactory(workshop=live_workshop)
        browser = english(guest_client(person))
        participant_revoke_token(participant=person)
        participant_issue_token(participant=person)
        phase = LiveState.objects.get(pk=live_workshop.pk).current_phase
        response = browser.post(
            reverse("facilitation:comment_new", args=[live_workshop.pk]),
            {"text": "Eikö tämä mene läpi?", "phase": phase.pk, "client_id": str(uuid.uuid4())},
        )
        assert response.status_code == 404
        assert not Comment.objects.filter(text="Eikö tämä mene läpi?").exists()

    def test_a_resent_invitation_leaves_the_browser_that_already_joined_inside(self, live_workshop):
        """Sending the invitation again issues a new link, but shuts nobody out mid-workshop: only revoking does."""
        person = ParticipantFactory(workshop=live_workshop)
        browser = guest_client(person)
        participant_issue_token(participant=person)
        assert_inside(browser, live_workshop)

    def test_the_page_is_in_the_users_language(self, live_workshop):
        person = ParticipantFactory(workshop=live_workshop)
        browser = guest_client(person)  # Finnish by default
        participant_revoke_token(participant=person)
        html = browser.get(lobby(live_workshop)).content.decode()
        assert "Pääsysi tähän työpajaan on päättynyt" in html and '<html lang="fi">' in html

    def test_a_stranger_still_gets_the_plain_not_found_page(self, live_workshop):
        response = english(Client()).get(lobby(live_workshop))
        assert response.status_code == 404 and ENDED not in response.content.decode()

    def test_the_front_page_lists_only_participations_that_still_let_in(self, workshop, live_workshop):
        person = ParticipantFactory(workshop=live_workshop)
        browser = guest_client(person)
        assert live_workshop.title in browser.get(reverse("home")).content.decode()
        participant_revoke_token(participant=person)
        participant_issue_token(participant=person)
        assert reverse("workshops:lobby", args=[live_workshop.pk]) not in browser.get(reverse("home")).content.decode()

    def test_a_session_from_before_the_versions_still_works_until_the_link_is_revoked(self, live_workshop):
        person = ParticipantFactory(workshop=live_workshop)
        browser = english(Client())
        session = browser.session
        session[SESSION_KEY] = {str(live_workshop.pk): person.pk}  # the earlier format: only the id
        session.save()
        assert_inside(browser, live_workshop)
        participant_revoke_token(participant=person)
        participant_issue_token(participant=person)
        assert_shut_out(browser, live_workshop)


class TestJoinCode:
    def test_a_code_joined_guest_stays_in_and_a_revoked_one_may_join_again_with_the_code(self, live_workshop):
        code = join_code_set(workshop=live_workshop, enabled=True).join_code
        browser = english(Client())
        response = browser.post(reverse("facilitation:join_code"), {"code": code, "name": "Kaisa Koodi"})
        assert response.status_code == 302
        assert_inside(browser, live_workshop)
        first = Participant.objects.get(workshop=live_workshop, name="Kaisa Koodi")

        participant_revoke_token(participant=first)
        assert_shut_out(browser, live_workshop)
        # The code page no longer sends the browser "back in" to a page that refuses it: it may join anew.
        response = browser.post(reverse("facilitation:join_code"), {"code": code, "name": "Kaisa Koodi"})
        assert response.status_code == 302
        assert_inside(browser, live_workshop)
        assert Participant.objects.filter(workshop=live_workshop, name="Kaisa Koodi").count() == 2


class TestErasure:
    def test_an_erased_participant_is_shut_out_with_a_clear_page(self, trail, facilitator):
        browser = english(guest_client(trail.canary))
        other = english(guest_client(trail.other))
        assert_inside(browser, trail.workshop)
        privacy.participant_erase_personal_data(participant=trail.canary, by=facilitator)
        assert_shut_out(browser, trail.workshop)
        assert_inside(other, trail.workshop)  # nobody else is touched

    def test_a_code_joined_participant_erased_is_shut_out(self, live_workshop, facilitator):
        code = join_code_set(workshop=live_workshop, enabled=True).join_code
        browser = english(Client())
        browser.post(reverse("facilitation:join_code"), {"code": code, "name": "Kaisa Koodi"})
        person = Participant.objects.get(workshop=live_workshop, name="Kaisa Koodi")
        privacy.participant_erase_personal_data(participant=person, by=facilitator)
        assert_shut_out(browser, live_workshop)

    def test_erasing_the_workshop_shuts_out_every_guest(self, trail, facilitator):
        browser = english(guest_client(trail.canary))
        close(trail, facilitator)
        assert browser.get(lobby(trail.workshop)).status_code == 200  # a closed workshop's lobby stays open
        privacy.workshop_erase_personal_data(workshop=trail.workshop, by=facilitator)
        response = browser.get(lobby(trail.workshop))
        assert response.status_code == 404 and ENDED in response.content.decode()
        assert browser.get(reverse("privacy:my_data", args=[trail.workshop.pk])).status_code == 404
