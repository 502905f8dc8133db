"""The live pages' query counts do not grow with the comments, and what keeps them fast stays correct:
the capped threads with their "Show earlier" link, the shared room overview cache, no lock on page loads."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facilitation import realtime, selectors, selectors_live, services
from facilitation.models import Comment, Event, LiveState, Phase, Reaction, Room, RoomMember, Round
from tests.facilitation.conftest import comment_as, guest_client, viewer_of
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


@pytest.fixture(autouse=True)
def in_english(settings):
    """Pages in English, so the tests can name their links."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def running_round(live_workshop, django_capture_on_commit_callbacks):
    """The persona workshop in round 1 of its small-group rounds: 12 participants in 3 rooms."""
    now = timezone.now()
    for index in range(12):
        ParticipantFactory(workshop=live_workshop, name=f"Osallistuja {index:02d}", first_joined_at=now)
    for index in range(3):
        ParticipantFactory(
            workshop=live_workshop, name=f"Vetäjä {index}", role=Participant.Role.GROUP_LEADER, first_joined_at=now
        )
    services.rotation_update(workshop=live_workshop, data={"min_size": 4, "max_size": 4, "round_minutes": 10})
    with django_capture_on_commit_callbacks(execute=True):
        services.rounds_plan(workshop=live_workshop)
        services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS))
        services.round_start(workshop=live_workshop, number=1)
    return live_workshop


def add_comments(workshop, *, count: int, room: Room | None = None, phase: Phase | None = None) -> list[Comment]:
    """``count`` top-level comments (each with a reply and a reaction) by the room's members or anyone."""
    phase = phase or workshop.phases.get(kind=Phase.Kind.ROUNDS)
    people = (
        [member.participant for member in room.members.select_related("participant")]
        if room
        else list(Participant.objects.filter(workshop=workshop, role=Participant.Role.PARTICIPANT))
    )
    start = timezone.now() - timedelta(hours=1)
    existing = Comment.objects.filter(workshop=workshop).count()

    def comment(number: int, **fields) -> Comment:
        return Comment(
            client_id=uuid.uuid4(),
            workshop=workshop,
            phase=phase,
            room=room,
            round=room.round if room else None,
            author_participant=people[number % len(people)],
            anonymous=number % 5 == 0,
            text=f"Huomio {existing + number}",
            language="fi",
            created_at=start + timedelta(seconds=existing + number),
            **fields,
        )

    tops = Comment.objects.bulk_create(comment(number) for number in range(count))
    Comment.objects.bulk_create(comment(number, parent=top) for number, top in enumerate(tops))
    Reaction.objects.bulk_create(
        Reaction(comment=top, participant=people[(number + 1) % len(people)], kind=Reaction.Kind.AGREE)
        for number, top in enumerate(tops)
    )
    cache.clear()  # written without the events that would make the shared copies new: forget them
    return tops


def queries_for(client: Client, address: str) -> tuple[int, str]:
    client.get(address)  # sessions and the like settle on the first request
    cache.clear()  # the room overview's shared copy: count the rendering, not the copy
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def room_member(workshop) -> tuple[Participant, Room]:
    membership = RoomMember.objects.filter(round__number=1, round__workshop=workshop).select_related("room").first()
    return membership.participant, membership.room


@pytest.mark.parametrize("page", ["rooms_live", "rooms_live_fragment"])
def test_room_overview_queries_do_not_grow_with_comments(running_round, facilitator_client, page):
    address = url("rooms_live", running_round) + ("?fragment=1" if page.endswith("fragment") else "")
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round))
    add_comments(running_round, count=2, room=rooms[0])
    few, _html = queries_for(facilitator_client, address)
    for room in rooms:
        add_comments(running_round, count=40, room=room)
    add_comments(running_round, count=40, phase=running_round.phases.filter(kind=Phase.Kind.REFLECTION).first())
    many, html = queries_for(facilitator_client, address)
    assert few == many
    assert "Huomio" in html  # the latest notes are there


def shown_comments(html: str) -> list[str]:
    """The comments a page shows: not the stand-in of its template for pushed ones."""
    stand_in = str(realtime.COMMENT_STAND_INS["id"])
    return [pk for pk in re.findall(r'data-comment="(\d+)"', html) if pk != stand_in]


