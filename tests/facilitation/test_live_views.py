"""The live pages over HTTP: who sees what, writes without duplicates, and fixed query counts."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilitation import services
from facilitation.models import Comment, Event, LiveState, Phase
from tests.facilitation.conftest import guest_client, make_guest, viewer_of
from tests.facilitation.factories import CommentFactory
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


def current_phase(workshop) -> Phase:
    return LiveState.objects.get(pk=workshop.pk).current_phase


def post_comment(client, workshop, text="Hyvä havainto", **fields):
    data = {"phase": current_phase(workshop).pk, "text": text, "client_id": str(uuid.uuid4()), "thread": "t"}
    data.update(fields)
    return client.post(url("comment_new", workshop), data, **JSON)


# --- access -------------------------------------------------------------------------------
def test_participant_sees_the_live_page_and_the_lobby_sends_them_there(live_workshop):
    _person, client = make_guest(live_workshop, name="Aino Asukas")
    lobby = client.get(reverse("workshops:lobby", args=[live_workshop.pk]))
    assert lobby.status_code == 302 and lobby.url == url("live", live_workshop)
    page = client.get(url("live", live_workshop))
    html = page.content.decode()
    assert page.status_code == 200
    assert current_phase(live_workshop).title in html
    assert f'data-ws-path="/ws/w/{live_workshop.pk}/"' in html
    assert "Anonymous means anonymous" in html or "Anonyymi" in html


def test_live_page_waits_in_the_lobby_until_the_workshop_starts(workshop, participant):
    client = guest_client(participant.participant)
    response = client.get(url("live", workshop))
    assert response.status_code == 302 and response.url == reverse("workshops:lobby", args=[workshop.pk])


@pytest.mark.parametrize("name", ["live", "panel", "events"])
def test_strangers_get_404(live_workshop, outsider, name):
    assert Client().get(url(name, live_workshop)).status_code == 404
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.get(url(name, live_workshop)).status_code == 404
    other_workshop = WorkshopFactory(status=Workshop.Status.LIVE)
    _person, other_guest = make_guest(other_workshop)
    assert other_guest.get(url(name, live_workshop)).status_code == 404


def test_control_is_for_facilitators(live_workshop, facilitator_client, contact_person):
    assert facilitator_client.get(url("control", live_workshop)).status_code == 200
    contact = Client()
    contact.force_login(contact_person)
    assert contact.get(url("control", live_workshop)).status_code == 403
    assert contact.post(url("control_action", live_workshop, "next")).status_code == 403
    _person, guest = make_guest(live_workshop)
    assert guest.get(url("control", live_workshop)).status_code == 302  # to log in
    assert Client().post(url("control_action", live_workshop, "next")).status_code == 302


def test_threads_of_another_workshops_phase_are_404(live_workshop):
    _person, client = make_guest(live_workshop)
    other_phase = WorkshopFactory().phases.create(title="x", kind=Phase.Kind.DISCUSSION)
    assert client.get(url("threads", live_workshop, other_phase.pk)).status_code == 404


# --- writing ------------------------------------------------------------------------------
def test_posting_twice_with_the_same_client_id_stores_once(live_workshop):
    _person, client = make_guest(live_workshop, name="Aino Asukas")
    client_id = str(uuid.uuid4())
    first = post_comment(client, live_workshop, client_id=client_id)
    again = post_comment(client, live_workshop, client_id=client_id)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Comment.objects.count() == 1
    assert "Hyvä havainto" in first.json()["html"] and "Aino Asukas" in first.json()["html"]


def test_the_authors_answer_carries_the_pushed_html_in_their_language(
    live_workshop, django_capture_on_commit_callbacks
):
    _person, client = make_guest(live_workshop, name="Aino Asukas")
    client.cookies["kehittamo_language"] = "sv"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_comment(client, live_workshop, text="Bra iakttagelse", anonymous="on")
    assert response.status_code == 201
    event = Event.objects.get(kind="comment.created")
    body = response.json()
    # rendered once per language for the push, not once more for the author; the page marks it as theirs
    assert body["html"] == event.payload["i18n"]["sv"]["html"]
    assert {**event.payload, "html": body["html"]} == {"i18n": event.payload["i18n"], **body}
    assert "Anonym" in body["html"] and "Bra iakttagelse" in body["html"] and "Aino" not in body["html"]
    assert "csrfmiddlewaretoken" not in body["html"]


def test_bad_input_answers_in_the_users_language_and_keeps_the_text(live_workshop):
    _person, client = make_guest(live_workshop)
    response = post_comment(client, live_workshop, text="   ")
    assert response.status_code == 400 and response.json()["error"] == "Kirjoita ensin jotain."
    response = post_comment(client, live_workshop, client_id="not-a-uuid")
    assert response.status_code == 400
    response = post_comment(client, live_workshop, phase="abc")
    assert response.status_code == 400
    # Without JavaScript the page comes back with the text still in its box.
    phase = current_phase(live_workshop)
    data = {"phase": phase.pk, "text": "x" * 4001, "thread": f"p{phase.pk}-q0"}
    plain = client.post(url("comment_new", live_workshop), data)
    assert plain.status_code == 400
    assert "x" * 4001 in plain.content.decode()
    assert not Comment.objects.exists()


def test_form_post_without_javascript_saves_and_redirects(live_workshop):
    _person, client = make_guest(live_workshop)
    phase = current_phase(live_workshop)
    response = client.post(url("comment_new", live_workshop), {"phase": phase.pk, "text": "Ilman skriptiä"})
    assert response.status_code == 302
    assert Comment.objects.get().text == "Ilman skriptiä"


def test_edit_delete_react_and_hide_over_http(live_workshop, facilitator_client):
    _author, client = make_guest(live_workshop)
    comment_id = post_comment(client, live_workshop).json()["id"]
    _reader, reader = make_guest(live_workshop)
    assert reader.post(url("comment_edit", live_workshop, comment_id), {"text": "Ei sinun"}, **JSON).status_code == 400
    edited = client.post(url("comment_edit", live_workshop, comment_id), {"text": "Korjattu"}, **JSON)
    assert edited.status_code == 200 and "Korjattu" in edited.json()["html"]
    reacted = reader.post(url("comment_react", live_workshop, comment_id), {"kind": "agree"}, **JSON)
    assert reacted.json() == {"id": comment_id, "counts": {"agree": 1, "good_point": 0}, "mine": "agree"}
    assert reader.post(url("comment_hide", live_workshop, comment_id), **JSON).status_code == 400
    assert facilitator_client.post(url("comment_hide", live_workshop, comment_id), **JSON).status_code == 200
    assert Comment.objects.get().hidden_at is not None
    assert "Korjattu" not in reader.get(url("live", live_workshop)).content.decode()
    assert "Korjattu" in facilitator_client.get(url("control", live_workshop)).content.decode()
    deleted = client.post(url("comment_delete", live_workshop, comment_id), **JSON)
    assert deleted.status_code == 200 and Comment.objects.get().deleted_at is not None


def test_get_is_not_allowed_on_writes(live_workshop):
    _person, client = make_guest(live_workshop)
    assert client.get(url("comment_new", live_workshop)).status_code == 405
    assert client.get(url("comment_react", live_workshop, 1)).status_code == 405


# --- events -------------------------------------------------------------------------------
def test_events_after_an_id_leave_out_hidden_content_and_other_peoples_private_answers(live_workshop):
    _author, author_client = make_guest(live_workshop)
    _reader, reader = make_guest(live_workshop)
    start = max(e["id"] for e in reader.get(url("events", live_workshop)).json()["events"])
    visible_id = post_comment(author_client, live_workshop, text="Näkyvä").json()["id"]
    hidden_id = post_comment(author_client, live_workshop, text="Asiaton").json()["id"]
    services.comment_hide(viewer=viewer_of(live_workshop, staff=True), comment_id=hidden_id)
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    Phase.objects.filter(pk=reflection.pk).update(private_first=True)
    post_comment(
        author_client, live_workshop, text="Yksityinen", phase=reflection.pk, prompt=reflection.prompts.first().pk
    )
    body = reader.get(url("events", live_workshop) + f"?after={start}").json()
    text = str(body)
    assert "Näkyvä" in text and "Asiaton" not in text and "Yksityinen" not in text
    assert [e["data"]["id"] for e in body["events"] if e["kind"] == "comment.hidden"] == [hidden_id]
    assert all(e["id"] > start for e in body["events"])
    own = author_client.get(url("events", live_workshop) + f"?after={start}").json()
    assert "Yksityinen" in str(own)
    assert visible_id in [e["data"].get("id") for e in own["events"]]


def test_events_come_in_the_viewers_language(live_workshop):
    _author, author_client = make_guest(live_workshop)
    post_comment(author_client, live_workshop, anonymous="on")
    _reader, reader = make_guest(live_workshop)
    reader.cookies["kehittamo_language"] = "sv"
    created = [e for e in reader.get(url("events", live_workshop)).json()["events"] if e["kind"] == "comment.created"]
    assert "Anonym" in created[0]["data"]["html"] and "Nimetön" not in created[0]["data"]["html"]
    assert "i18n" not in created[0]["data"]
    # The page's template of a comment, for the tools around a pushed one, is in the viewer's language too.
    page = reader.get(url("live", live_workshop)).content.decode()
    template = page[page.index('<template id="comment-template"') :]
    assert "Håller med" in template[: template.index("</template>")]


def test_polling_counts_as_being_present(live_workshop, facilitator_client):
    _person, client = make_guest(live_workshop)
    client.get(url("events", live_workshop) + "?poll=1")
    stats = facilitator_client.get(url("events", live_workshop)).json()["stats"]
    assert stats["connected"] == 1


# --- controls -----------------------------------------------------------------------------
def test_facilitator_runs_the_workshop_from_the_controls(workshop, facilitator_client):
    assert facilitator_client.post(url("control_action", workshop, "start")).status_code == 302
    workshop.refresh_from_db()
    assert workshop.status == Workshop.Status.LIVE
    first = current_phase(workshop)
    facilitator_client.post(url("control_action", workshop, "next"))
    assert current_phase(workshop).position == first.position + 1
    facilitator_client.post(url("control_action", workshop, "timer-start"), {"minutes": "3"})
    assert 170 < LiveState.objects.get(pk=workshop.pk).seconds_left() <= 180
    response = facilitator_client.post(url("control_action", workshop, "timer-start"), {"minutes": "kolme"})
    assert response.status_code == 302  # refused with a message, timer unchanged
    facilitator_client.post(url("control_action", workshop, "broadcast"), {"text": "Tauko!"})
    assert LiveState.objects.get(pk=workshop.pk).broadcast_text == "Tauko!"
    last = workshop.phases.order_by("-position").first()
    facilitator_client.post(url("control_action", workshop, "goto"), {"phase": last.pk})
    assert current_phase(workshop) == last
    bad = facilitator_client.post(url("control_action", workshop, "goto"), {"phase": "999999"}, **JSON)
    assert bad.status_code == 400 and bad.json()["error"]
    assert facilitator_client.post(url("control_action", workshop, "nonsense")).status_code == 404
    confirm = facilitator_client.get(url("control_action", workshop, "close"))
    assert confirm.status_code == 200
    assert f'action="{url("control_action", workshop, "close")}"' in confirm.content.decode()
    assert facilitator_client.get(url("control_action", workshop, "next")).status_code == 405
    facilitator_client.post(url("control_action", workshop, "close"))
    workshop.refresh_from_db()
    assert workshop.status == Workshop.Status.CLOSED


# --- query counts ---------------------------------------------------------------------------
def _queries(client, path) -> int:
    cache.clear()  # a plain participant's panel comes from a shared copy: count its rendering, not the copy
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def _fill(workshop, phase, count, authors):
    for index in range(count):
        top = CommentFactory(phase=phase, author_participant=authors[index % len(authors)], text=f"Kommentti {index}")
        if index % 3 == 0:
            CommentFactory(phase=phase, parent=top, author_participant=authors[(index + 1) % len(authors)])


def test_live_and_control_pages_cost_the_same_queries_for_1_and_200_comments(live_workshop, facilitator_client):
    phase = current_phase(live_workshop)
    _viewer, client = make_guest(live_workshop)
    authors = [ParticipantFactory(workshop=live_workshop) for _ in range(5)]
    _fill(live_workshop, phase, 1, authors)
    small = (_queries(client, url("live", live_workshop)), _queries(facilitator_client, url("control", live_workshop)))
    _fill(live_workshop, phase, 199, authors)
    assert Comment.objects.filter(phase=phase, parent__isnull=True).count() == 200
    large = (_queries(client, url("live", live_workshop)), _queries(facilitator_client, url("control", live_workshop)))
    assert small == large


def test_posting_a_comment_costs_a_fixed_small_number_of_queries(live_workshop):
    phase = current_phase(live_workshop)
    _person, client = make_guest(live_workshop)
    post_comment(client, live_workshop)  # warm the session
    with CaptureQueriesContext(connection) as first:
        assert post_comment(client, live_workshop).status_code == 201
    _fill(live_workshop, phase, 100, [ParticipantFactory(workshop=live_workshop)])
    with CaptureQueriesContext(connection) as later:
        assert post_comment(client, live_workshop).status_code == 201
    assert len(first.captured_queries) == len(later.captured_queries)
    assert len(later.captured_queries) <= 20, [q["sql"] for q in later.captured_queries]


def test_presentation_thread_shows_case_and_meeting_link(live_workshop):
    case = current_phase(live_workshop).case
    Workshop.objects.filter(pk=live_workshop.pk).update(meeting_url="https://meet.example.fi/abc")
    _person, client = make_guest(live_workshop)
    html = client.get(url("live", live_workshop)).content.decode()
    assert case.title in html and "https://meet.example.fi/abc" in html


def test_after_closing_the_live_page_leads_to_a_lobby_that_says_it_has_ended(live_workshop, facilitator_client):
    _person, client = make_guest(live_workshop)
    facilitator_client.post(url("control_action", live_workshop, "close"))
    response = client.get(url("live", live_workshop), follow=True)
    assert response.redirect_chain[-1][0] == reverse("workshops:lobby", args=[live_workshop.pk])
    assert "Työpaja on päättynyt." in response.content.decode()
    assert client.get(url("events", live_workshop)).json()["status"] == Workshop.Status.CLOSED
