"""Running the small-group rounds: rooms on everyone's screen, room notes only for the room, the leader's
summary and calls for help on the facilitator's overview, moves, late joiners, people who leave, rebalancing."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilitation import selectors, services
from facilitation.models import Comment, Event, Phase, Room, RoomMember, Round, room_thread_key
from facilitation.services import LiveError
from tests.facilitation.conftest import guest_client, viewer_of
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
ORGANISATIONS = ["Esimerkkilä", "Naapurila", "Kolmaskylä"]


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


@pytest.fixture
def rounds_workshop(live_workshop, django_capture_on_commit_callbacks):
    """The live persona workshop on its rounds phase, with 12 joined participants, 3 leaders and a plan."""
    now = timezone.now()
    for index in range(12):
        ParticipantFactory(
            workshop=live_workshop,
            name=f"Osallistuja {index:02d}",
            organisation_name=ORGANISATIONS[index % 3],
            first_joined_at=now,
        )
    for index in range(3):
        ParticipantFactory(
            workshop=live_workshop, name=f"Vetäjä {index}", role=Participant.Role.GROUP_LEADER, first_joined_at=now
        )
    services.rotation_update(workshop=live_workshop, data={"min_size": 4, "max_size": 4, "round_minutes": 10})
    with django_capture_on_commit_callbacks(execute=True):
        services.rounds_plan(workshop=live_workshop)
        services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS))
    return live_workshop


def room_of(participant, number) -> Room:
    return RoomMember.objects.get(round__number=number, participant=participant).room


def guests(workshop):
    return list(Participant.objects.filter(workshop=workshop, role=Participant.Role.PARTICIPANT).order_by("name"))


def test_the_plan_sends_everyone_to_every_case_once(rounds_workshop):
    rounds = list(Round.objects.filter(workshop=rounds_workshop).order_by("number"))
    assert [r.number for r in rounds] == [1, 2, 3]
    for person in guests(rounds_workshop):
        cases = [room_of(person, number).case_id for number in (1, 2, 3)]
        assert sorted(cases) == sorted(rounds_workshop.cases.values_list("pk", flat=True))
    for round_ in rounds:
        sizes = [room.members.count() for room in round_.rooms.all()]
        assert sum(sizes) == 12 and max(sizes) - min(sizes) <= 1
        assert all(room.leader is not None for room in round_.rooms.all())


def test_a_round_start_pushes_each_room_the_panel_its_members_would_fetch(
    rounds_workshop, celery_eager, django_capture_on_commit_callbacks
):
    """A thousand pages need not each ask for their room's panel: every room gets its members' copy on the
    socket, in each language, after the round's frame that tells the pages to wait for it."""
    from unittest import mock

    from django.conf import settings

    from facilitation import realtime

    celery_eager(True)
    sent = []  # (groups, message) as they go to the sockets
    with (
        mock.patch.object(
            realtime.fanout, "publish", side_effect=lambda _w, groups, message: sent.append((groups, message))
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.round_start(workshop=rounds_workshop, number=1)
    kinds = [message["kind"] for _groups, message in sent]
    rooms = Room.objects.filter(round__workshop=rounds_workshop, round__number=1)
    assert kinds == ["round", "timer"] + ["round.panel"] * rooms.count()  # the frame that says "wait" first
    started = sent[0][1]["data"]
    assert started["open"] and started["panels"] >= 2
    pushes = {groups[0]: message["data"] for groups, message in sent[2:]}
    assert set(pushes) == {realtime.room_groups(rounds_workshop.pk, [room.pk])[0] for room in rooms}  # to the room only
    cache.clear()  # the members' fetches render their copies anew
    for room in rooms:
        push = pushes[realtime.room_groups(rounds_workshop.pk, [room.pk])[0]]
        panels = {code: part["panel"] for code, part in push["i18n"].items()}
        assert push["round"] == 1 and set(panels) == {code for code, _name in settings.LANGUAGES}
        assert all(f'data-thread="{room_thread_key(room.pk)}"' in html for html in panels.values())
        member = room.members.filter(participant__role=Participant.Role.PARTICIPANT).last().participant
        fetched = guest_client(member).get(url("panel", rounds_workshop)).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fetched).group(1)
        # Exactly the copy the member's own fetch renders, but for the browser's CSRF token.
        assert fetched.replace(token, realtime.csrf_slot()) in panels.values()

    # A round opened again shows each room its notes: more than a panel shows (with its "Show earlier"
    # link), a reply, a reaction, an anonymous note and a hidden one, as the members' own fetches do.
    noted = rooms.first()
    people = [member.participant for member in noted.members.filter(participant__role=Participant.Role.PARTICIPANT)]
    from tests.facilitation.conftest import comment_as, viewer_of

    count = selectors.THREAD_LATEST + 2
    notes = [comment_as(rounds_workshop, people[n % 2], f"Muistiinpano {n}", room=noted.pk) for n in range(count)]
    comment_as(rounds_workshop, people[1], "Vastaus", room=noted.pk, parent=notes[-1].pk)
    comment_as(rounds_workshop, people[0], "Nimetön", room=noted.pk, anonymous=True)
    services.reaction_toggle(
        viewer=viewer_of(rounds_workshop, participant=people[1]), comment_id=notes[-1].pk, kind="agree"
    )
    Comment.objects.filter(pk=notes[-2].pk).update(hidden_at=timezone.now())
    services.round_close(workshop=rounds_workshop)
    sent.clear()
    with (
        mock.patch.object(
            realtime.fanout, "publish", side_effect=lambda _w, groups, message: sent.append((groups, message))
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.round_start(workshop=rounds_workshop, number=1)
    pushed = next(
        message["data"]["i18n"]
        for groups, message in sent
        if groups == realtime.room_groups(rounds_workshop.pk, [noted.pk]) and message["kind"] == "round.panel"
    )
    cache.clear()
    fetched = guest_client(people[0]).get(url("panel", rounds_workshop)).content.decode()
    assert f"Muistiinpano {count - 1}" in fetched and "Vastaus" in fetched and "Nimetön" in fetched
    assert f"Muistiinpano {count - 2}" not in fetched  # hidden
    assert "?show=" in fetched  # earlier notes than a panel shows
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fetched).group(1)
    assert fetched.replace(token, realtime.csrf_slot()) in {part["panel"] for part in pushed.values()}


def test_a_round_started_outside_the_rounds_phase_pushes_no_room_panels(
    rounds_workshop, celery_eager, django_capture_on_commit_callbacks
):
    """The pages show another phase's panel then: nothing to push, and nobody is told to wait for a push."""
    from unittest import mock

    from facilitation import realtime

    celery_eager(True)
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(
            workshop=rounds_workshop, phase=rounds_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
        )
    sent = []
    with (
        mock.patch.object(realtime.fanout, "publish", side_effect=lambda _w, _groups, message: sent.append(message)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.round_start(workshop=rounds_workshop, number=1)
    assert [message["kind"] for message in sent] == ["round", "timer"]
    assert sent[0]["data"] == {"round": 1, "open": True}


def test_starting_a_round_shows_each_person_their_room_case_and_leader(rounds_workshop, facilitator_client):
    response = facilitator_client.post(url("control_action", rounds_workshop, "round-start"), {"round": 1})
    assert response.status_code == 302
    assert Event.objects.filter(kind="round", payload__round=1).exists()
    first, second = guests(rounds_workshop)[:2]
    for person in (first, second):
        room = room_of(person, 1)
        html = guest_client(person).get(url("live", rounds_workshop)).content.decode()
        assert "Kierros 1/3" in html or "Round 1 of 3" in html
        assert f"huoneeseen {room.label}" in html or f"room {room.label}" in html
        assert room.case.title in html and room.leader.name in html


def test_the_room_timer_starts_with_the_round(rounds_workshop):
    services.round_start(workshop=rounds_workshop, number=1)
    live = services.live_state(rounds_workshop)
    assert 590 <= live.seconds_left() <= 600


def _write_in_room(person, workshop, room, text):
    client = guest_client(person)
    phase = workshop.phases.get(kind=Phase.Kind.ROUNDS)
    data = {"phase": phase.pk, "room": room.pk, "text": text, "client_id": str(uuid.uuid4())}
    return client.post(url("comment_new", workshop), data, **JSON)


def test_room_notes_are_for_the_room_its_leader_and_the_facilitators(rounds_workshop, facilitator_client):
    services.round_start(workshop=rounds_workshop, number=1)
    people = guests(rounds_workshop)
    writer = people[0]
    room = room_of(writer, 1)
    same = next(p for p in people[1:] if room_of(p, 1) == room)
    other = next(p for p in people if room_of(p, 1) != room)
    response = _write_in_room(writer, rounds_workshop, room, "Huoneen muistiinpano")
    assert response.status_code == 201
    comment = Comment.objects.get(text="Huoneen muistiinpano")
    assert (comment.room, comment.round, comment.case) == (room, room.round, room.case)
    assert "Huoneen muistiinpano" in guest_client(same).get(url("live", rounds_workshop)).content.decode()
    assert "Huoneen muistiinpano" in guest_client(room.leader).get(url("live", rounds_workshop)).content.decode()
    outsider_page = guest_client(other).get(url("live", rounds_workshop)).content.decode()
    assert "Huoneen muistiinpano" not in outsider_page
    assert "Huoneen muistiinpano" not in str(guest_client(other).get(url("events", rounds_workshop)).json())
    assert "Huoneen muistiinpano" in str(guest_client(same).get(url("events", rounds_workshop)).json())
    overview = facilitator_client.get(url("rooms_live", rounds_workshop)).content.decode()
    assert "Huoneen muistiinpano" in overview
    refused = _write_in_room(other, rounds_workshop, room, "Väärä huone")
    assert refused.status_code == 400 and not Comment.objects.filter(text="Väärä huone").exists()


def test_room_notes_wait_until_the_round_starts(rounds_workshop):
    person = guests(rounds_workshop)[0]
    assert _write_in_room(person, rounds_workshop, room_of(person, 1), "Liian aikaisin").status_code == 400


def test_the_leaders_summary_and_call_reach_the_overview(rounds_workshop, facilitator_client):
    services.round_start(workshop=rounds_workshop, number=1)
    room = Room.objects.filter(round__number=1).order_by("index").first()
    leader = guest_client(room.leader)
    saved = leader.post(url("room_summary", rounds_workshop, room.pk), {"text": "Ryhmä löysi kolme ideaa"}, **JSON)
    assert saved.status_code == 200 and saved.json()["room"] == room.pk
    event = Event.objects.filter(kind="room.summary").latest("id")
    assert event.audience == Event.Audience.ROOM and event.room == room
    member = room.members.first().participant
    refused = guest_client(member).post(url("room_summary", rounds_workshop, room.pk), {"text": "x"}, **JSON)
    assert refused.status_code == 400
    assert guest_client(member).post(url("room_help", rounds_workshop, room.pk), **JSON).status_code == 200
    overview = facilitator_client.get(url("rooms_live", rounds_workshop)).content.decode()
    assert "Ryhmä löysi kolme ideaa" in overview and "needs-help" in overview
    facilitator_client.post(url("control_action", rounds_workshop, "help-clear"), {"room": room.pk})
    room.refresh_from_db()
    assert room.help_requested_at is None


def test_moving_someone_mid_round_leaves_their_notes_where_they_were_written(rounds_workshop):
    services.round_start(workshop=rounds_workshop, number=1)
    person = guests(rounds_workshop)[0]
    old_room = room_of(person, 1)
    _write_in_room(person, rounds_workshop, old_room, "Kirjoitettu ennen siirtoa")
    new_room = Room.objects.filter(round__number=1).exclude(pk=old_room.pk).first()
    services.member_move(workshop=rounds_workshop, participant=person, number=1, room_index=new_room.index)
    assert room_of(person, 1) == new_room
    assert Comment.objects.get(text="Kirjoitettu ennen siirtoa").room == old_room
    assert _write_in_room(person, rounds_workshop, new_room, "Uudessa huoneessa").status_code == 201


def test_a_late_joiner_goes_to_the_smallest_room_of_the_running_and_later_rounds(rounds_workshop):
    services.round_start(workshop=rounds_workshop, number=2)
    late = ParticipantFactory(workshop=rounds_workshop, name="Myöhästynyt", first_joined_at=timezone.now())
    sizes_before = {room.pk: room.members.count() for room in Room.objects.filter(round__number=2)}
    page = guest_client(late).get(url("live", rounds_workshop)).content.decode()  # arriving places them
    memberships = RoomMember.objects.filter(participant=late).order_by("round__number")
    assert [m.round.number for m in memberships] == [2, 3]
    assert sizes_before[memberships[0].room_id] == min(sizes_before.values())
    assert not RoomMember.objects.filter(participant=late, round__number=1).exists()
    # The same answer already shows them their room (the page reads again after placing them).
    assert f'data-thread="{room_thread_key(memberships[0].room_id)}"' in page


@pytest.mark.parametrize("page", ["panel", "live"])
def test_a_late_joiner_is_placed_by_whichever_page_they_load_first(rounds_workshop, page):
    services.round_start(workshop=rounds_workshop, number=1)
    late = ParticipantFactory(workshop=rounds_workshop, name="Myöhästynyt", first_joined_at=timezone.now())
    client = guest_client(late)
    html = client.get(url(page, rounds_workshop)).content.decode()
    room = RoomMember.objects.get(participant=late, round__number=1).room
    assert f'data-thread="{room_thread_key(room.pk)}"' in html
    client.get(url(page, rounds_workshop))  # placed once: a second load changes nothing
    assert RoomMember.objects.filter(participant=late).count() == 3


def test_an_arrival_a_move_or_a_leaver_refreshes_only_their_rooms_and_themselves(
    rounds_workshop, django_capture_on_commit_callbacks
):
    """Each of these used to make all pages ask for their panel again (and re-read their rooms): a thousand
    requests for one late arrival. Now only the person's own pages, the running round's rooms they leave or
    join (leaders list members) and the facilitators hear of it."""
    from unittest import mock

    from facilitation import realtime

    with django_capture_on_commit_callbacks(execute=True):
        services.round_start(workshop=rounds_workshop, number=1)
    after = Event.objects.filter(workshop=rounds_workshop).latest("id").pk
    mover, stays = guests(rounds_workshop)[:2]
    late = ParticipantFactory(workshop=rounds_workshop, name="Myöhästynyt", first_joined_at=timezone.now())
    sent = []

    def record(_workshop, groups, message=None, *, control=""):
        sent.append((list(groups), message["kind"] if message else control))

    with (
        mock.patch.object(realtime.fanout, "publish", side_effect=record),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.late_joiner_place(workshop=rounds_workshop, participant=late)
        left = room_of(mover, 1)
        other = Room.objects.filter(round=left.round).exclude(pk=left.pk).order_by("index").first()
        services.member_move(workshop=rounds_workshop, participant=mover, number=1, room_index=other.index)
        services.participant_leave(workshop=rounds_workshop, participant=stays)

    def person(who):
        return realtime.groups_for(viewer_of(rounds_workshop, participant=who))[1]

    def room(room_id):
        return realtime.room_groups(rounds_workshop.pk, [room_id])[0]

    staff = f"w{rounds_workshop.pk}.staff"
    expected = [
        ([person(late)], "rooms.changed"),
        ([room(room_of(late, 1).pk), staff], "rooms.changed"),
        ([person(late)], "resubscribe"),
        ([person(mover)], "rooms.changed"),
        *sorted(([room(pk), staff], "rooms.changed") for pk in (left.pk, other.pk)),
        ([person(mover)], "resubscribe"),
        ([person(stays)], "rooms.changed"),
        ([room(RoomMember.objects.get(participant=stays, round__number=1).room_id), staff], "rooms.changed"),
        ([person(stays)], "resubscribe"),
    ]
    assert sent == expected
    # Someone in a room none of this touched has nothing to catch up on either.
    touched = {
        room_of(late, 1).pk,
        left.pk,
        other.pk,
        RoomMember.objects.get(participant=stays, round__number=1).room_id,
    }
    bystander = next(p for p in guests(rounds_workshop) if room_of(p, 1).pk not in touched)
    events, _more = selectors.events_after(viewer_of(rounds_workshop, participant=bystander), after)
    assert "rooms.changed" not in [event["kind"] for event in events]


def test_people_who_leave_are_shown_as_gone_and_rebalancing_keeps_the_running_round(
    rounds_workshop, facilitator_client
):
    services.round_start(workshop=rounds_workshop, number=1)
    people = guests(rounds_workshop)
    gone = people[0]
    facilitator_client.post(url("control_action", rounds_workshop, "member-gone"), {"participant": gone.pk})
    assert RoomMember.objects.get(participant=gone, round__number=1).left_at is not None
    assert "is-gone" in facilitator_client.get(url("rooms_live", rounds_workshop)).content.decode()
    Participant.objects.filter(pk=gone.pk).update(first_joined_at=None)  # they went home
    round_one = sorted(RoomMember.objects.filter(round__number=1).values_list("room_id", "participant_id"))
    services.rounds_rebalance(workshop=rounds_workshop)
    assert sorted(RoomMember.objects.filter(round__number=1).values_list("room_id", "participant_id")) == round_one
    assert not RoomMember.objects.filter(participant=gone, round__number__gt=1).exists()
    assert RoomMember.objects.filter(round__number=3).count() == 11


def test_a_round_that_started_cannot_be_planned_over(rounds_workshop):
    services.round_start(workshop=rounds_workshop, number=1)
    with pytest.raises(LiveError):
        services.rounds_plan(workshop=rounds_workshop)


def test_overview_costs_the_same_queries_for_2_and_40_rooms(live_workshop, facilitator_client):
    now = timezone.now()

    def plan_for(count, rooms):
        Comment.objects.filter(workshop=live_workshop).delete()
        Round.objects.filter(workshop=live_workshop).delete()
        Participant.objects.filter(workshop=live_workshop).delete()
        for index in range(count):
            ParticipantFactory(workshop=live_workshop, name=f"Henkilö {index}", first_joined_at=now)
        services.rotation_update(workshop=live_workshop, data={"min_size": 4, "max_size": 5, "rooms": rooms})
        services.rounds_plan(workshop=live_workshop)
        services.round_start(workshop=live_workshop, number=1)
        first = Room.objects.filter(round__number=1).first()
        Comment.objects.create(
            client_id=uuid.uuid4(),
            workshop=live_workshop,
            phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS),
            room=first,
            round=first.round,
            text="Muistiinpano",
            language="fi",
        )
        with CaptureQueriesContext(connection) as context:
            assert facilitator_client.get(url("rooms_live", live_workshop) + "?fragment=1").status_code == 200
        return Room.objects.filter(round__number=1).count(), len(context.captured_queries)

    small_rooms, small = plan_for(8, 2)
    large_rooms, large = plan_for(180, 40)
    assert (small_rooms, large_rooms) == (2, 40)
    assert small == large


def test_summaries_side_by_side_per_case(rounds_workshop):
    for room in Room.objects.all():
        room.summary = f"Yhteenveto {room.round.number}{room.label}"
        room.save()
    person = guests(rounds_workshop)[0]
    html = guest_client(person).get(url("summaries", rounds_workshop)).content.decode()
    for case in rounds_workshop.cases.all():
        assert case.title in html
    assert "Yhteenveto 1A" in html and "Yhteenveto 3C" in html
    assert Client().get(url("summaries", rounds_workshop)).status_code == 404


def test_room_viewers_follow_exactly_their_rooms(rounds_workshop):
    person = guests(rounds_workshop)[0]
    ids = selectors.viewer_room_ids(viewer_of(rounds_workshop, participant=person))
    assert ids == set(RoomMember.objects.filter(participant=person).values_list("room_id", flat=True))
    leader = Room.objects.filter(round__number=1).first().leader
    assert selectors.viewer_room_ids(viewer_of(rounds_workshop, participant=leader)) == set(
        Room.objects.filter(leader=leader).values_list("pk", flat=True)
    )


def test_a_parastaminen_b_workshop_rotates_stations_by_default(workshop):
    from workshops.models import Workshop

    assert services.rotation_settings(workshop).mode == "A"
    other = ParticipantFactory().workshop
    Workshop.objects.filter(pk=other.pk).update(format=Workshop.Format.PARASTAMINEN_B)
    other.refresh_from_db()
    assert services.rotation_settings(other).mode == "B"


def test_each_room_can_have_its_own_video_link(rounds_workshop, facilitator_client):
    links = "https://meet.example.fi/a\nhttps://meet.example.fi/b\nhttps://meet.example.fi/c"
    data = {"mode": "A", "leaders_stay": "case", "min_size": 4, "max_size": 4, "rooms": "", "remix": "on"}
    data.update({"round_minutes": 10, "room_links": links})
    response = facilitator_client.post(url("rounds_settings", rounds_workshop), data)
    assert response.status_code == 302
    assert set(Room.objects.filter(index=1).values_list("meeting_url", flat=True)) == {"https://meet.example.fi/b"}
    bad = facilitator_client.post(url("rounds_settings", rounds_workshop), {**data, "room_links": "not a link"})
    assert "room_links" in bad.context["form"].errors  # the form comes back with the message
    services.round_start(workshop=rounds_workshop, number=1)
    person = guests(rounds_workshop)[0]
    room = room_of(person, 1)
    html = guest_client(person).get(url("live", rounds_workshop)).content.decode()
    assert f'href="https://meet.example.fi/{"abc"[room.index]}"' in html


def test_in_rotating_stations_each_cases_presenter_leads_their_station(live_workshop):
    case = live_workshop.cases.order_by("position").first()
    case.presenter_email = "esittaja@example.fi"
    case.save()
    presenter = ParticipantFactory(workshop=live_workshop, email="esittaja@example.fi", role=Participant.Role.PRESENTER)
    for index in range(9):
        ParticipantFactory(workshop=live_workshop, name=f"Asema {index}")
    services.rotation_update(workshop=live_workshop, data={"mode": "B", "min_size": 3, "max_size": 3})
    services.rounds_plan(workshop=live_workshop)
    stations = Room.objects.filter(case=case)
    assert stations.exists() and set(stations.values_list("leader_id", flat=True)) == {presenter.pk}


def test_no_summary_and_no_call_for_help_once_the_workshop_has_closed(rounds_workshop, facilitator):
    services.round_start(workshop=rounds_workshop, number=1)
    room = Room.objects.filter(round__number=1).order_by("index").first()
    leader = guest_client(room.leader)
    assert leader.post(url("room_summary", rounds_workshop, room.pk), {"text": "Valmis"}, **JSON).status_code == 200
    services.live_close(workshop=rounds_workshop, by=facilitator)
    late = leader.post(url("room_summary", rounds_workshop, room.pk), {"text": "Myöhässä"}, **JSON)
    assert late.status_code == 400 and late.json()["error"]
    assert leader.post(url("room_help", rounds_workshop, room.pk), **JSON).status_code == 400
    room.refresh_from_db()
    assert room.summary == "Valmis" and room.help_requested_at is None