@pytest.mark.parametrize("page", ["live", "panel"])
def test_participant_page_queries_do_not_grow_with_comments(running_round, page):
    person, room = room_member(running_round)
    client = guest_client(person)
    add_comments(running_round, count=2, room=room)
    few, html = queries_for(client, url(page, running_round))
    assert "Huomio 0" in html and "Show earlier notes" not in html
    add_comments(running_round, count=selectors.THREAD_LATEST + 30, room=room)
    many, html = queries_for(client, url(page, running_round))
    assert few == many
    # Only the latest ones: the first top-level notes are behind the "Show earlier notes" link.
    shown = shown_comments(html)
    assert len(shown) == 2 * selectors.THREAD_LATEST  # each with its reply
    assert "Huomio 0</p>" not in html and "Show earlier notes" in html
    assert f"Huomio {4 + selectors.THREAD_LATEST + 30 - 1}</p>" in html  # the newest


def test_show_earlier_comments_doubles_what_a_thread_shows(running_round):
    person, room = room_member(running_round)
    client = guest_client(person)
    add_comments(running_round, count=selectors.THREAD_LATEST * 3, room=room)
    html = client.get(url("live", running_round)).content.decode()
    link = re.search(r'href="\?show=(\d+)#thread-r\d+-title"', html)
    assert link and int(link.group(1)) == 2 * selectors.THREAD_LATEST
    more = client.get(url("live", running_round) + f"?show={link.group(1)}").content.decode()
    assert len(shown_comments(more)) == 2 * 2 * selectors.THREAD_LATEST
    everything = client.get(url("live", running_round) + "?show=100000").content.decode()
    assert "Show earlier notes" not in everything and "Huomio 0</p>" in everything
    assert len(shown_comments(everything)) == 2 * 3 * selectors.THREAD_LATEST


def test_plenary_threads_are_capped_with_a_link(live_workshop, participant):
    phase = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    services.phase_go(workshop=live_workshop, phase=phase)
    client = guest_client(participant.participant)
    add_comments(live_workshop, count=2, phase=phase)
    few, _html = queries_for(client, url("live", live_workshop))
    add_comments(live_workshop, count=selectors.THREAD_LATEST + 5, phase=phase)
    many, html = queries_for(client, url("live", live_workshop))
    assert few == many
    assert "Show earlier comments" in html
    threads = client.get(url("threads", live_workshop, phase.pk)).json()["threads"]
    assert sum(len(re.findall(r'data-comment="(\d+)"', part)) for part in threads.values()) <= (
        2 * selectors.THREAD_LATEST
    )


def test_a_placed_participant_loads_the_page_without_locking_the_workshop(running_round):
    person, _room = room_member(running_round)
    client = guest_client(person)
    client.get(url("live", running_round))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url("live", running_round)).status_code == 200
    assert not any("FOR UPDATE" in query["sql"] for query in captured.captured_queries)


def test_a_late_joiner_is_still_placed(running_round):
    late = ParticipantFactory(workshop=running_round, name="Myöhäinen", first_joined_at=timezone.now())
    assert guest_client(late).get(url("live", running_round)).status_code == 200
    assert RoomMember.objects.filter(participant=late, round__number=1).exists()


