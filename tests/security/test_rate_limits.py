"""Rate limits on posting, voting, joining, a room's summary and calls for help: per guest (and per room for
calls), per client address and per workshop, each on its own.

Over a limit the answer is 429: JSON with a message for the page's script, or the live page again with the
typed text kept (without the script), or the friendly 429 page; never a 500, and nothing is saved.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from facilitation import services
from facilitation.models import Ballot, Comment, Event, Idea, LiveState, Phase, Room, RoomMember, Round
from tests.facilitation.conftest import guest_client, make_guest, prioritisation
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant
from workshops.services import participant_issue_token

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
HALL = "10.0.0.1"  # one NAT address in front of a whole hall
ELSEWHERE = "10.0.0.2"
SMALL = {
    "post": {"guest": (3, 60), "address": (5, 60), "workshop": (7, 60)},
    "vote": {"guest": (3, 60), "address": (5, 60), "workshop": (7, 60)},
    "join": {"address": (3, 600), "workshop": (5, 600)},
    "summary": {"guest": (3, 60), "address": (5, 60), "workshop": (7, 60)},
    "help": {"guest": (2, 60), "room": (3, 60), "address": (5, 60), "workshop": (7, 60)},
}


@pytest.fixture
def small_limits(settings):
    settings.KEHITTAMO_RATE_LIMITS = SMALL
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1
    settings.LANGUAGE_CODE = "en"


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


def post_comment(client, workshop, text="Hyvä havainto", ip=HALL, **headers):
    phase = LiveState.objects.get(pk=workshop.pk).current_phase
    data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"p{phase.pk}-q0"}
    return client.post(url("comment_new", workshop), data, REMOTE_ADDR=ip, **headers)


def test_the_default_limits_let_a_300_person_hall_behind_one_address_work(settings):
    """The shipped sizes: a person may post 20 a minute; a whole hall on one address posts and votes freely."""
    limits = django_settings.KEHITTAMO_RATE_LIMITS
    assert limits["post"]["guest"] == (20, 60)
    hall = 300
    assert limits["post"]["address"][0] >= hall * 5  # everyone posting every 12 s, on one address
    assert limits["vote"]["address"][0] >= hall * 30  # everyone comparing a pair every 2 s
    assert limits["join"]["address"][0] >= hall * 2  # everyone joining, with a typo each
    assert limits["post"]["workshop"][0] > limits["post"]["address"][0]
    # The summary saves itself a second after each pause: a leader pausing after every word sends 60 a minute.
    assert limits["summary"]["guest"][0] >= 2 * 60 and limits["summary"]["guest"][1] == 60
    assert limits["summary"]["address"][0] >= (hall // 5) * 60  # every leader of the hall at that pace
    # A call for help: a few a minute per person and per room, not hundreds.
    assert 3 <= limits["help"]["guest"][0] <= 10 and 3 <= limits["help"]["room"][0] <= 20
    assert limits["help"]["address"][0] >= hall // 5 * 3  # every room of the hall calling three times
    assert django_settings.KEHITTAMO_RATE_LIMIT_FACTOR == 1


class TestPosting:
    def test_a_guest_over_the_limit_gets_429_json_and_nothing_is_saved(self, small_limits, live_workshop):
        _person, client = make_guest(live_workshop)
        for n in range(3):
            assert post_comment(client, live_workshop, f"Viesti {n}", **JSON).status_code == 201
        refused = post_comment(client, live_workshop, "Neljäs", **JSON)
        assert refused.status_code == 429
        assert refused.json()["error"].startswith("Too much was sent in a short time")
        assert refused["Retry-After"] == "60"
        assert Comment.objects.count() == 3

    def test_without_javascript_the_page_comes_back_with_the_text_kept(self, small_limits, live_workshop):
        _person, client = make_guest(live_workshop)
        for n in range(3):
            assert post_comment(client, live_workshop, f"Viesti {n}").status_code == 302
        refused = post_comment(client, live_workshop, "Tämä teksti ei saa kadota")
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "Tämä teksti ei saa kadota" in page
        assert "Too much was sent in a short time" in page
        assert "Traceback" not in page

    def test_the_message_is_in_the_users_language(self, small_limits, live_workshop):
        _person, client = make_guest(live_workshop)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "sv"
        for _n in range(3):
            post_comment(client, live_workshop, **JSON)
        refused = post_comment(client, live_workshop, **JSON)
        assert refused.status_code == 429
        assert "Too much" not in refused.json()["error"]

    def test_per_guest_per_address_and_per_workshop_are_independent(self, small_limits, live_workshop):
        first, second, third = (make_guest(live_workshop)[1] for _ in range(3))
        for _n in range(3):
            assert post_comment(first, live_workshop, **JSON).status_code == 201
        assert post_comment(first, live_workshop, **JSON).status_code == 429  # the guest's own limit
        # Another guest on the same address still posts, until the address's five (the refused one not counted).
        assert post_comment(second, live_workshop, **JSON).status_code == 201
        assert post_comment(second, live_workshop, **JSON).status_code == 201
        assert post_comment(second, live_workshop, **JSON).status_code == 429  # the address is full
        assert post_comment(third, live_workshop, **JSON).status_code == 429
        # From another address the third guest is fine, until the workshop's seven.
        assert post_comment(third, live_workshop, ip=ELSEWHERE, **JSON).status_code == 201
        assert post_comment(third, live_workshop, ip=ELSEWHERE, **JSON).status_code == 201
        fourth = make_guest(live_workshop)[1]
        assert post_comment(fourth, live_workshop, ip="10.0.0.3", **JSON).status_code == 429  # the workshop is full
        assert Comment.objects.count() == 7

    def test_another_workshop_is_not_affected(self, small_limits, live_workshop, facilitator):
        for _n in range(7):
            post_comment(make_guest(live_workshop)[1], live_workshop, ip=str(uuid.uuid4()), **JSON)
        assert post_comment(make_guest(live_workshop)[1], live_workshop, ip="10.9.9.9", **JSON).status_code == 429
        other = WorkshopFactory(organisation=live_workshop.organisation)
        CaseFactory(workshop=other, position=1)
        services.live_start(workshop=other, by=facilitator)
        services.phase_go(workshop=other, offset=1)
        assert post_comment(make_guest(other)[1], other, ip="10.9.9.9", **JSON).status_code == 201

    def test_ideas_count_as_posting(self, small_limits, live_workshop):
        phase = services.phase_create(
            workshop=live_workshop, kind=Phase.Kind.IDEAS, title="Ideat", duration_minutes=5, prompts=["Mitä?"]
        )
        services.phase_go(workshop=live_workshop, phase=phase)
        _person, client = make_guest(live_workshop)

        def send(text):
            data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"i{phase.pk}"}
            return client.post(url("idea_new", live_workshop), data, REMOTE_ADDR=HALL, **JSON)

        assert [send(f"Idea {n}").status_code for n in range(4)] == [201, 201, 201, 429]
        assert Idea.objects.count() == 3

    def test_below_the_limits_nothing_is_refused(self, live_workshop):
        """The shipped limits: 20 comments in a minute from one guest all go through."""
        _person, client = make_guest(live_workshop)
        assert {post_comment(client, live_workshop, f"Viesti {n}", **JSON).status_code for n in range(20)} == {201}
        assert post_comment(client, live_workshop, **JSON).status_code == 429


class TestVoting:
    @pytest.fixture
    def dots(self, live_workshop):
        phase = prioritisation(live_workshop, ["Idea"], title="Pisteet", voting=Phase.Voting.DOTS, dots_per_person=10)
        idea = Idea.objects.get(text="Idea")
        services.phase_go(workshop=live_workshop, phase=phase)
        return phase, idea

    def test_dot_votes_over_the_guests_limit_get_429(self, small_limits, live_workshop, dots):
        phase, idea = dots
        _person, client = make_guest(live_workshop)
        statuses = [
            client.post(url("vote_dot", live_workshop, phase.pk), {"idea": idea.pk}, REMOTE_ADDR=HALL, **JSON)
            for _ in range(4)
        ]
        assert [response.status_code for response in statuses] == [200, 200, 200, 429]
        assert statuses[-1].json()["error"]
        assert Ballot.objects.get(idea=idea).value == 3
        # Without the script: the friendly 429 page.
        page = client.post(url("vote_dot", live_workshop, phase.pk), {"idea": idea.pk}, REMOTE_ADDR=HALL)
        assert page.status_code == 429 and "Too many attempts" in page.content.decode()

    def test_reactions_count_as_votes(self, small_limits, live_workshop):
        _author, author_client = make_guest(live_workshop)
        comment_id = post_comment(author_client, live_workshop, **JSON).json()["id"]
        _person, client = make_guest(live_workshop)
        statuses = [
            client.post(
                url("comment_react", live_workshop, comment_id), {"kind": "agree"}, REMOTE_ADDR=ELSEWHERE, **JSON
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]


class TestJoining:
    def _join(self, code, name, ip):
        return Client().post(reverse("facilitation:join_code"), {"code": code, "name": name}, REMOTE_ADDR=ip)

    def test_joins_per_address_and_per_workshop(self, small_limits, live_workshop):
        live = services.join_code_set(workshop=live_workshop, enabled=True)
        code = live.join_code
        assert [self._join(code, f"Vieras {n}", HALL).status_code for n in range(4)] == [302, 302, 302, 429]
        refused = self._join(code, "Vieras 5", HALL)
        assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
        # Other addresses join until the workshop's five.
        assert self._join(code, "Muualta 1", ELSEWHERE).status_code == 302
        assert self._join(code, "Muualta 2", ELSEWHERE).status_code == 302
        assert self._join(code, "Muualta 3", "10.0.0.3").status_code == 429
        assert Participant.objects.filter(workshop=live_workshop).count() == 5

    def test_guessed_personal_links_count_per_address_real_ones_always_work(self, small_limits, live_workshop):
        invitee = ParticipantFactory(workshop=live_workshop)
        token = participant_issue_token(participant=invitee)
        wrong = [Client().get(reverse("workshops:join", args=[f"guess{n}"]), REMOTE_ADDR=HALL) for n in range(4)]
        assert [response.status_code for response in wrong] == [404, 404, 404, 429]
        assert "Too many attempts" in wrong[-1].content.decode()
        assert Client().get(reverse("workshops:join", args=[token]), REMOTE_ADDR=HALL).status_code == 302


class TestRooms:
    """The group leader's summary autosave and the room's call for the facilitator."""

    @pytest.fixture
    def room(self, live_workshop):
        services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS))
        round_ = Round.objects.create(workshop=live_workshop, number=1, started_at=timezone.now())
        leader = ParticipantFactory(workshop=live_workshop, role=Participant.Role.GROUP_LEADER, first_joined_at=None)
        room = Room.objects.create(round=round_, index=0, case=live_workshop.cases.first(), leader=leader)
        for _n in range(3):
            RoomMember.objects.create(round=round_, room=room, participant=ParticipantFactory(workshop=live_workshop))
        return room

    def _summary(self, client, room, text, ip=HALL, **headers):
        workshop = room.round.workshop
        return client.post(url("room_summary", workshop, room.pk), {"text": text}, REMOTE_ADDR=ip, **headers)

    def test_summary_autosaves_over_the_limit_get_429_json_and_the_saved_text_stays(self, small_limits, room):
        leader = guest_client(room.leader)
        assert [self._summary(leader, room, f"Yhteenveto {n}", **JSON).status_code for n in range(3)] == [200] * 3
        refused = self._summary(leader, room, "Yhteenveto 3", **JSON)
        assert refused.status_code == 429
        assert refused.json()["error"].startswith("Too much was sent in a short time")
        assert refused["Retry-After"] == "60"
        room.refresh_from_db()
        assert room.summary == "Yhteenveto 2"
        assert Event.objects.filter(kind="room.summary").count() == 3

    def test_summary_without_javascript_the_page_comes_back_with_the_text_in_its_box(self, small_limits, room):
        leader = guest_client(room.leader)
        for n in range(3):
            assert self._summary(leader, room, f"Yhteenveto {n}").status_code == 302
        refused = self._summary(leader, room, "Kolme ideaa & yksi kysymys")
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "Too much was sent in a short time" in page
        assert "data-summary>Kolme ideaa &amp; yksi kysymys</textarea>" in page
        assert "Traceback" not in page
        room.refresh_from_db()
        assert room.summary == "Yhteenveto 2"

    def test_a_normal_leader_never_meets_the_shipped_summary_limit(self, room):
        """A save every second for a whole minute (the most the page's autosave sends) all go through."""
        leader = guest_client(room.leader)
        statuses = {self._summary(leader, room, f"Teksti {n}", **JSON).status_code for n in range(60)}
        assert statuses == {200}

    def test_a_script_hammering_the_summary_meets_the_shipped_limit(self, room):
        leader = guest_client(room.leader)
        statuses = [self._summary(leader, room, f"Roskaa {n}", **JSON).status_code for n in range(125)]
        assert statuses.count(200) == 120 and set(statuses[120:]) == {429}

    def test_calls_for_help_per_person_and_per_room(self, small_limits, room):
        workshop = room.round.workshop
        members = [guest_client(member.participant) for member in room.members.order_by("pk")]

        def call(client, ip=HALL):
            return client.post(url("room_help", workshop, room.pk), REMOTE_ADDR=ip, **JSON).status_code

        assert [call(members[0]) for _ in range(3)] == [200, 200, 429]  # one person: two a minute
        assert call(members[1]) == 200  # the room's third call
        assert call(members[2], ip=ELSEWHERE) == 429  # the room has called three times: no more
        assert Event.objects.filter(kind="room.help").count() == 3
        # Without the script: the friendly 429 page.
        page = members[2].post(url("room_help", workshop, room.pk), REMOTE_ADDR=ELSEWHERE)
        assert page.status_code == 429 and "Too many attempts" in page.content.decode()

    def test_the_shipped_help_limit_refuses_hundreds(self, room):
        member = guest_client(room.members.first().participant)
        workshop = room.round.workshop
        statuses = [member.post(url("room_help", workshop, room.pk), **JSON).status_code for _ in range(50)]
        assert 3 <= statuses.count(200) <= 10 and statuses[-1] == 429
        assert Event.objects.filter(kind="room.help").count() == statuses.count(200)
