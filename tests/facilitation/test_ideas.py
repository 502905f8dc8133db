"""Idea collection: sending ideas (once per client id, within the phase's limit), who sees which ideas,
the facilitators' hiding, correcting and merging, team sizes, anonymity and fixed query counts."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilitation import services
from facilitation.models import Event, Idea, LiveState, Phase
from facilitation.selectors_ideas import ideas_view
from facilitation.services import LiveError
from tests.facilitation.conftest import guest_client, make_guest, viewer_of
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
QUESTION = "Mitä kirjasto voisi tehdä nuorille?"
CANARY_ID = 876543


@pytest.fixture(autouse=True)
def in_english(settings):
    """Pages and messages in English, which the assertions read."""
    settings.LANGUAGE_CODE = "en"


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


def make_ideas_phase(workshop, *, go=True, **options) -> Phase:
    settings = {"idea_max_length": 50, "ideas_public": True, "offers_to_run": True, **options}
    phase = services.phase_create(
        workshop=workshop, kind=Phase.Kind.IDEAS, title="Ideointi", duration_minutes=15, prompts=[QUESTION], **settings
    )
    if go:
        services.phase_go(workshop=workshop, phase=phase)
    return phase


@pytest.fixture
def phase(live_workshop, django_capture_on_commit_callbacks) -> Phase:
    with django_capture_on_commit_callbacks(execute=True):
        return make_ideas_phase(live_workshop)


@pytest.fixture
def author(live_workshop):
    return ParticipantFactory(workshop=live_workshop, name="Aino Ideoija")


def send(viewer, phase, text="Lukupiiri nuorille", *, anonymous=False, can_run=False, client_id=None):
    return services.idea_create(
        viewer=viewer,
        phase_id=phase.pk,
        text=text,
        anonymous=anonymous,
        can_run=can_run,
        client_id=client_id or uuid.uuid4(),
        language="fi",
    )


def post_idea(client, workshop, phase, text="Lukupiiri nuorille", **fields):
    data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"i{phase.pk}", **fields}
    return client.post(url("idea_new", workshop), data, **JSON)


def staff(workshop, facilitator):
    return viewer_of(workshop, user=facilitator, staff=True)


def events(kind):
    return list(Event.objects.filter(kind=kind).order_by("id"))


# --- sending ------------------------------------------------------------------------------
def test_a_participant_sends_an_idea_and_gets_its_html(live_workshop, phase, author):
    client = guest_client(author)
    response = post_idea(client, live_workshop, phase, "Lukupiiri nuorille", can_run="on")
    assert response.status_code == 201
    body = response.json()
    idea = Idea.objects.get()
    assert body["id"] == idea.pk and body["dom_id"] == f"idea-{idea.pk}" and body["thread"] == f"i{phase.pk}"
    assert f'id="idea-{idea.pk}"' in body["html"] and "Lukupiiri nuorille" in body["html"]
    assert "Aino Ideoija" in body["html"] and "data-mine" in body["html"]
    assert idea.author_participant == author and idea.can_run and not idea.anonymous and idea.language
    page = client.get(url("live", live_workshop)).content.decode()
    assert QUESTION in page
    assert f'data-thread-list="i{phase.pk}"' in page and f'data-draft-key="idea-{phase.pk}"' in page
    assert f'action="{url("idea_new", live_workshop)}"' in page
    assert 'name="can_run"' in page and 'data-limit="50"' in page and 'aria-live="polite"' in page
    assert "Anonymous means anonymous" in page
    assert "Lukupiiri nuorille" in page


def test_without_javascript_the_post_redirects_to_the_idea(live_workshop, phase, author):
    response = guest_client(author).post(
        url("idea_new", live_workshop), {"phase": phase.pk, "text": "Pelikerho", "client_id": str(uuid.uuid4())}
    )
    idea = Idea.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"#idea-{idea.pk}")


def test_the_same_client_id_stores_the_idea_once(live_workshop, phase, author):
    client = guest_client(author)
    client_id = str(uuid.uuid4())
    data = {"phase": phase.pk, "text": "Pelikerho", "client_id": client_id}
    first = client.post(url("idea_new", live_workshop), data, **JSON)
    again = client.post(url("idea_new", live_workshop), data, **JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Idea.objects.count() == 1
    # Someone else replaying the id gets nothing of it.
    _other, other_client = make_guest(live_workshop)
    stolen = other_client.post(url("idea_new", live_workshop), data, **JSON)
    assert stolen.status_code == 400 and "Pelikerho" not in stolen.content.decode()


def test_too_long_text_is_refused_with_a_clear_message_and_kept(live_workshop, phase, author):
    client = guest_client(author)
    text = "x" * 51
    response = post_idea(client, live_workshop, phase, text)
    assert response.status_code == 400
    assert "51" in response.json()["error"] and "50" in response.json()["error"]
    assert not Idea.objects.exists()
    # Without JavaScript the page comes back with the text in the idea field.
    page = client.post(
        url("idea_new", live_workshop),
        {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"i{phase.pk}"},
    )
    assert page.status_code == 400
    assert f">{text}</textarea>" in page.content.decode()
    assert not Idea.objects.exists()


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_text_is_refused(live_workshop, phase, author, text):
    response = post_idea(guest_client(author), live_workshop, phase, text)
    assert response.status_code == 400 and response.json()["error"]
    assert not Idea.objects.exists()


def test_ideas_go_only_to_the_current_ideas_phase(live_workshop, phase, author):
    viewer = viewer_of(live_workshop, participant=author)
    comment_phase = live_workshop.phases.exclude(kind=Phase.Kind.IDEAS).first()
    with pytest.raises(LiveError):
        send(viewer, comment_phase)
    later = make_ideas_phase(live_workshop, go=False)
    with pytest.raises(LiveError, match="moved on"):
        send(viewer, later)
    other = make_ideas_phase(WorkshopFactory(status=Workshop.Status.LIVE), go=False)
    with pytest.raises(LiveError):
        send(viewer, other)
    response = post_idea(guest_client(author), live_workshop, later)
    assert response.status_code == 400
    assert not Idea.objects.exists()


def test_no_ideas_once_the_workshop_is_closed(live_workshop, phase, author):
    Workshop.objects.filter(pk=live_workshop.pk).update(status=Workshop.Status.CLOSED)
    live_workshop.refresh_from_db()
    with pytest.raises(LiveError):
        send(viewer_of(live_workshop, participant=author), phase)
    assert not Idea.objects.exists()


def test_can_run_only_counts_where_the_phase_offers_it(live_workshop, author, django_capture_on_commit_callbacks):
    phase = make_ideas_phase(live_workshop, offers_to_run=False)
    idea, _created = send(viewer_of(live_workshop, participant=author), phase, can_run=True)
    assert not idea.can_run
    page = guest_client(author).get(url("live", live_workshop)).content.decode()
    assert 'name="can_run"' not in page


def test_strangers_cannot_send_or_moderate(live_workshop, phase, outsider, author):
    idea, _created = send(viewer_of(live_workshop, participant=author), phase)
    stranger = Client()
    stranger.force_login(outsider)
    _other_person, other_guest = make_guest(WorkshopFactory(status=Workshop.Status.LIVE))
    for client in (Client(), stranger, other_guest):
        assert post_idea(client, live_workshop, phase).status_code == 404
        assert client.post(url("idea_hide", live_workshop, idea.pk), {"action": "hide"}).status_code == 404
        assert client.post(url("team_size", live_workshop), {"size": "3"}).status_code == 404
    assert Idea.objects.count() == 1 and Idea.objects.get().hidden_at is None


# --- who sees what ------------------------------------------------------------------------------
def test_public_ideas_reach_everyone(live_workshop, phase, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(viewer_of(live_workshop, participant=author), phase, "Kaikkien idea")
    [event] = events("idea.created")
    assert event.audience == Event.Audience.ALL
    html = event.payload["i18n"]["fi"]["html"]
    assert "Kaikkien idea" in html and "data-mine" not in html and "csrfmiddlewaretoken" not in html
    _other, other_client = make_guest(live_workshop)
    assert "Kaikkien idea" in other_client.get(url("live", live_workshop)).content.decode()


def test_private_ideas_reach_only_the_author_and_the_facilitators(
    live_workshop, author, facilitator, facilitator_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        phase = make_ideas_phase(live_workshop, ideas_public=False)
        send(viewer_of(live_workshop, participant=author), phase, "Oma salainen idea")
    audiences = {(e.audience, e.participant_id) for e in events("idea.created")}
    assert audiences == {(Event.Audience.STAFF, None), (Event.Audience.PERSON, author.pk)}
    other, other_client = make_guest(live_workshop)
    assert "Oma salainen idea" not in other_client.get(url("live", live_workshop)).content.decode()
    caught_up = other_client.get(url("events", live_workshop), {"after": 0}).content.decode()
    assert "Oma salainen idea" not in caught_up
    assert "Oma salainen idea" in guest_client(author).get(url("live", live_workshop)).content.decode()
    assert "Oma salainen idea" in facilitator_client.get(url("control", live_workshop)).content.decode()
    view = ideas_view(viewer_of(live_workshop, participant=other), phase)
    assert view.ideas == [] and view.total_count == 1  # they learn how many, not what


# --- moderation -----------------------------------------------------------------------------------
def test_hiding_takes_an_idea_out_of_sight_and_showing_brings_it_back(
    live_workshop, phase, author, facilitator, facilitator_client, django_capture_on_commit_callbacks
):
    idea, _created = send(viewer_of(live_workshop, participant=author), phase, "Sopimaton")
    with django_capture_on_commit_callbacks(execute=True):
        response = facilitator_client.post(url("idea_hide", live_workshop, idea.pk), {"action": "hide"}, **JSON)
    assert response.status_code == 200
    idea.refresh_from_db()
    assert idea.hidden_at is not None
    [hidden] = events("idea.hidden")
    assert hidden.payload == {"id": idea.pk, "phase": phase.pk, "dom_id": f"idea-{idea.pk}"}
    _other, other_client = make_guest(live_workshop)
    assert "Sopimaton" not in other_client.get(url("live", live_workshop)).content.decode()
    assert "Sopimaton" not in guest_client(author).get(url("live", live_workshop)).content.decode()
    control = facilitator_client.get(url("control", live_workshop)).content.decode()
    assert "Sopimaton" in control and "data-idea-hidden-badge>" in control
    with django_capture_on_commit_callbacks(execute=True):
        facilitator_client.post(url("idea_hide", live_workshop, idea.pk), {"action": "unhide"}, **JSON)
    idea.refresh_from_db()
    assert idea.hidden_at is None
    [shown] = events("idea.shown")
    assert "Sopimaton" in shown.payload["i18n"]["fi"]["html"]
    assert "Sopimaton" in other_client.get(url("live", live_workshop)).content.decode()


def test_a_facilitator_corrects_typos_and_the_idea_says_so(
    live_workshop, phase, author, facilitator_client, django_capture_on_commit_callbacks
):
    idea, _created = send(viewer_of(live_workshop, participant=author), phase, "Lukupirri")
    with django_capture_on_commit_callbacks(execute=True):
        response = facilitator_client.post(url("idea_edit", live_workshop, idea.pk), {"text": "Lukupiiri"}, **JSON)
    assert response.status_code == 200
    idea.refresh_from_db()
    assert idea.text == "Lukupiiri" and idea.moderated_at is not None
    [edited] = events("idea.edited")
    assert "Lukupiiri" in edited.payload["i18n"]["en"]["html"]
    assert "Edited by moderator" in edited.payload["i18n"]["en"]["html"]
    page = guest_client(author).get(url("live", live_workshop)).content.decode()
    assert "Lukupiiri" in page and "Lukupirri" not in page
    too_long = facilitator_client.post(url("idea_edit", live_workshop, idea.pk), {"text": "y" * 51}, **JSON)
    assert too_long.status_code == 400 and "50" in too_long.json()["error"]
    idea.refresh_from_db()
    assert idea.text == "Lukupiiri"


def test_only_facilitators_moderate(live_workshop, phase, author, contact_person):
    idea, _created = send(viewer_of(live_workshop, participant=author), phase, "Koskematon")
    other = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop))
    for action in (
        lambda: services.idea_hide(viewer=other, idea_id=idea.pk),
        lambda: services.idea_moderate(viewer=other, idea_id=idea.pk, text="Muutettu"),
        lambda: services.idea_merge(viewer=other, idea_id=idea.pk, into_id=idea.pk),
    ):
        with pytest.raises(PermissionDenied):
            action()
    contact = Client()
    contact.force_login(contact_person)
    for client in (guest_client(author), contact):
        assert client.post(url("idea_hide", live_workshop, idea.pk), {"action": "hide"}, **JSON).status_code == 403
        assert client.post(url("idea_edit", live_workshop, idea.pk), {"text": "Muutettu"}, **JSON).status_code == 403
        merge = {"idea": idea.pk, "into": idea.pk, "confirm": "1"}
        assert client.post(url("idea_merge", live_workshop), merge, **JSON).status_code == 403
    idea.refresh_from_db()
    assert idea.text == "Koskematon" and idea.hidden_at is None and idea.moderated_at is None


def test_moderation_pages_do_not_offer_the_tools_to_participants(live_workshop, phase, author):
    send(viewer_of(live_workshop, participant=author), phase, "Idea")
    page = guest_client(author).get(url("live", live_workshop)).content.decode()
    assert "data-idea-moderate" not in page and "data-idea-merge-box" not in page
    assert url("idea_merge", live_workshop) not in page


# --- merging ----------------------------------------------------------------------------------------
@contextmanager
def another_ideas_phase(workshop):
    """A second idea collection, current for the block; then back to the phase before."""
    before = LiveState.objects.get(pk=workshop.pk).current_phase
    yield make_ideas_phase(workshop)
    services.phase_go(workshop=workshop, phase=before)


@pytest.fixture
def three(live_workshop, phase, author):
    viewer = viewer_of(live_workshop, participant=author)
    ideas = [send(viewer, phase, text)[0] for text in ("Kahvila", "Kahvio", "Lukunurkka")]
    for idea, (shown, wins, losses, skips) in zip(ideas, [(5, 2, 1, 1), (3, 1, 1, 0), (7, 3, 2, 1)], strict=True):
        Idea.objects.filter(pk=idea.pk).update(shown=shown, wins=wins, losses=losses, skips=skips)
    return ideas


def test_merging_moves_the_counters_and_flattens_chains(
    live_workshop, phase, facilitator, three, django_capture_on_commit_callbacks
):
    kahvila, kahvio, nurkka = three
    viewer = staff(live_workshop, facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        services.idea_merge(viewer=viewer, idea_id=kahvio.pk, into_id=kahvila.pk)
        survivor = services.idea_merge(viewer=viewer, idea_id=kahvila.pk, into_id=nurkka.pk)
    assert survivor.pk == nurkka.pk
    rows = {idea.pk: idea for idea in Idea.objects.all()}
    assert rows[kahvio.pk].merged_into_id == nurkka.pk  # re-pointed: no chain through Kahvila
    assert rows[kahvila.pk].merged_into_id == nurkka.pk
    survivor = rows[nurkka.pk]
    assert (survivor.shown, survivor.wins, survivor.losses, survivor.skips) == (15, 6, 4, 2)
    assert (rows[kahvila.pk].shown, rows[kahvio.pk].shown) == (0, 0)  # moved, never counted twice
    assert sum(idea.shown for idea in rows.values()) == 15
    merged = events("idea.merged")
    assert [e.payload["id"] for e in merged] == [kahvio.pk, kahvila.pk]
    assert merged[-1].payload["into"] == nurkka.pk and merged[-1].payload["into_dom_id"] == f"idea-{nurkka.pk}"
    assert "2 similar ideas merged into this" in merged[-1].payload["i18n"]["en"]["html"]


def test_what_cannot_be_merged(live_workshop, phase, facilitator, three, author):
    kahvila, kahvio, nurkka = three
    viewer = staff(live_workshop, facilitator)
    with pytest.raises(LiveError, match="itself"):
        services.idea_merge(viewer=viewer, idea_id=kahvila.pk, into_id=kahvila.pk)
    services.idea_hide(viewer=viewer, idea_id=nurkka.pk)
    with pytest.raises(LiveError, match="hidden"):
        services.idea_merge(viewer=viewer, idea_id=kahvila.pk, into_id=nurkka.pk)
    services.idea_merge(viewer=viewer, idea_id=kahvio.pk, into_id=kahvila.pk)
    with pytest.raises(LiveError, match="merged"):
        services.idea_merge(viewer=viewer, idea_id=kahvila.pk, into_id=kahvio.pk)
    with pytest.raises(LiveError, match="already"):
        services.idea_merge(viewer=viewer, idea_id=kahvio.pk, into_id=kahvila.pk)
    with another_ideas_phase(live_workshop) as elsewhere:
        other, _created = send(viewer_of(live_workshop, participant=author), elsewhere, "Muualla")
    with pytest.raises(LiveError, match="same idea collection"):
        services.idea_merge(viewer=viewer, idea_id=other.pk, into_id=kahvila.pk)
    foreign_workshop = WorkshopFactory(status=Workshop.Status.LIVE)
    foreign_phase = make_ideas_phase(foreign_workshop)
    foreign, _created = send(
        viewer_of(foreign_workshop, participant=ParticipantFactory(workshop=foreign_workshop)), foreign_phase
    )
    with pytest.raises(LiveError, match="no longer there"):
        services.idea_merge(viewer=viewer, idea_id=foreign.pk, into_id=kahvila.pk)
    assert Idea.objects.get(pk=kahvila.pk).merged_into_id is None
    assert Idea.objects.get(pk=foreign.pk).merged_into_id is None


def test_merging_over_http_asks_for_confirmation(live_workshop, phase, three, author, facilitator_client):
    kahvila, kahvio, _nurkka = three
    unconfirmed = facilitator_client.post(
        url("idea_merge", live_workshop), {"idea": kahvio.pk, "into": kahvila.pk}, **JSON
    )
    assert unconfirmed.status_code == 400 and "undone" in unconfirmed.json()["error"]
    assert Idea.objects.get(pk=kahvio.pk).merged_into_id is None
    control = facilitator_client.get(url("control", live_workshop)).content.decode()
    assert 'name="confirm"' in control and "cannot be undone" in control
    confirmed = facilitator_client.post(
        url("idea_merge_one", live_workshop, kahvio.pk), {"into": kahvila.pk, "confirm": "1"}, **JSON
    )
    assert confirmed.status_code == 200 and confirmed.json()["merged"] == kahvio.pk
    assert confirmed.json()["id"] == kahvila.pk
    assert Idea.objects.get(pk=kahvio.pk).merged_into_id == kahvila.pk
    plain = facilitator_client.post(url("idea_merge", live_workshop), {"idea": kahvila.pk, "into": kahvila.pk})
    assert plain.status_code == 302 and plain.url.startswith(url("control", live_workshop))
    # Participants no longer see the duplicate; the facilitators see where it went.
    _other, other_client = make_guest(live_workshop)
    page = other_client.get(url("live", live_workshop)).content.decode()
    assert "Kahvio" not in page and "1 similar idea merged into this" in page
    control = facilitator_client.get(url("control", live_workshop)).content.decode()
    assert f"Merged into idea {kahvila.pk}" in control
    # The author still finds their own idea, marked as combined.
    assert "combined this with a similar idea" in guest_client(author).get(url("live", live_workshop)).content.decode()


# --- team size --------------------------------------------------------------------------------------
def test_a_team_at_one_screen_says_how_many_they_are(live_workshop, phase, author, facilitator_client):
    client = guest_client(author)
    response = client.post(url("team_size", live_workshop), {"size": "4"}, **JSON)
    assert response.status_code == 200 and response.json()["size"] == 4
    author.refresh_from_db()
    assert author.team_size == 4
    send(viewer_of(live_workshop, participant=author), phase, "Tiimin idea")
    page = client.get(url("live", live_workshop)).content.decode()
    assert "(team of 4)" in page and 'value="4"' in page
    for bad in ("0", "51", "neljä", ""):
        refused = client.post(url("team_size", live_workshop), {"size": bad}, **JSON)
        assert refused.status_code == 400 and refused.json()["error"]
    author.refresh_from_db()
    assert author.team_size == 4
    plain = client.post(url("team_size", live_workshop), {"size": "2"})
    assert plain.status_code == 302
    # Facilitators without a participant row have no screen to size.
    assert facilitator_client.post(url("team_size", live_workshop), {"size": "3"}, **JSON).status_code == 400


# --- anonymity --------------------------------------------------------------------------------------
@pytest.mark.parametrize("public", [True, False])
def test_an_anonymous_idea_never_shows_its_author(
    live_workshop, facilitator, facilitator_client, public, django_capture_on_commit_callbacks
):
    canary = ParticipantFactory(pk=CANARY_ID, workshop=live_workshop, name="Kanarialintu Kaivosmies", team_size=3)
    client = guest_client(canary)
    with django_capture_on_commit_callbacks(execute=True):
        phase = make_ideas_phase(live_workshop, ideas_public=public)
        created = post_idea(client, live_workshop, phase, "Salainen idea", anonymous="on")
        idea_id = created.json()["id"]
        other, _created = send(viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop)), phase)
        viewer = staff(live_workshop, facilitator)
        services.idea_moderate(viewer=viewer, idea_id=idea_id, text="Salainen idea!")
        services.idea_hide(viewer=viewer, idea_id=idea_id)
        services.idea_unhide(viewer=viewer, idea_id=idea_id)
        services.idea_merge(viewer=viewer, idea_id=other.pk, into_id=idea_id)
    seen = [
        created.content.decode(),
        facilitator_client.get(url("control", live_workshop)).content.decode(),
        facilitator_client.get(url("events", live_workshop), {"after": 0}).content.decode(),
        guest_client(other.author_participant).get(url("live", live_workshop)).content.decode(),
        json.dumps([e.payload for e in Event.objects.filter(kind__startswith="idea.")]),
    ]
    assert Event.objects.filter(kind__startswith="idea.").count() >= 5
    for where, text in enumerate(seen):
        leaks = ["Kanarialintu", f"p{CANARY_ID}", f'"{CANARY_ID}"', f"={CANARY_ID}", "team of 3"]
        assert [leak for leak in leaks if leak in text] == [], where
    assert "Salainen idea!" in seen[1]


# --- query counts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("staff_viewer", [False, True])
def test_the_ideas_view_reads_a_fixed_number_of_rows(
    live_workshop, phase, author, facilitator, staff_viewer, django_assert_num_queries
):
    people = [ParticipantFactory(workshop=live_workshop) for _ in range(5)]
    viewer = staff(live_workshop, facilitator) if staff_viewer else viewer_of(live_workshop, participant=author)
    expected = 4 if staff_viewer else 3
    send(viewer_of(live_workshop, participant=people[0]), phase, "Ensimmäinen")
    with django_assert_num_queries(expected):
        view = ideas_view(viewer, phase)
    assert len(view.ideas) == 1
    for n in range(49):
        send(viewer_of(live_workshop, participant=people[n % 5]), phase, f"Idea {n}", anonymous=n % 2 == 0)
    first = Idea.objects.first()
    services.idea_merge(viewer=staff(live_workshop, facilitator), idea_id=first.pk, into_id=Idea.objects.last().pk)
    with django_assert_num_queries(expected):
        view = ideas_view(viewer, phase)
    assert len(view.ideas) == (50 if staff_viewer else 49)
    assert view.total_count == 49 and view.question == QUESTION


@pytest.mark.parametrize("as_staff", [False, True])
def test_the_live_page_reads_as_much_for_50_ideas_as_for_1(live_workshop, phase, author, facilitator_client, as_staff):
    people = [ParticipantFactory(workshop=live_workshop, team_size=2) for _ in range(3)]
    client = facilitator_client if as_staff else guest_client(author)
    page_url = url("control" if as_staff else "live", live_workshop)

    def queries() -> int:
        client.get(page_url)  # the same session state both times
        with CaptureQueriesContext(connection) as captured:
            page = client.get(page_url)
        assert page.status_code == 200
        return len(captured)

    send(viewer_of(live_workshop, participant=people[0]), phase, "Idea 0")
    one = queries()
    for n in range(1, 50):
        send(viewer_of(live_workshop, participant=people[n % 3]), phase, f"Idea {n}", anonymous=n % 2 == 0)
    assert queries() == one
    assert client.get(page_url).content.decode().count('class="idea"') + 0 >= 50


def test_join_code_guests_can_send_ideas(live_workshop, phase):
    code = services.join_code_set(workshop=live_workshop, enabled=True).join_code
    client = Client()
    joined = client.post(reverse("facilitation:join_code"), {"code": code, "name": "Koodivieras"})
    assert joined.status_code == 302
    assert post_idea(client, live_workshop, phase, "Koodin kautta").status_code == 201
    assert Idea.objects.get().author_participant == Participant.objects.get(name="Koodivieras")


def test_catching_up_leaves_out_ideas_hidden_or_merged_since(
    live_workshop, phase, author, facilitator, django_capture_on_commit_callbacks
):
    from facilitation.selectors import events_after

    hidden, _ = send(viewer_of(live_workshop, participant=author), phase, "Piilotettava")
    merged, _ = send(viewer_of(live_workshop, participant=author), phase, "Kaksoiskappale")
    survivor, _ = send(viewer_of(live_workshop, participant=author), phase, "Säilyvä")
    services.idea_hide(viewer=staff(live_workshop, facilitator), idea_id=hidden.pk)
    services.idea_merge(viewer=staff(live_workshop, facilitator), idea_id=merged.pk, into_id=survivor.pk)
    other, _client = make_guest(live_workshop)

    def created_ids(viewer):
        found, _more = events_after(viewer, 0)
        return {event["data"]["id"] for event in found if event["kind"] == "idea.created"}

    assert created_ids(viewer_of(live_workshop, participant=other)) == {survivor.pk}
    assert created_ids(staff(live_workshop, facilitator)) == {hidden.pk, merged.pk, survivor.pk}