def test_room_overview_copy_follows_events_and_carries_each_browsers_csrf_token(running_round, facilitator):
    _person, room = room_member(running_round)
    address = url("rooms_live", running_round) + "?fragment=1"
    browsers = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(facilitator)
        browsers.append(browser)
    first = browsers[0].get(address).content.decode()
    second = browsers[1].get(address).content.decode()  # the shared copy
    assert "csrf-token-slot" not in first + second
    for browser, html in zip(browsers, (first, second), strict=True):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = browser.post(
            url("control_action", running_round, "room-broadcast"),
            {"room": room.pk, "text": "Viisi minuuttia", "return_to": "rooms", "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 302  # not 403: the token is this browser's
    # A change (an event) makes a fresh copy.
    leader = viewer_of(running_round, participant=room.leader)
    services.room_summary_save(viewer=leader, room_id=room.pk, text="Tuore yhteenveto")
    assert "Tuore yhteenveto" in browsers[1].get(address).content.decode()


def test_plain_participants_share_one_panel_copy_with_their_own_csrf_token(live_workshop, facilitator):
    """A phase change makes every screen ask for the panel at once: it is rendered once, then shared."""
    phase = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    services.phase_go(workshop=live_workshop, phase=phase)
    now = timezone.now()
    aino, bertta = (ParticipantFactory(workshop=live_workshop, first_joined_at=now) for _ in range(2))
    comment, _created = services.comment_create(
        viewer=viewer_of(live_workshop, participant=aino),
        phase_id=phase.pk,
        prompt_id=phase.prompts.first().pk,
        parent_id=None,
        text="Ainon oma havainto",
        anonymous=False,
        client_id=uuid.uuid4(),
        language="fi",
    )
    Reaction.objects.create(comment=comment, participant=aino, kind=Reaction.Kind.AGREE)
    browsers = {person: guest_client(person) for person in (aino, bertta)}
    for browser in browsers.values():
        browser.handler.enforce_csrf_checks = True
    first_queries, first = queries_for(browsers[aino], url("panel", live_workshop))
    browsers[bertta].get(url("panel", live_workshop))  # sessions settle
    with CaptureQueriesContext(connection) as captured:
        second = browsers[bertta].get(url("panel", live_workshop)).content.decode()
    second_queries = len(captured)
    assert second_queries < first_queries  # the copy, not a new render
    assert "Ainon oma havainto" in first and "Ainon oma havainto" in second
    tokens = []
    for html in (first, second):
        # Nobody's own marks in a shared copy: each page marks its own comments and reactions.
        assert "data-mine" not in html and 'aria-pressed="true"' not in html
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
    assert tokens[0] != tokens[1]
    for (person, browser), token in zip(browsers.items(), tokens, strict=True):
        response = browser.post(
            url("comment_new", live_workshop),
            {
                "phase": phase.pk,
                "prompt": phase.prompts.first().pk,
                "text": f"Kiitos {person.pk}",
                "client_id": str(uuid.uuid4()),
                "csrfmiddlewaretoken": token,
            },
        )
        assert response.status_code == 302  # not 403: the token is this browser's
    # Those comments are events: the next panel is a fresh copy with them.
    fresh = browsers[bertta].get(url("panel", live_workshop)).content.decode()
    assert f"Kiitos {aino.pk}" in fresh and f"Kiitos {bertta.pk}" in fresh


def test_a_panel_of_ones_own_is_never_shared(live_workshop, facilitator):
    """Staff, a case's presenter, more comments asked for, rooms, ideas, votes, the survey, private answers."""
    phase = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    services.phase_go(workshop=live_workshop, phase=phase)
    person = ParticipantFactory(workshop=live_workshop)
    plain = viewer_of(live_workshop, participant=person)
    assert selectors.shared_panel_key(plain, selectors.THREAD_LATEST, "fi") is not None
    assert selectors.shared_panel_key(plain, selectors.THREAD_LATEST * 2, "fi") is None
    assert selectors.shared_panel_key(viewer_of(live_workshop, user=facilitator, staff=True), 25, "fi") is None
    presenter = viewer_of(live_workshop, participant=person, presented=[live_workshop.cases.first().pk])
    assert selectors.shared_panel_key(presenter, selectors.THREAD_LATEST, "fi") is None
    Phase.objects.filter(pk=phase.pk).update(private_first=True)
    assert selectors.shared_panel_key(plain, selectors.THREAD_LATEST, "fi") is None
    Phase.objects.filter(pk=phase.pk).update(revealed_at=timezone.now())
    assert selectors.shared_panel_key(plain, selectors.THREAD_LATEST, "fi") is not None
    for kind in selectors.OWN_PANEL_KINDS:
        Phase.objects.filter(pk=phase.pk).update(kind=kind)
        assert selectors.shared_panel_key(plain, selectors.THREAD_LATEST, "fi") is None


def test_a_rooms_members_share_their_rooms_panel_copy_and_no_other_room_sees_it(running_round):
    """A round's start makes every screen ask for its panel: each room's copy is rendered once for its members;
    another room, the room's leader and a member who asked for earlier notes get their own."""
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round).order_by("index"))
    first, second = ([m.participant for m in room.members.select_related("participant")] for room in rooms[:2])
    mine = add_comments(running_round, count=1, room=rooms[0])[0]
    Reaction.objects.filter(comment=mine).update(participant=first[1])
    comment_as(running_round, first[0], "Ensimmäisen huoneen muistiinpano", room=rooms[0].pk)
    cache.clear()
    browsers = [guest_client(person) for person in (*first[:3], second[0])]
    first_queries, copy = queries_for(browsers[0], url("panel", running_round))
    with CaptureQueriesContext(connection) as captured:
        again = browsers[1].get(url("panel", running_round)).content.decode()
    assert len(captured) < first_queries  # the room's copy, not a new render
    keys = [
        selectors.shared_panel_key(viewer_of(running_round, participant=person), selectors.THREAD_LATEST, "en")
        for person in (*first[:2], second[0])
    ]
    assert keys[0] == keys[1] and keys[0] != keys[2] and keys[2] is not None
    for html in (copy, again):
        assert "Ensimmäisen huoneen muistiinpano" in html and "Huomio" in html
        # Nobody's own marks in a shared copy: each page marks its own comments and reactions.
        assert "data-mine" not in html and 'aria-pressed="true"' not in html
    other = browsers[3].get(url("panel", running_round)).content.decode()
    assert "Ensimmäisen huoneen muistiinpano" not in other and "Huomio" not in other
    # The room's leader has a console of their own; so has a member who asked for earlier notes.
    leader = viewer_of(running_round, participant=rooms[0].leader)
    assert selectors.shared_panel_key(leader, selectors.THREAD_LATEST, "en") is None
    assert selectors.shared_panel_key(leader, selectors.THREAD_LATEST * 2, "en") is None
    # A new note in the room (an event of the room's) makes a new copy with it; one in another room does not.
    comment_as(running_round, second[0], "Toisen huoneen muistiinpano", room=rooms[1].pk)
    same = selectors.shared_panel_key(viewer_of(running_round, participant=first[0]), selectors.THREAD_LATEST, "en")
    assert same == keys[0]
    comment_as(running_round, first[2], "Tuore muistiinpano", room=rooms[0].pk)
    assert "Tuore muistiinpano" in browsers[2].get(url("panel", running_round)).content.decode()
    # The live page itself stays each viewer's own: it marks the author's note without a script.
    page = browsers[0].get(url("live", running_round)).content.decode()
    assert "data-mine" in page


