"""The small-group rounds page: settings, planning, re-planning, moving people; the role matrix; query counts."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilitation.models import Room, RoomMember, Rotation, Round
from facilitation.selectors_rounds import repeated_pairs
from facilitation.services import plan_from_db
from tests.facilitation.conftest import make_guest
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db

SETTINGS = {
    "mode": "B",
    "leaders_stay": "case",
    "min_size": "4",
    "max_size": "6",
    "rooms": "",
    "remix": "on",
    "round_minutes": "20",
}


def url(name: str, workshop) -> str:
    return reverse(f"facilitation:{name}", kwargs={"workshop_id": workshop.pk})


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def levels_of(response) -> dict[str, str]:
    return {str(message): message.level_tag for message in response.context["messages"]}


@pytest.fixture
def signed_in(facilitator_client):
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return facilitator_client


def people(workshop, count: int) -> list[Participant]:
    groups = [choice for choice, _label in Participant.RoleGroup.choices]
    return [
        ParticipantFactory(
            workshop=workshop,
            name=f"Henkilö {n:02d}",
            organisation_name=f"Kunta {n % 3}",
            department=f"Toimiala {n % 4}",
            role_group=groups[n % len(groups)],
        )
        for n in range(count)
    ]


def build_plan(workshop, *, rooms: int, per_room: int = 4, rounds: int = 3) -> list[Participant]:
    """A stored plan made directly, without the planner: round r puts person i into room (i + r) % rooms."""
    cases = list(workshop.cases.order_by("position")) or [CaseFactory(workshop=workshop) for _ in range(rooms)]
    persons = people(workshop, rooms * per_room)
    leaders = [
        ParticipantFactory(workshop=workshop, name=f"Vetäjä {n}", role=Participant.Role.GROUP_LEADER)
        for n in range(rooms)
    ]
    for number in range(1, rounds + 1):
        round_ = Round.objects.create(workshop=workshop, number=number)
        room_rows = [
            Room.objects.create(
                round=round_,
                index=index,
                case=cases[(index + number) % len(cases)],
                leader=leaders[index],
                meeting_url=f"https://meet.example.fi/{number}-{index}",
            )
            for index in range(rooms)
        ]
        for position, person in enumerate(persons):
            room = room_rows[(position + number - 1) % rooms]
            RoomMember.objects.create(round=round_, room=room, participant=person)
    return persons


def room_index(person, number: int) -> int:
    return RoomMember.objects.get(participant=person, round__number=number).room.index


def plan_snapshot(workshop) -> list[tuple]:
    return list(
        RoomMember.objects.filter(round__workshop=workshop)
        .order_by("round__number", "participant_id")
        .values_list("round__number", "room__index", "participant_id")
    )


# --- the page ----------------------------------------------------------------------
class TestRoundsPage:
    def test_empty_page_offers_settings_and_planning(self, signed_in, workshop):
        response = signed_in.get(url("rounds", workshop))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Plan the rounds" in html
        assert url("rounds_plan", workshop) in html
        assert url("rounds_settings", workshop) in html
        assert 'name="min_size"' in html and 'name="max_size"' in html
        assert response.context["rounds"] == []
        assert not Rotation.objects.filter(workshop=workshop).exists()  # reading the page writes nothing

    def test_grid_shows_rooms_cases_leaders_members_and_move_controls(self, signed_in, workshop):
        persons = build_plan(workshop, rooms=2, per_room=3, rounds=3)
        response = signed_in.get(url("rounds", workshop))
        html = response.content.decode()
        for number in (1, 2, 3):
            assert f'id="round-{number}"' in html
            assert f"Round {number}" in html
        assert "Room A" in html and "Room B" in html
        assert "Vetäjä 0" in html and "https://meet.example.fi/1-0" in html
        first = response.context["rounds"][0]
        assert [room.case_title for room in first.rooms] == [
            workshop.cases.get(position=2).title,
            workshop.cases.get(position=3).title,
        ]
        member = first.rooms[0].members[0]
        assert (member.organisation, member.department) == (persons[0].organisation_name, persons[0].department)
        assert member.role_group == "Staff"
        # every member has a labelled move control offering the other rooms of the round
        name = persons[0].name
        assert f'Move <span class="visually-hidden">{name}</span> to' in html
        assert f'for="move-1-{persons[0].pk}"' in html
        assert html.count('class="member-move"') == 3 * len(persons)
        assert html.count('draggable="true"') == 3 * len(persons)
        assert 'aria-live="polite"' in html
        assert "js/rounds_grid.js" in html and "css/rounds.css" in html

    def test_someone_who_left_is_shown_as_gone(self, signed_in, workshop):
        persons = build_plan(workshop, rooms=2, per_room=2, rounds=2)
        RoomMember.objects.filter(participant=persons[0], round__number=2).update(left_at=timezone.now())
        response = signed_in.get(url("rounds", workshop))
        html = response.content.decode()
        assert f"<s>{persons[0].name}</s>" in html
        assert "(gone)" in html
        second = response.context["rounds"][1]
        assert [member.gone for room in second.rooms for member in room.members].count(True) == 1

    def test_repeated_pairs_are_counted_per_round(self, signed_in, workshop):
        build_plan(workshop, rooms=2, per_room=3, rounds=1)
        round_1 = Round.objects.get(workshop=workshop, number=1)
        # round 2 repeats round 1's groups exactly: 2 rooms × 3 pairs met again
        round_2 = Round.objects.create(workshop=workshop, number=2)
        for room in round_1.rooms.all():
            copy = Room.objects.create(round=round_2, index=room.index, case=room.case)
            for member in room.members.all():
                RoomMember.objects.create(round=round_2, room=copy, participant=member.participant)
        response = signed_in.get(url("rounds", workshop))
        assert [round_.repeated_pairs for round_ in response.context["rounds"]] == [0, 6]
        assert "<strong data-repeated-pairs>6</strong>" in response.content.decode()

    def test_repeated_pairs_count_pairs_that_met_in_an_earlier_round(self):
        # round 3 puts all five together: of its 10 pairs, 1-2, 1-3, 2-3, 4-5, 3-4 and 3-5 met before
        assert repeated_pairs([[[1, 2, 3], [4, 5]], [[1, 2], [3, 4, 5]], [[1, 2, 3, 4, 5]]]) == [0, 2, 6]
        assert repeated_pairs([]) == []

    def test_repeated_pairs_add_up_to_the_planners_count(self, signed_in, workshop):
        people(workshop, 17)
        Rotation.objects.create(workshop=workshop, min_size=3, max_size=4, remix=True)
        signed_in.post(url("rounds_plan", workshop))
        plan = plan_from_db(workshop)
        rounds = signed_in.get(url("rounds", workshop)).context["rounds"]
        assert sum(round_.repeated_pairs for round_ in rounds) == plan.repeated_pairs()
        gone = RoomMember.objects.filter(round__workshop=workshop, round__number=3).first()
        RoomMember.objects.filter(pk=gone.pk).update(left_at=timezone.now())  # people who left meet nobody
        rounds = signed_in.get(url("rounds", workshop)).context["rounds"]
        assert sum(round_.repeated_pairs for round_ in rounds) == plan_from_db(workshop).repeated_pairs()

    def test_query_count_does_not_grow_with_the_plan(self, signed_in):
        def count_for(rooms: int) -> int:
            workshop = WorkshopFactory()
            build_plan(workshop, rooms=rooms, per_room=5, rounds=3)
            with CaptureQueriesContext(connection) as queries:
                response = signed_in.get(url("rounds", workshop))
            assert response.status_code == 200
            assert len(response.context["rounds"][0].rooms) == rooms
            return len(queries)

        assert count_for(2) == count_for(10)


# --- settings ---------------------------------------------------------------------
class TestSettings:
    def test_facilitator_saves_the_settings(self, signed_in, workshop):
        response = signed_in.post(url("rounds_settings", workshop), SETTINGS, follow=True)
        assert response.redirect_chain[-1][0] == url("rounds", workshop)
        assert "Settings saved." in messages_of(response)
        rotation = Rotation.objects.get(workshop=workshop)
        assert (rotation.mode, rotation.min_size, rotation.max_size, rotation.rooms) == ("B", 4, 6, None)
        assert (rotation.remix, rotation.round_minutes) == (True, 20)

    def test_a_fixed_number_of_rooms_and_no_remix(self, signed_in, workshop):
        signed_in.post(url("rounds_settings", workshop), {**SETTINGS, "rooms": "3", "remix": ""})
        rotation = Rotation.objects.get(workshop=workshop)
        assert (rotation.rooms, rotation.remix) == (3, False)

    def test_saving_with_a_plan_reminds_to_plan_again(self, signed_in, workshop):
        build_plan(workshop, rooms=2, rounds=1)
        response = signed_in.post(url("rounds_settings", workshop), SETTINGS, follow=True)
        assert "Settings saved. Plan the rounds again to use them." in messages_of(response)

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            (
                {"min_size": "6", "max_size": "4"},
                "max_size",
                "The largest group (4) cannot be smaller than the smallest group (6).",
            ),
            ({"min_size": "0"}, "min_size", "A group has at least 2 people."),
            ({"max_size": "51"}, "max_size", "A group has at most 50 people."),
            ({"min_size": ""}, "min_size", "Enter a group size: a number of people from 2 to 50."),
            ({"rooms": "0"}, "rooms", "At least 1 room."),
            ({"round_minutes": "0"}, "round_minutes", "A round lasts at least 1 minute."),
            ({"mode": "C"}, "mode", None),
        ],
    )
    def test_bad_input_is_explained_and_nothing_is_saved(self, signed_in, workshop, changes, field, message):
        response = signed_in.post(url("rounds_settings", workshop), {**SETTINGS, **changes})
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == [field]
        if message:
            assert errors[field] == [message]
        html = response.content.decode()
        assert 'class="error-summary"' in html
        assert f'href="#id_{field}"' in html
        assert f'aria-describedby="id_{field}_errors' in html
        assert not Rotation.objects.filter(workshop=workshop).exists()

    def test_bad_input_leaves_saved_settings_as_they_were(self, signed_in, workshop):
        signed_in.post(url("rounds_settings", workshop), SETTINGS)
        signed_in.post(url("rounds_settings", workshop), {**SETTINGS, "min_size": "7", "max_size": "5"})
        rotation = Rotation.objects.get(workshop=workshop)
        assert (rotation.min_size, rotation.max_size) == (4, 6)


# --- planning ---------------------------------------------------------------------
class TestPlanning:
    def test_plan_makes_one_round_per_case_with_everyone_placed(self, signed_in, workshop):
        persons = people(workshop, 12)
        response = signed_in.post(url("rounds_plan", workshop), follow=True)
        assert response.redirect_chain[-1][0] == url("rounds", workshop) + "#round-1"
        assert "3 rounds were planned." in messages_of(response)
        assert Round.objects.filter(workshop=workshop).count() == workshop.cases.count() == 3
        for number in (1, 2, 3):
            placed = RoomMember.objects.filter(round__workshop=workshop, round__number=number)
            assert sorted(placed.values_list("participant_id", flat=True)) == sorted(p.pk for p in persons)
        html = response.content.decode()
        assert all(person.name in html for person in persons)
        assert "Replace the plan" in html  # planning again now asks first

    def test_planning_without_cases_says_why(self, signed_in, workshop):
        workshop.cases.all().delete()
        people(workshop, 6)
        response = signed_in.post(url("rounds_plan", workshop), follow=True)
        assert levels_of(response)["Add the cases first: the rounds rotate through them."] == "error"
        assert not Round.objects.filter(workshop=workshop).exists()

    def test_replanning_needs_the_confirmation(self, signed_in, workshop):
        build_plan(workshop, rooms=2, rounds=3)
        before = plan_snapshot(workshop)
        response = signed_in.post(url("rounds_plan", workshop), follow=True)
        message = "The rounds are already planned. Confirm that a new plan replaces them."
        assert levels_of(response)[message] == "error"
        assert plan_snapshot(workshop) == before

    def test_confirmed_replanning_replaces_the_plan(self, signed_in, workshop):
        build_plan(workshop, rooms=2, rounds=2)
        old_rounds = set(Round.objects.filter(workshop=workshop).values_list("pk", flat=True))
        response = signed_in.post(url("rounds_plan", workshop), {"replace": "1"}, follow=True)
        assert "3 rounds were planned." in messages_of(response)
        rounds = set(Round.objects.filter(workshop=workshop).values_list("pk", flat=True))
        assert len(rounds) == 3 and not rounds & old_rounds

    def test_replanning_is_refused_once_a_round_has_started(self, signed_in, workshop):
        build_plan(workshop, rooms=2, rounds=3)
        Round.objects.filter(workshop=workshop, number=1).update(started_at=timezone.now())
        before = plan_snapshot(workshop)
        response = signed_in.post(url("rounds_plan", workshop), {"replace": "1"}, follow=True)
        message = "A round has already started; rebalance the remaining rounds instead."
        assert levels_of(response)[message] == "error"
        assert plan_snapshot(workshop) == before
        html = response.content.decode()
        assert "Replace the plan" not in html
        assert "Rebalance the remaining rounds" in html

    def test_rebalance_without_a_plan_says_so(self, signed_in, workshop):
        response = signed_in.post(url("rounds_rebalance", workshop), follow=True)
        assert levels_of(response)["Plan the rounds first."] == "error"

    def test_rebalance_keeps_the_started_round(self, signed_in, workshop):
        people(workshop, 12)
        signed_in.post(url("rounds_plan", workshop))
        Round.objects.filter(workshop=workshop, number=1).update(started_at=timezone.now())
        first = [row for row in plan_snapshot(workshop) if row[0] == 1]
        response = signed_in.post(url("rounds_rebalance", workshop), follow=True)
        assert "The rounds not yet started were planned again for the people present." in messages_of(response)
        assert [row for row in plan_snapshot(workshop) if row[0] == 1] == first
        assert Round.objects.filter(workshop=workshop).count() == 3


# --- moving people ------------------------------------------------------------------
class TestMove:
    @pytest.fixture
    def persons(self, workshop):
        return build_plan(workshop, rooms=3, per_room=3, rounds=2)

    def test_move_with_the_form(self, signed_in, workshop, persons):
        person = persons[0]
        assert (room_index(person, 1), room_index(person, 2)) == (0, 1)
        data = {"participant": person.pk, "round": 1, "room": 2}
        response = signed_in.post(url("rounds_move", workshop), data, follow=True)
        assert response.redirect_chain[-1][0] == url("rounds", workshop) + "#round-1"
        assert levels_of(response)[f"Moved {person.name} to room C."] == "success"
        assert (room_index(person, 1), room_index(person, 2)) == (2, 1)  # the other round is untouched

    def test_move_with_json(self, signed_in, workshop, persons):
        person = persons[4]
        before_round_1 = [row for row in plan_snapshot(workshop) if row[0] == 1 and row[2] != person.pk]
        before_round_2 = [row for row in plan_snapshot(workshop) if row[0] == 2]
        response = signed_in.post(
            url("rounds_move", workshop),
            {"participant": person.pk, "round": 2, "room": 0},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True
        assert body["message"] == f"Moved {person.name} to room A."
        assert set(body["repeated_pairs"]) == {"1", "2"}
        assert room_index(person, 2) == 0
        assert [row for row in plan_snapshot(workshop) if row[0] == 1 and row[2] != person.pk] == before_round_1
        assert [row for row in plan_snapshot(workshop) if row[0] == 2 and row[2] != person.pk] == [
            row for row in before_round_2 if row[2] != person.pk
        ]

    def test_moving_brings_someone_who_had_gone_back(self, signed_in, workshop, persons):
        RoomMember.objects.filter(participant=persons[0], round__number=1).update(left_at=timezone.now())
        signed_in.post(url("rounds_move", workshop), {"participant": persons[0].pk, "round": 1, "room": 1})
        member = RoomMember.objects.get(participant=persons[0], round__number=1)
        assert (member.room.index, member.left_at) == (1, None)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"round": 1, "room": 9}, "That room is not in this workshop's plan."),
            ({"round": 5, "room": 0}, "That room is not in this workshop's plan."),
            ({"round": 1, "room": "B"}, "Choose a person of this workshop and a room to move them to."),
            ({"round": 1, "room": -1}, "Choose a person of this workshop and a room to move them to."),
            ({"round": 1}, "Choose a person of this workshop and a room to move them to."),
        ],
    )
    def test_bad_room_is_refused(self, signed_in, workshop, persons, data, message):
        before = plan_snapshot(workshop)
        response = signed_in.post(
            url("rounds_move", workshop), {"participant": persons[0].pk, **data}, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400
        assert json.loads(response.content) == {"error": message}
        assert plan_snapshot(workshop) == before

    def test_a_room_of_another_workshop_is_refused(self, signed_in, workshop, persons):
        other = WorkshopFactory()
        build_plan(other, rooms=6, rounds=3)  # round 3, room F exist only there
        before = plan_snapshot(workshop), plan_snapshot(other)
        for room in ({"round": 1, "room": 5}, {"round": 3, "room": 0}):
            response = signed_in.post(
                url("rounds_move", workshop),
                {"participant": persons[0].pk, **room},
                HTTP_ACCEPT="application/json",
            )
            assert response.status_code == 400
            assert response.json() == {"error": "That room is not in this workshop's plan."}
        assert (plan_snapshot(workshop), plan_snapshot(other)) == before

    def test_a_person_of_another_workshop_is_refused(self, signed_in, workshop, persons):
        other = WorkshopFactory()
        stranger = build_plan(other, rooms=3, rounds=2)[0]
        before = plan_snapshot(workshop), plan_snapshot(other)
        response = signed_in.post(
            url("rounds_move", workshop),
            {"participant": stranger.pk, "round": 1, "room": 2},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {"error": "Choose a person of this workshop and a room to move them to."}
        assert (plan_snapshot(workshop), plan_snapshot(other)) == before

    def test_without_json_an_error_is_a_message(self, signed_in, workshop, persons):
        before = plan_snapshot(workshop)
        data = {"participant": persons[0].pk, "round": 2, "room": 7}
        response = signed_in.post(url("rounds_move", workshop), data, follow=True)
        assert response.redirect_chain[-1][0] == url("rounds", workshop) + "#round-2"
        assert levels_of(response)["That room is not in this workshop's plan."] == "error"
        assert plan_snapshot(workshop) == before


# --- the role matrix --------------------------------------------------------------
POST_ONLY = ["rounds_settings", "rounds_plan", "rounds_rebalance", "rounds_move"]
ALL = ["rounds", *POST_ONLY]


def call(client, name: str, workshop, person=None):
    if name == "rounds":
        return client.get(url(name, workshop))
    data = {**SETTINGS, "replace": "1"}
    if person is not None:
        data.update(participant=person.pk, round=1, room=1)
    return client.post(url(name, workshop), data)


class TestPermissions:
    @pytest.fixture
    def persons(self, workshop):
        return build_plan(workshop, rooms=2, rounds=3)

    @pytest.mark.parametrize("name", ALL)
    def test_anonymous_is_sent_to_log_in(self, client, workshop, persons, name):
        before = plan_snapshot(workshop)
        response = call(client, name, workshop, persons[0])
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert plan_snapshot(workshop) == before

    @pytest.mark.parametrize("name", ALL)
    def test_guest_is_sent_to_log_in(self, workshop, persons, name):
        _person, guest = make_guest(workshop)
        before = plan_snapshot(workshop)
        response = call(guest, name, workshop, persons[0])
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert plan_snapshot(workshop) == before

    @pytest.mark.parametrize("name", ALL)
    def test_outsider_gets_404(self, client, outsider, workshop, persons, name):
        client.force_login(outsider)
        before = plan_snapshot(workshop)
        assert call(client, name, workshop, persons[0]).status_code == 404
        assert plan_snapshot(workshop) == before
        assert not Rotation.objects.filter(workshop=workshop).exists()

    @pytest.mark.parametrize("name", ALL)
    def test_own_contact_person_gets_403(self, client, contact_person, workshop, persons, name):
        client.force_login(contact_person)
        before = plan_snapshot(workshop)
        assert call(client, name, workshop, persons[0]).status_code == 403
        assert plan_snapshot(workshop) == before
        assert not Rotation.objects.filter(workshop=workshop).exists()

    @pytest.mark.parametrize("name", ALL)
    def test_facilitator_may(self, signed_in, workshop, persons, name):
        response = call(signed_in, name, workshop, persons[0])
        assert response.status_code == (200 if name == "rounds" else 302)

    @pytest.mark.parametrize("name", POST_ONLY)
    def test_post_only_actions_refuse_get(self, signed_in, workshop, persons, name):
        before = plan_snapshot(workshop)
        assert signed_in.get(url(name, workshop)).status_code == 405
        assert plan_snapshot(workshop) == before

    def test_manage_page_links_the_rounds_for_facilitators_only(self, signed_in, client, contact_person, workshop):
        manage = reverse("workshops:manage", kwargs={"workshop_id": workshop.pk})
        html = signed_in.get(manage).content.decode()
        assert url("rounds", workshop) in html
        assert "Small-group rounds" in html
        client.force_login(contact_person)
        assert url("rounds", workshop) not in client.get(manage).content.decode()
