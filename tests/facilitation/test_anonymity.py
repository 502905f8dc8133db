"""The anonymity promise, tested with a canary: whose name, e-mail and id must not appear anywhere
another person, the facilitators, the event log or the logs can show, and whose link to their
anonymous comments is gone from the database once the workshop closes."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from facilitation.models import Comment, Event, LiveState, Phase
from tests.facilitation.conftest import guest_client, make_guest
from tests.workshops.factories import ParticipantFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
CANARY_ID = 987654


def url(name, workshop, *args):
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


@pytest.fixture
def canary(live_workshop):
    return ParticipantFactory(
        pk=CANARY_ID, workshop=live_workshop, name="Kanarialintu Kaivosmies", email="kanarialintu@example.fi"
    )


def leaks(text: str) -> list[str]:
    found = [marker for marker in ("Kanarialintu", "kanarialintu@example.fi", str(CANARY_ID)) if marker in text]
    # The id could also hide in a group name or a data attribute.
    found += [marker for marker in (f"p{CANARY_ID}", f'"{CANARY_ID}"') if marker in text]
    return found


def test_nobody_can_see_who_wrote_an_anonymous_comment(
    live_workshop, canary, facilitator_client, contact_person, caplog
):
    caplog.set_level(logging.DEBUG)
    author = guest_client(canary)
    phase = LiveState.objects.get(pk=live_workshop.pk).current_phase
    first = author.post(
        url("comment_new", live_workshop),
        {"phase": phase.pk, "text": "Salainen havainto", "anonymous": "on", "client_id": str(uuid.uuid4())},
        **JSON,
    ).json()
    reply = author.post(
        url("comment_new", live_workshop),
        {
            "phase": phase.pk,
            "text": "Salainen vastaus",
            "anonymous": "on",
            "parent": first["id"],
            "client_id": str(uuid.uuid4()),
        },
        **JSON,
    ).json()
    author.post(url("comment_edit", live_workshop, first["id"]), {"text": "Salainen havainto, korjattu"}, **JSON)
    author.post(url("comment_react", live_workshop, first["id"]), {"kind": "agree"}, **JSON)
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    author.post(
        url("comment_new", live_workshop),
        {
            "phase": reflection.pk,
            "prompt": reflection.prompts.first().pk,
            "text": "Salainen pohdinta",
            "anonymous": "on",
            "client_id": str(uuid.uuid4()),
        },
        **JSON,
    )
    # The author still recognises and manages their own comment.
    own_page = author.get(url("live", live_workshop)).content.decode()
    assert f'id="comment-{first["id"]}" data-comment="{first["id"]}" data-case="{phase.case_id}" data-mine' in own_page

    _other, other = make_guest(live_workshop, name="Toinen Osallistuja")
    contact = Client()
    contact.force_login(contact_person)
    looked_at = {}
    for who, client in (("participant", other), ("facilitator", facilitator_client), ("contact person", contact)):
        looked_at[f"{who}: live page"] = client.get(url("live", live_workshop)).content.decode()
        looked_at[f"{who}: panel"] = client.get(url("panel", live_workshop)).content.decode()
        looked_at[f"{who}: threads"] = client.get(url("threads", live_workshop, phase.pk)).content.decode()
        looked_at[f"{who}: events"] = client.get(url("events", live_workshop)).content.decode()
    looked_at["facilitator: controls"] = facilitator_client.get(url("control", live_workshop)).content.decode()
    looked_at["event log"] = json.dumps(list(Event.objects.values("kind", "payload", "audience")), ensure_ascii=False)
    looked_at["logs"] = caplog.text + "\n".join(
        f"{record.getMessage()} {getattr(record, 'fields', '')}" for record in caplog.records
    )

    assert "Salainen havainto, korjattu" in looked_at["participant: live page"]
    assert "Salainen vastaus" in looked_at["participant: live page"]
    for place, text in looked_at.items():
        assert leaks(text) == [], f"the canary shows in {place}"
    assert reply["id"] and not Event.objects.filter(participant=canary).exists()


def test_closing_removes_the_link_between_anonymous_comments_and_their_author(
    live_workshop, canary, facilitator_client
):
    author = guest_client(canary)
    phase = LiveState.objects.get(pk=live_workshop.pk).current_phase
    for text, anonymous in (("Nimetön", "on"), ("Nimellä", "")):
        author.post(
            url("comment_new", live_workshop),
            {"phase": phase.pk, "text": text, "anonymous": anonymous, "client_id": str(uuid.uuid4())},
            **JSON,
        )
    assert Comment.objects.filter(author_participant=canary).count() == 2
    facilitator_client.post(url("control_action", live_workshop, "close"))
    anonymous = Comment.objects.get(text="Nimetön")
    assert anonymous.author_participant_id is None and anonymous.author_user_id is None
    assert Comment.objects.get(text="Nimellä").author_participant == canary
    assert not Event.objects.filter(workshop=live_workshop).exists()
    # Nothing left in the database ties the canary to the anonymous text.
    assert list(Comment.objects.filter(author_participant=canary).values_list("text", flat=True)) == ["Nimellä"]


def test_the_promise_is_written_where_people_choose_anonymity(live_workshop, canary):
    page = guest_client(canary).get(url("live", live_workshop)).content.decode()
    assert 'aria-describedby="anonymous-help"' in page
    assert "kun työpaja päättyy, yhteys sinun ja" in page.lower()