def _page_as_rendered(client, address: str) -> str:
    """The page without what differs from one answer to the next: CSRF tokens, the script nonce, the clock."""
    html = client.get(address).content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", html)
    html = re.sub(r'nonce="[^"]+"', "nonce", html)
    return re.sub(r'data-now="[^"]+"', "now", html)


@pytest.mark.parametrize("where", ["plenary", "room"])
def test_a_page_from_the_shared_copy_is_the_page_of_ones_own(running_round, monkeypatch, where):
    """The live page takes its panel from the shared copy and puts the viewer's marks in: their comments (edit
    and delete shown), their reactions pressed. Byte for byte what their own render gives, without a script."""
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round).order_by("index"))
    person, other = (m.participant for m in rooms[0].members.select_related("participant")[:2])
    where_to = {"room": rooms[0].pk}
    if where == "plenary":
        phase = running_round.phases.filter(kind=Phase.Kind.REFLECTION).first()
        services.phase_go(workshop=running_round, phase=phase)
        where_to = {"prompt": phase.prompts.first().pk}

    def write(author, text, *, parent=None, anonymous=False):
        return comment_as(running_round, author, text, parent=parent and parent.pk, anonymous=anonymous, **where_to)

    theirs = write(other, "Toisen ajatus")
    write(person, "Oma vastaus", parent=theirs)
    write(person, "Oma nimetön", anonymous=True)
    gone = write(person, "Poistettu")
    write(other, "Vastaus poistettuun", parent=gone)
    services.comment_delete(viewer=viewer_of(running_round, participant=person), comment_id=gone.pk)
    write(other, "Toinen ajatus")
    Reaction.objects.create(comment=theirs, participant=person, kind=Reaction.Kind.GOOD_POINT)
    Reaction.objects.create(comment=theirs, participant=other, kind=Reaction.Kind.AGREE)
    cache.clear()
    client = guest_client(person)
    viewer = viewer_of(running_round, participant=person)
    assert selectors.shared_panel_key(viewer, selectors.THREAD_LATEST, "en") is not None
    shared = _page_as_rendered(client, url("live", running_round))
    assert shared.count("data-mine") == 3 and shared.count('aria-pressed="true"') == 1
    assert cache.get(selectors.shared_panel_key(viewer, selectors.THREAD_LATEST, "en")) is not None
    monkeypatch.setattr(selectors, "shared_panel_key", lambda *args, **kwargs: None)
    assert shared == _page_as_rendered(client, url("live", running_round))
    # The other author's page marks theirs, not the first one's.
    other_page = _page_as_rendered(guest_client(other), url("live", running_round))
    monkeypatch.undo()
    assert other_page == _page_as_rendered(guest_client(other), url("live", running_round))
    assert other_page.count("data-mine") == 3


