"""Joining an open event with the short join code: one identity per browser, the same answer for every
code that does not work, a throttle on guessing, and the facilitator's screen with its QR code."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from facilitation import views_join
from facilitation.models import LiveState
from facilitation.services import join_code_set
from workshops.guests import SESSION_KEY
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db

JOIN = reverse("facilitation:join_code")
IP = "192.0.2.10"
OTHER_IP = "198.51.100.20"


def open_code(workshop) -> str:
    return join_code_set(workshop=workshop, enabled=True).join_code


def post_join(client, code: str, name: str = "Veera Vieras", ip: str = IP):
    return client.post(JOIN, {"code": code, "name": name}, REMOTE_ADDR=ip)


def lobby_url(workshop) -> str:
    return reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk})


def guests(workshop):
    return Participant.objects.filter(workshop=workshop)


def wrong_code(code: str) -> str:
    """A well-formed code that is not this one."""
    return ("B" if code[0] != "B" else "C") + code[1:]


class TestJoining:
    def test_a_guest_joins_with_code_and_name_and_lands_in_the_lobby(self, client, workshop):
        code = open_code(workshop)
        response = post_join(client, code, "Veera Vieras")
        assert response.status_code == 302
        assert response.url == lobby_url(workshop)
        [guest] = guests(workshop)
        assert guest.name == "Veera Vieras"
        assert guest.role == Participant.Role.PARTICIPANT
        assert client.session[SESSION_KEY] == {str(workshop.pk): [guest.pk, 0]}
        lobby = client.get(response.url)
        assert lobby.status_code == 200
        assert lobby.context["access"].participant == guest
        assert "Veera Vieras" in lobby.content.decode()

    def test_the_prefilled_address_from_the_qr_code_shows_the_form_with_the_code(self, client, workshop):
        code = open_code(workshop)
        response = client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": code}))
        assert response.status_code == 200
        assert response.context["form"]["code"].value() == code
        assert response.context["form"].fields["name"].required  # not shown as optional
        assert f'value="{code}"' in response.content.decode()
        assert not guests(workshop).exists()

    def test_the_front_page_entry_goes_to_the_join_page_with_the_code(self, client, workshop):
        code = open_code(workshop)
        home = client.get(reverse("home")).content.decode()
        assert f'action="{JOIN}"' in home
        assert 'name="code"' in home
        response = client.get(JOIN, {"code": code.lower()})
        assert response.status_code == 200
        assert response.context["form"]["code"].value() == code.lower()

    def test_the_same_browser_joining_again_keeps_one_identity(self, client, workshop):
        code = open_code(workshop)
        post_join(client, code, "Veera Vieras")
        [guest] = guests(workshop)

        prefilled = client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": code}))
        assert prefilled.status_code == 302
        assert prefilled.url == lobby_url(workshop)

        again = post_join(client, code, "Toinen Nimi")
        assert again.status_code == 302
        assert again.url == lobby_url(workshop)

        without_name = post_join(client, code, "")
        assert without_name.status_code == 302
        assert list(guests(workshop)) == [guest]
        guest.refresh_from_db()
        assert guest.name == "Veera Vieras"

    def test_a_browser_that_joined_with_its_invitation_link_is_not_joined_twice(self, client, workshop, participant):
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))
        code = open_code(workshop)
        assert post_join(client, code, "").url == lobby_url(workshop)
        assert list(guests(workshop)) == [participant.participant]

    def test_a_removed_participant_can_join_again(self, client, workshop):
        code = open_code(workshop)
        post_join(client, code, "Veera Vieras")
        guests(workshop).delete()
        assert client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": code})).status_code == 200
        assert post_join(client, code, "Veera Vieras").status_code == 302
        assert guests(workshop).count() == 1

    def test_another_browser_is_another_participant(self, workshop):
        code = open_code(workshop)
        post_join(Client(), code, "Veera Vieras")
        post_join(Client(), code, "Ville Vieras")
        assert sorted(guests(workshop).values_list("name", flat=True)) == ["Veera Vieras", "Ville Vieras"]

    @pytest.mark.parametrize("typed", ["{lower}", " {lower3} {rest} ", "{code3}-{rest}"])
    def test_lower_case_spaces_and_dashes_are_fine(self, client, workshop, typed):
        code = open_code(workshop)
        text = typed.format(lower=code.lower(), lower3=code[:3].lower(), code3=code[:3], rest=code[3:])
        assert post_join(client, text).url == lobby_url(workshop)
        assert guests(workshop).count() == 1

    def test_the_name_is_tidied(self, client, workshop):
        post_join(client, open_code(workshop), "  Veera   Vieras ")
        assert guests(workshop).get().name == "Veera Vieras"


class TestCodesThatDoNotWork:
    def _refused(self, response, workshop, name="Veera Vieras"):
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["code"]
        assert form["name"].value() == name  # what was valid stays in the form
        assert not guests(workshop).exists()
        assert SESSION_KEY not in response.client.session
        return form.errors["code"]

    def test_unknown_code(self, client, workshop):
        code = open_code(workshop)
        self._refused(post_join(client, wrong_code(code)), workshop)

    def test_switched_off_code_gets_the_same_answer_as_an_unknown_one(self, client, workshop):
        code = open_code(workshop)
        unknown = self._refused(post_join(client, wrong_code(code)), workshop)
        join_code_set(workshop=workshop, enabled=False)
        switched_off = self._refused(post_join(client, code), workshop)
        assert switched_off == unknown

    @pytest.mark.parametrize(
        "status",
        [Workshop.Status.CLOSED, Workshop.Status.CANCELLED, Workshop.Status.REQUESTED, Workshop.Status.ARCHIVED],
    )
    def test_a_workshop_that_takes_nobody_in(self, client, workshop, status):
        code = open_code(workshop)
        Workshop.objects.filter(pk=workshop.pk).update(status=status)
        self._refused(post_join(client, code), workshop)

    def test_a_switched_off_code_does_not_redirect_even_a_returning_browser(self, client, workshop):
        code = open_code(workshop)
        post_join(client, code)
        join_code_set(workshop=workshop, enabled=False)
        assert client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": code})).status_code == 200
        assert post_join(client, code).status_code == 200

    def test_a_guessed_prefilled_address_reveals_nothing(self, client, workshop):
        code = open_code(workshop)
        real = client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": code}))
        guess = client.get(reverse("facilitation:join_code_prefilled", kwargs={"code": wrong_code(code)}))
        assert real.status_code == guess.status_code == 200
        assert not real.context["form"].errors and not guess.context["form"].errors

    @pytest.mark.parametrize(
        "data",
        [
            {"code": "x" * 5000, "name": "Veera"},
            {"code": "ABC\x00DE", "name": "Veera"},
            {"code": "ÅÄÖ123", "name": "Veera"},
            {},
            {"code": ["A", "B"], "name": ["x", "y"]},
        ],
    )
    def test_bad_input_never_fails_loudly(self, client, workshop, data):
        open_code(workshop)
        response = client.post(JOIN, data, REMOTE_ADDR=IP)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not guests(workshop).exists()


class TestTheName:
    def test_an_empty_name_is_refused_and_the_code_is_kept(self, client, workshop):
        code = open_code(workshop)
        response = post_join(client, code, "   ")
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["name"] and "code" not in form.errors
        assert form["code"].value() == code
        assert f'value="{code}"' in response.content.decode()
        assert not guests(workshop).exists()

    def test_a_too_long_name_is_refused(self, client, workshop):
        response = post_join(client, open_code(workshop), "x" * 81)
        assert response.context["form"].errors["name"]
        assert not guests(workshop).exists()

    def test_a_name_that_a_spreadsheet_would_run_is_refused(self, client, workshop):
        response = post_join(client, open_code(workshop), "=HYPERLINK(1)")
        assert response.context["form"].errors["name"]
        assert not guests(workshop).exists()

    def test_empty_name_is_not_counted_as_a_wrong_code(self, workshop):
        code = open_code(workshop)
        for _attempt in range(views_join.FAILED_ATTEMPTS_LIMIT + 2):
            assert post_join(Client(), code, "").status_code == 200
        assert post_join(Client(), code).status_code == 302


class TestTeamSize:
    def test_a_team_at_one_screen_says_how_many_they_are(self, client, workshop):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        code = open_code(workshop)
        page = client.get(JOIN, {"code": code}).content.decode()
        assert 'name="team_size"' in page and "How many people are on this screen?" in page
        response = client.post(JOIN, {"code": code, "name": "Tiimi Kolme", "team_size": "3"}, REMOTE_ADDR=IP)
        assert response.status_code == 302
        assert guests(workshop).get().team_size == 3

    def test_one_person_when_left_empty(self, client, workshop):
        response = client.post(JOIN, {"code": open_code(workshop), "name": "Yksin", "team_size": ""}, REMOTE_ADDR=IP)
        assert response.status_code == 302
        assert guests(workshop).get().team_size == 1

    @pytest.mark.parametrize("size", ["0", "51", "kolme", "2.5"])
    def test_an_impossible_size_is_refused_and_the_name_kept(self, client, workshop, size):
        code = open_code(workshop)
        response = client.post(JOIN, {"code": code, "name": "Tiimi", "team_size": size}, REMOTE_ADDR=IP)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["team_size"] and "name" not in form.errors
        assert 'value="Tiimi"' in response.content.decode()
        assert not guests(workshop).exists()


class TestThrottle:
    def test_one_wrong_code_too_many_from_one_address_gets_429_even_with_the_right_code(self, workshop):
        # Generous enough for a hall of people behind one address; 32**6 codes stay out of reach.
        assert views_join.FAILED_ATTEMPTS_LIMIT == 30
        assert views_join.FAILED_ATTEMPTS_WINDOW == 600
        code = open_code(workshop)
        guesser = Client()
        for _attempt in range(views_join.FAILED_ATTEMPTS_LIMIT):
            assert post_join(guesser, wrong_code(code)).status_code == 200
        throttled = post_join(guesser, wrong_code(code))
        assert throttled.status_code == 429
        assert "Traceback" not in throttled.content.decode()
        # the same address in another browser, with the right code: still refused
        assert post_join(Client(), code).status_code == 429
        assert not guests(workshop).exists()
        # another address is not affected
        assert post_join(Client(), code, ip=OTHER_IP).status_code == 302
        assert guests(workshop).count() == 1

    def test_successful_joins_do_not_count(self, workshop):
        code = open_code(workshop)
        for _attempt in range(views_join.FAILED_ATTEMPTS_LIMIT + 2):
            assert post_join(Client(), code).status_code == 302
        for _attempt in range(views_join.FAILED_ATTEMPTS_LIMIT):
            assert post_join(Client(), wrong_code(code)).status_code == 200
        assert post_join(Client(), code).status_code == 429

    def test_the_throttle_ends_when_the_window_passes(self, workshop, monkeypatch):
        monkeypatch.setattr(views_join, "FAILED_ATTEMPTS_WINDOW", 1)
        monkeypatch.setattr(views_join, "FAILED_ATTEMPTS_LIMIT", 3)  # all within the short window
        code = open_code(workshop)
        for _attempt in range(views_join.FAILED_ATTEMPTS_LIMIT):
            post_join(Client(), wrong_code(code))
        assert post_join(Client(), code).status_code == 429
        time.sleep(1.3)
        assert post_join(Client(), code).status_code == 302


class TestRefusedJoinKeepsWhatWasTyped:
    """A refused join shows the join form again, filled in as it was, with the note to wait (429)."""

    def _refused_page(self, response, *, code: str) -> str:
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        html = response.content.decode()
        assert 'value="Veera Vieras"' in html and f'value="{code}"' in html and 'value="3"' in html
        assert 'role="alert"' in html and "Traceback" not in html
        return html

    def test_after_too_many_wrong_codes_in_swedish(self, client, workshop, monkeypatch):
        monkeypatch.setattr(views_join, "FAILED_ATTEMPTS_LIMIT", 2)
        code = open_code(workshop)
        for _attempt in range(2):
            post_join(Client(), wrong_code(code))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        response = client.post(JOIN, {"code": code, "name": "Veera Vieras", "team_size": "3"}, REMOTE_ADDR=IP)
        html = self._refused_page(response, code=code)
        assert '<html lang="sv">' in html
        assert "Alltför många försökte delta härifrån på kort tid." in html
        assert not guests(workshop).exists()

    @pytest.mark.parametrize("scope", ["address", "workshop"])
    def test_over_the_join_limit_in_finnish(self, client, workshop, settings, scope):
        limits = {"address": (100, 600), "workshop": (100, 600)}
        limits[scope] = (1, 600)
        settings.KEHITTAMO_RATE_LIMITS = {**settings.KEHITTAMO_RATE_LIMITS, "join": limits}
        code = open_code(workshop)
        assert post_join(Client(), code, "Ensimmäinen").status_code == 302
        response = client.post(JOIN, {"code": code, "name": "Veera Vieras", "team_size": "3"}, REMOTE_ADDR=IP)
        html = self._refused_page(response, code=code)
        assert "Liian moni yritti liittyä täältä lyhyessä ajassa." in html
        assert list(guests(workshop).values_list("name", flat=True)) == ["Ensimmäinen"]
        # The same form, sent again once the limit allows it, gets in.
        settings.KEHITTAMO_RATE_LIMITS = {**settings.KEHITTAMO_RATE_LIMITS, "join": {}}
        assert client.post(JOIN, {"code": code, "name": "Veera Vieras"}, REMOTE_ADDR=IP).status_code == 302


def sign_in(client, user):
    client.force_login(user)


class TestJoinScreen:
    def _screen(self, client, workshop):
        return client.get(reverse("facilitation:join_screen", kwargs={"workshop_id": workshop.pk}))

    def _toggle(self, client, workshop, action):
        return client.post(
            reverse("facilitation:join_code_toggle", kwargs={"workshop_id": workshop.pk}), {"action": action}
        )

    def _qr(self, client, workshop):
        return client.get(reverse("facilitation:join_qr", kwargs={"workshop_id": workshop.pk}))

    def test_facilitator_switches_the_code_on_and_sees_it_large_with_the_qr_code(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        off = self._screen(client, workshop)
        assert off.status_code == 200
        assert reverse("facilitation:join_qr", kwargs={"workshop_id": workshop.pk}) not in off.content.decode()

        response = self._toggle(client, workshop, "on")
        assert response.status_code == 302
        assert response.url == reverse("facilitation:join_screen", kwargs={"workshop_id": workshop.pk})
        live = LiveState.objects.get(pk=workshop.pk)
        assert live.join_code_enabled and len(live.join_code) == 6

        html = self._screen(client, workshop).content.decode()
        assert f"{live.join_code[:3]} {live.join_code[3:]}" in html
        assert reverse("facilitation:join_qr", kwargs={"workshop_id": workshop.pk}) in html
        assert settings.KEHITTAMO_SITE_URL.split("://")[1] + JOIN in html
        assert 'alt="' in html and 'alt=""' not in html
        # and a guest can use it
        assert post_join(Client(), live.join_code).status_code == 302

    def test_qr_code_is_an_svg_of_the_prefilled_join_address(self, client, facilitator, workshop, monkeypatch):
        sign_in(client, facilitator)
        code = open_code(workshop)
        encoded = []
        real_make = views_join.segno.make

        def spy(content, **kwargs):
            encoded.append(content)
            return real_make(content, **kwargs)

        monkeypatch.setattr(views_join.segno, "make", spy)
        response = self._qr(client, workshop)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        body = response.content.decode()
        assert body.lstrip().startswith("<svg") and "</svg>" in body
        assert encoded == [settings.KEHITTAMO_SITE_URL + f"/c/{code}/"]
        assert encoded[0] == settings.KEHITTAMO_SITE_URL + reverse(
            "facilitation:join_code_prefilled", kwargs={"code": code}
        )

    def test_switching_off_makes_the_qr_404_and_the_code_stop_working(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        self._toggle(client, workshop, "on")
        code = LiveState.objects.get(pk=workshop.pk).join_code
        assert self._qr(client, workshop).status_code == 200
        assert self._toggle(client, workshop, "off").status_code == 302
        assert self._qr(client, workshop).status_code == 404
        assert code not in self._screen(client, workshop).content.decode()
        assert post_join(Client(), code).status_code == 200
        assert not guests(workshop).exists()
        # switching on again brings the same code back
        self._toggle(client, workshop, "on")
        assert LiveState.objects.get(pk=workshop.pk).join_code == code

    def test_qr_is_404_before_the_code_was_ever_switched_on(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        assert self._qr(client, workshop).status_code == 404

    def test_renew_changes_the_code_and_the_old_one_stops_working(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        old = open_code(workshop)
        assert self._toggle(client, workshop, "renew").status_code == 302
        live = LiveState.objects.get(pk=workshop.pk)
        assert live.join_code != old and live.join_code_enabled
        assert post_join(Client(), old).status_code == 200
        assert post_join(Client(), live.join_code).status_code == 302

    def test_an_unknown_action_changes_nothing(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        code = open_code(workshop)
        assert self._toggle(client, workshop, "explode").status_code == 400
        get = client.get(reverse("facilitation:join_code_toggle", kwargs={"workshop_id": workshop.pk}))
        assert get.status_code == 405
        live = LiveState.objects.get(pk=workshop.pk)
        assert live.join_code == code and live.join_code_enabled

    def test_the_screen_warns_when_the_workshop_takes_nobody_in(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        open_code(workshop)
        assert self._screen(client, workshop).context["code_works"] is True
        Workshop.objects.filter(pk=workshop.pk).update(status=Workshop.Status.CLOSED)
        assert self._screen(client, workshop).context["code_works"] is False

    def _open(self, client, workshop, page):
        if page == "toggle":
            return self._toggle(client, workshop, "off")
        return self._screen(client, workshop) if page == "screen" else self._qr(client, workshop)

    @pytest.mark.parametrize("page", ["screen", "qr", "toggle"])
    def test_anonymous_is_sent_to_sign_in(self, client, workshop, page):
        open_code(workshop)
        response = self._open(client, workshop, page)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert LiveState.objects.get(pk=workshop.pk).join_code_enabled

    @pytest.mark.parametrize(("persona", "status"), [("outsider", 404), ("contact_person", 403)])
    @pytest.mark.parametrize("page", ["screen", "qr", "toggle"])
    def test_others_are_refused(self, client, request, workshop, persona, status, page):
        open_code(workshop)
        sign_in(client, request.getfixturevalue(persona))
        assert self._open(client, workshop, page).status_code == status
        assert LiveState.objects.get(pk=workshop.pk).join_code_enabled

    def test_a_participant_is_refused(self, client, participant, workshop):
        open_code(workshop)
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))
        assert self._screen(client, workshop).status_code == 302
        assert self._qr(client, workshop).status_code == 302

    def test_a_missing_workshop_is_404(self, client, facilitator):
        sign_in(client, facilitator)
        assert client.get(reverse("facilitation:join_screen", kwargs={"workshop_id": 999999})).status_code == 404