def test_own_marks_are_the_viewers_comments_and_reactions_of_the_current_phase_only(running_round):
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round).order_by("index"))
    person, other = (m.participant for m in rooms[0].members.select_related("participant")[:2])
    viewer = viewer_of(running_round, participant=person)
    mine = comment_as(running_round, person, "Huoneessa", room=rooms[0].pk)
    theirs = comment_as(running_round, other, "Toisen", room=rooms[0].pk)
    comment_as(running_round, other, "Toisen toinen", room=rooms[0].pk)
    Reaction.objects.create(comment=theirs, participant=person, kind=Reaction.Kind.GOOD_POINT)
    Reaction.objects.create(comment=mine, participant=other, kind=Reaction.Kind.AGREE)
    rounds = selectors.live_read(viewer).state.current_phase_id
    with CaptureQueriesContext(connection) as captured:
        assert selectors.own_marks(viewer, rounds) == ({mine.pk}, {theirs.pk: Reaction.Kind.GOOD_POINT})
    assert len(captured) == 1
    phase = running_round.phases.filter(kind=Phase.Kind.REFLECTION).first()
    services.phase_go(workshop=running_round, phase=phase)
    assert selectors.own_marks(viewer, phase.pk) == (set(), {})  # the rounds' marks stay with the rounds
    plenary = comment_as(running_round, person, "Yhteinen", prompt=phase.prompts.first().pk)
    assert selectors.own_marks(viewer, phase.pk) == ({plenary.pk}, {})
    assert selectors.own_marks(viewer, rounds) == ({mine.pk}, {theirs.pk: Reaction.Kind.GOOD_POINT})
    assert selectors.own_marks(viewer, None) == (set(), {})  # no phase yet: nothing of theirs is shown


def test_a_room_members_live_page_from_the_shared_copy_reads_the_workshops_state_once(running_round):
    """Five queries: session; the participant with their workshop; the state with its phase; one read of the newest
    event the page may see, late placement, the member's room and the copy's newest events; the member's own
    marks."""
    person, _room = room_member(running_round)
    client = guest_client(person)
    client.get(url("live", running_round))  # the copy is made
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("live", running_round))
    assert response.status_code == 200
    assert len(captured) == 5
    state_reads = [query for query in captured if 'FROM "facilitation_livestate"' in query["sql"]]
    assert len(state_reads) == 1


def test_the_room_overview_reads_no_phase_panel_and_still_shows_the_live_bar(
    running_round, facilitator, facilitator_client
):
    """With the overview's shared copy made, eight queries for the page: session, user, workshop, the user's
    participant row, the rounds (the running one among them), who is connected, the state with its phase, the
    newest event; the fragment seven (no state). The page shows no phase's panel, so it reads none; its bar
    still shows the round's timer and the facilitator's message."""
    services.broadcast_send(workshop=running_round, text="Viisi minuuttia jäljellä")
    address = url("rooms_live", running_round)
    counts = {}
    for page in (address, address + "?fragment=1"):
        facilitator_client.get(page)  # the copy is made
        with CaptureQueriesContext(connection) as captured:
            response = facilitator_client.get(page)
        assert response.status_code == 200
        counts[page] = len(captured)
    assert counts == {address: 8, address + "?fragment=1": 7}
    html = facilitator_client.get(address).content.decode()
    live = LiveState.objects.get(pk=running_round.pk)
    shown = re.search(r'data-deadline="([^"]+)"', html)
    assert shown and datetime.fromisoformat(shown.group(1)) == live.timer_deadline  # the round's timer runs
    assert "Viisi minuuttia jäljellä" in html
    newest = selectors.last_event_id(viewer_of(running_round, user=facilitator, staff=True))
    assert f'data-last-event="{newest}"' in html


def test_a_pushed_comment_is_rendered_as_nobodys_without_the_template_engine_searching_it(running_round, monkeypatch):
    """Its HTML is the template's text and meta of a comment, and no lookup falls back on dir() (which Django's
    template engine calls for a missing attribute: ~20 per push when the whole item was pushed)."""
    import django.template.base
    from django.template.loader import render_to_string
    from django.utils import translation

    from facilitation import realtime

    person, room = room_member(running_round)
    made = comment_as(running_round, person, "Uusi huomio", room=room.pk)

    def fetched() -> Comment:
        comment = Comment.objects.get(pk=made.pk)
        comment.agree_count = comment.good_point_count = 0
        return comment

    with translation.override("fi"):
        expected = render_to_string("facilitation/partials/comment.html#main", {"comment": fetched()})

    def no_dir(*args):
        raise AssertionError("the template engine searched a comment's attributes")

    monkeypatch.setattr(django.template.base, "dir", no_dir, raising=False)
    payload = realtime.comment_payload(fetched())
    assert payload["i18n"]["fi"]["html"] == expected
    assert "data-mine" not in expected and "Uusi huomio" in expected


def test_the_phase_push_carries_everyones_panel_in_each_language(live_workshop, django_capture_on_commit_callbacks):
    """Plain participants' pages show the pushed panel instead of all asking for it at once."""
    from django.conf import settings

    from facilitation import realtime
    from facilitation.models import Event

    phase = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=phase)
    event = Event.objects.filter(workshop=live_workshop, kind="phase").latest("id")
    panels = event.payload["i18n"]
    assert set(panels) == {code for code, _name in settings.LANGUAGES}
    for code, part in panels.items():
        html = part["panel"]
        assert f'data-phase="{phase.pk}"' in html and realtime.csrf_slot() in html and "data-mine" not in html
        assert (
            realtime.event_for_client({"id": event.pk, "kind": "phase", "data": event.payload}, code)["data"]["panel"]
            == html
        )
    assert panels["fi"]["panel"] != panels["en"]["panel"]  # the page's own words are in its language
    # Private answers are each viewer's own: no shared panel is pushed with them.
    Phase.objects.filter(pk=phase.pk).update(private_first=True)
    phase.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=phase)
    assert "i18n" not in Event.objects.filter(workshop=live_workshop, kind="phase").latest("id").payload
    # Before and between the rounds everyone sees the same small-group panel (during one, their own room).
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.ROUNDS))
    pushed = Event.objects.filter(workshop=live_workshop, kind="phase").latest("id").payload["i18n"]["en"]["panel"]
    assert "The small groups are being formed." in pushed


def test_the_small_group_phase_carries_no_shared_panel_while_a_round_runs(
    running_round, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=running_round, phase=running_round.phases.filter(kind=Phase.Kind.REFLECTION).first())
        services.phase_go(workshop=running_round, phase=running_round.phases.get(kind=Phase.Kind.ROUNDS))
    assert "i18n" not in Event.objects.filter(workshop=running_round, kind="phase").latest("id").payload


def test_a_rounds_end_carries_what_everyone_sees_until_the_next(running_round, django_capture_on_commit_callbacks):
    person, _room = room_member(running_round)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_close(workshop=running_round)
    ended = Event.objects.filter(workshop=running_round, kind="round").latest("id").payload
    assert ended["round"] == 1 and ended["open"] is False
    pushed = ended["i18n"]["en"]["panel"]
    assert "Round 2 of 3 starts soon." in pushed
    fetched = guest_client(person).get(url("panel", running_round)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fetched)
    # A member's own panel between the rounds is the pushed one, but for the browser's CSRF token.
    assert (fetched.replace(token.group(1), realtime.csrf_slot()) if token else fetched) == pushed


def test_the_pushed_panels_are_read_once_and_each_titled_in_its_language(live_workshop, settings):
    """The phase push's panels come from one read of the page, rendered in each language: three languages
    take as many queries as one, and the threads' titles are in the panel's language."""
    from facilitation import realtime
    from facilitation.models import LiveState

    live = LiveState.objects.select_related("current_phase").get(pk=live_workshop.pk)
    assert live.current_phase.kind == Phase.Kind.PRESENTATION and not live.current_phase.prompts.exists()
    realtime.phase_panels(live)  # reads the workshop once, kept on ``live``
    languages = settings.LANGUAGES
    settings.LANGUAGES = [("fi", "suomi")]
    with CaptureQueriesContext(connection) as one_language:
        realtime.phase_panels(live)
    settings.LANGUAGES = languages
    with CaptureQueriesContext(connection) as every_language:
        panels = realtime.phase_panels(live)
    assert len(languages) == 3 and len(every_language) == len(one_language)
    assert "Havaintoja ja kysymyksiä tapausesimerkistä" in panels["fi"]["panel"]
    assert "Iakttagelser och frågor om fallexemplet" in panels["sv"]["panel"]
    assert "Observations and questions on the case" in panels["en"]["panel"]


def _orm_read(viewer) -> selectors_live.ParticipantRead:
    """What ``selectors_live.participant_read`` answers, read with the ORM as the selectors did before."""
    workshop, person = viewer.workshop, viewer.participant

    def newest(events) -> int:
        return events.filter(workshop=workshop).order_by("-id").values_list("id", flat=True).first() or 0

    running = Round.objects.filter(workshop=workshop, started_at__isnull=False, closed_at__isnull=True)
    room = (
        Room.objects.filter(round=running.order_by("number").first())
        .filter(Q(members__participant=person, members__left_at__isnull=True) | Q(leader=person))
        .order_by("index")
        .first()
    )
    panel_room = None if room is None or room.leader_id == person.pk else room.pk
    return selectors_live.ParticipantRead(
        newest_seen=newest(Event.objects.filter(selectors._audience(viewer))),
        has_rounds=Round.objects.filter(workshop=workshop).exists(),
        placed=RoomMember.objects.filter(round__workshop=workshop, participant=person).exists(),
        panel_room=panel_room,
        newest_all=newest(Event.objects.filter(audience=Event.Audience.ALL)),
        newest_room=newest(Event.objects.filter(audience=Event.Audience.ROOM, room_id=panel_room)),
    )


def test_the_participants_read_in_sql_answers_what_the_orm_answers(running_round):
    """For a room's member, its leader, a member who left, someone with no room and someone in no round yet:
    the newest event each may see (everyone's, their rooms', their own, not another room's or person's)."""
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round).order_by("index"))
    first, second = ([m.participant for m in room.members.select_related("participant")] for room in rooms[:2])
    gone = first[3]
    services.participant_leave(workshop=running_round, participant=gone)
    newcomer = ParticipantFactory(workshop=running_round, name="Uusi", first_joined_at=timezone.now())
    people = [first[0], second[0], rooms[0].leader, gone, newcomer]

    def compare() -> None:
        for person in people:
            viewer = viewer_of(running_round, participant=person)
            assert selectors_live.participant_read(running_round.pk, person.pk, shared=True) == _orm_read(viewer)

    compare()
    comment_as(running_round, first[1], "Ensimmäisessä", room=rooms[0].pk)
    compare()
    comment_as(running_round, second[1], "Toisessa", room=rooms[1].pk)  # the newest event: room 2's only
    compare()
    for person in (first[0], newcomer):
        Event.objects.create(
            workshop=running_round, kind="comment.mine", audience=Event.Audience.PERSON, participant=person
        )
        compare()
    seen = selectors_live.participant_read(running_round.pk, second[0].pk, shared=False)
    assert seen.newest_seen == _orm_read(viewer_of(running_round, participant=second[0])).newest_seen
    assert (seen.panel_room, seen.newest_all, seen.newest_room) == (None, 0, 0)  # not asked for
    services.round_close(workshop=running_round)  # no round running: nobody's room is shown
    compare()
    assert selectors_live.participant_read(running_round.pk, first[0].pk, shared=True).panel_room is None


def test_own_marks_count_what_a_signed_in_participant_wrote_as_their_user(running_round, facilitator):
    rooms = list(Room.objects.filter(round__number=1, round__workshop=running_round).order_by("index"))
    person = rooms[0].members.select_related("participant").first().participant
    written = comment_as(running_round, person, "Käyttäjänä", room=rooms[0].pk)
    Comment.objects.filter(pk=written.pk).update(author_participant=None, author_user=facilitator)
    phase = written.phase_id
    assert selectors.own_marks(viewer_of(running_round, participant=person), phase) == (set(), {})
    as_user = viewer_of(running_round, participant=person, user=facilitator)
    assert selectors.own_marks(as_user, phase) == ({written.pk}, {})


def test_an_edit_of_the_running_phase_reaches_open_pages_and_renews_the_shared_copy(
    live_workshop, django_capture_on_commit_callbacks
):
    """The copy lives PANEL_CACHE_SECONDS, long after an edit: the edit's event makes a new copy, and open pages
    get the edited phase (with the plain participants' panel) at once. Editing another phase pushes nothing."""
    phase = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    services.phase_go(workshop=live_workshop, phase=phase)
    client = guest_client(ParticipantFactory(workshop=live_workshop))
    cache.clear()
    assert "Uusi kysymys tänään" not in client.get(url("panel", live_workshop)).content.decode()  # the copy
    events = Event.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_update(phase=live_workshop.phases.exclude(pk=phase.pk).first(), data={"title": "Muu"})
    assert Event.objects.count() == events
    prompts = [prompt.text for prompt in phase.prompts.all()]
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_update(phase=phase, data={}, prompts=[*prompts, "Uusi kysymys tänään"])
    pushed = Event.objects.filter(kind="phase").latest("id").payload
    assert pushed["phase"] == phase.pk and "Uusi kysymys tänään" in str(pushed["i18n"])
    assert "Uusi kysymys tänään" in client.get(url("panel", live_workshop)).content.decode()


def test_the_pages_template_of_a_comment_filled_in_as_live_js_does_is_the_servers_render(running_round):
    """What a pushed comment becomes on a page (the template's stand-ins replaced by the pushed ids, the pushed
    text and meta in place of the template's) is what the server renders for the comment as nobody's: no id the
    item needs is missing from the push, wherever the template puts one."""
    from django.template.loader import render_to_string
    from django.utils import translation

    person, room = room_member(running_round)
    made = comment_as(running_round, person, "Huomio <b>pienryhmästä</b>", room=room.pk)
    comment = Comment.objects.get(pk=made.pk)
    payload = realtime.comment_payload(comment)
    with translation.override("sv"):
        template = realtime.comment_template(running_round.pk)
        served = render_to_string(
            "facilitation/partials/comment.html",
            {"comment": comment, "push": True, "mine": False, "my_reaction": None, "can_moderate": False},
        )
    values = {str(stand_in): str(payload[name] or "") for name, stand_in in realtime.COMMENT_STAND_INS.items()}
    filled = re.sub("|".join(values), lambda match: values[match.group()], template)
    template_main = re.search(r'<div class="comment-main" data-part="main">.*?</div>\n</div>', filled, re.S)
    served_main = re.search(r'<div class="comment-main" data-part="main">.*?</div>\n</div>', served, re.S)
    assert served_main.group() == payload["i18n"]["sv"]["html"]
    built = filled.replace(template_main.group(), payload["i18n"]["sv"]["html"])
    # live.js fills the edit box with the pushed text (the template's is empty), as the server does.
    edit_box = f'data-draft="edit-{comment.pk}">'
    built = built.replace(edit_box + "</textarea>", edit_box + escape(payload["text"]) + "</textarea>")
    assert payload["room"] == room.pk and payload["thread"] == f"r{room.pk}"
    assert built == served


@pytest.mark.django_db(transaction=True)
def test_a_comments_post_reads_three_times_and_writes_once(live_workshop, django_capture_on_commit_callbacks):
    """Under load every round trip of a POST is a wait before the comment is out to everyone: the session; the
    participant with their workshop; the phase with its question checked and the comment's id taken. Then the
    comment and its event in one statement, outside a transaction (no BEGIN and COMMIT round trips either)."""
    person = ParticipantFactory(workshop=live_workshop)
    client = guest_client(person)
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    LiveState.objects.filter(pk=live_workshop.pk).update(current_phase=reflection)
    prompt = reflection.prompts.first()
    fields = {"phase": reflection.pk, "prompt": prompt.pk, "thread": "t", "text": "Hyvä", "client_id": uuid.uuid4()}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url("comment_new", live_workshop), fields, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    statements = [query["sql"].split(" ", 1)[0] for query in captured]
    # What comes after (the facilitators' counts, here at once for want of a server's loop) is past the push.
    assert statements[: statements.index("WITH") + 1] == ["SELECT", "SELECT", "SELECT", "WITH"]
    # The viewer and the phase are read without joining the workshop to sort them by its start: their models
    # order by the workshop's column, not by the relation (which follows the workshop's own ordering).
    assert not [query["sql"] for query in captured if "starts_at" in query["sql"].partition("ORDER BY")[2]]
    comment = Comment.objects.get()
    assert comment.prompt == prompt and response.json()["id"] == comment.pk
    event = Event.objects.get(kind="comment.created")
    assert (
        event.payload["id"] == comment.pk and f'id="comment-{comment.pk}-meta"' in event.payload["i18n"]["fi"]["html"]
    )
