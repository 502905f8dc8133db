"""Hiding a flood at once: the service, who may use the page, the confirmation step and the one live push."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from facilitation import services
from facilitation.models import Comment, Event, Phase
from tests.accounts.factories import ContactPersonFactory
from tests.facilitation.conftest import comment_as, guest_client, make_guest, viewer_of
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db


def url(name, workshop):
    return reverse(f"facilitation:{name}", args=[workshop.pk])


@pytest.fixture
def flood(live_workshop):
    spammer = ParticipantFactory(workshop=live_workshop, name="Sami Spämmi")
    honest = ParticipantFactory(workshop=live_workshop, name="Aino Asukas")
    spam = [comment_as(live_workshop, spammer, f"Mainos {n}") for n in range(12)]
    kept = comment_as(live_workshop, honest, "Hyvä havainto")
    return spammer, spam, kept


def test_the_service_hides_many_with_one_event(live_workshop, facilitator, flood):
    _spammer, spam, kept = flood
    before = Event.objects.count()
    staff = viewer_of(live_workshop, user=facilitator, staff=True)
    hidden = services.items_hide(viewer=staff, comment_ids=[c.pk for c in spam], idea_ids=[])
    assert hidden.count == 12
    assert Comment.objects.filter(hidden_at__isnull=False).count() == 12
    assert Comment.objects.get(pk=kept.pk).hidden_at is None
    events = list(Event.objects.order_by("id")[before:])
    assert [event.kind for event in events] == ["items.hidden"]
    assert events[0].payload == {"comments": sorted(c.pk for c in spam), "ideas": []}
    # Again: nothing more to hide, no event.
    assert services.items_hide(viewer=staff, comment_ids=[c.pk for c in spam], idea_ids=[]).count == 0
    assert Event.objects.count() == before + 1


def test_foreign_ids_and_other_cases_are_left_alone(live_workshop, facilitator, flood, organisation):
    _spammer, spam, kept = flood
    other = WorkshopFactory(organisation=organisation)
    staff = viewer_of(other, user=facilitator, staff=True)
    assert services.items_hide(viewer=staff, comment_ids=[c.pk for c in spam], idea_ids=[]).count == 0
    # A presenter hides only the comments on their own case.
    case = live_workshop.cases.order_by("position").first()
    presenter = viewer_of(live_workshop, participant=spam[0].author_participant, presented={case.pk + 1000})
    assert services.items_hide(viewer=presenter, comment_ids=[kept.pk], idea_ids=[]).count == 0
    presenter = viewer_of(live_workshop, participant=spam[0].author_participant, presented={kept.case_id})
    assert services.items_hide(viewer=presenter, comment_ids=[kept.pk], idea_ids=[]).count == 1


def test_ideas_are_hidden_by_facilitators_only(live_workshop, facilitator):
    phase = Phase.objects.create(workshop=live_workshop, position=60, kind=Phase.Kind.IDEAS, title="Ideat")
    ideas = [IdeaFactory(phase=phase, text=f"I{n}") for n in range(3)]
    presenter = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop), presented={1})
    assert services.items_hide(viewer=presenter, comment_ids=[], idea_ids=[i.pk for i in ideas]).count == 0
    staff = viewer_of(live_workshop, user=facilitator, staff=True)
    hidden = services.items_hide(viewer=staff, comment_ids=[], idea_ids=[i.pk for i in ideas])
    assert hidden.idea_ids == sorted(i.pk for i in ideas)
    event = Event.objects.filter(kind="items.hidden").get()
    assert {idea["dom_id"] for idea in event.payload["ideas"]} == {f"idea-{i.pk}" for i in ideas}


class TestPage:
    def test_select_all_from_one_guest_then_confirm_then_hidden(self, live_workshop, facilitator_client, flood):
        spammer, spam, kept = flood
        page = facilitator_client.get(url("moderation", live_workshop), {"author": f"p{spammer.pk}"})
        assert page.status_code == 200
        html = page.content.decode()
        for comment in spam:
            assert f'value="{comment.pk}" id="comment-{comment.pk}" checked' in html
        assert f'value="{kept.pk}" id="comment-{kept.pk}">' in html  # not ticked
        data = {"comment": [c.pk for c in spam]}
        ask = facilitator_client.post(url("hide_many", live_workshop), data)
        assert ask.status_code == 200 and "12" in ask.content.decode()
        assert not Comment.objects.filter(hidden_at__isnull=False).exists()  # asked first, nothing hidden yet
        done = facilitator_client.post(url("hide_many", live_workshop), {**data, "confirm": "yes"})
        assert done.status_code == 302
        assert Comment.objects.filter(hidden_at__isnull=False).count() == 12
        assert Comment.objects.get(pk=kept.pk).hidden_at is None

    def test_anonymous_authors_stay_unknown(self, live_workshop, facilitator_client):
        person = ParticipantFactory(workshop=live_workshop, name="Salainen Kirjoittaja")
        comment_as(live_workshop, person, "Nimetön", anonymous=True)
        html = facilitator_client.get(url("moderation", live_workshop)).content.decode()
        assert "Salainen Kirjoittaja" not in html and f"p{person.pk}" not in html

    def test_who_may_use_it(self, live_workshop, flood, organisation):
        _spammer, spam, _kept = flood
        guest = guest_client(ParticipantFactory(workshop=live_workshop))
        assert guest.get(url("moderation", live_workshop)).status_code == 403
        assert guest.post(url("hide_many", live_workshop), {"comment": spam[0].pk, "confirm": "yes"}).status_code == 403
        contact = Client()
        contact.force_login(ContactPersonFactory(organisation=organisation))
        assert contact.get(url("moderation", live_workshop)).status_code == 403
        stranger = Client()
        stranger.force_login(ContactPersonFactory())
        assert stranger.get(url("moderation", live_workshop)).status_code == 404
        assert Client().get(url("moderation", live_workshop)).status_code == 404
        assert not Comment.objects.filter(hidden_at__isnull=False).exists()

    def test_a_presenter_sees_and_hides_their_own_case(self, live_workshop, flood):
        _spammer, spam, _kept = flood
        case = live_workshop.cases.get(pk=spam[0].case_id)
        case.presenter_email = "esittaja@example.fi"
        case.save()
        presenter, client = make_guest(live_workshop, email="esittaja@example.fi", role=Participant.Role.PRESENTER)
        assert url("moderation", live_workshop) in client.get(url("live", live_workshop)).content.decode()
        assert client.get(url("moderation", live_workshop)).status_code == 200
        data = {"comment": [c.pk for c in spam], "idea": [1, 2], "confirm": "yes"}
        assert client.post(url("hide_many", live_workshop), data).status_code == 302
        assert Comment.objects.filter(hidden_at__isnull=False).count() == 12
        assert presenter.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_hide_reaches_every_screen_as_one_push(settings):
    from channels.db import database_sync_to_async

    from tests.facilitation.test_consumers import frames, open_socket
    from tests.security.test_fuzz import seed_workshop

    seed = await database_sync_to_async(seed_workshop)(crawl=False)
    session = seed.clients["participant"].cookies[settings.SESSION_COOKIE_NAME].value
    communicator, connected = await open_socket(seed.workshop.pk, session)
    assert connected
    await frames(communicator, timeout=0.3)  # whatever connecting pushed

    @database_sync_to_async
    def hide_all():
        from tests.accounts.factories import FacilitatorFactory

        staff = viewer_of(seed.workshop, user=FacilitatorFactory(), staff=True)
        ids = list(Comment.objects.filter(workshop=seed.workshop).values_list("pk", flat=True))
        return services.items_hide(viewer=staff, comment_ids=ids, idea_ids=[]), ids

    hidden, ids = await hide_all()
    received = [frame for frame in await frames(communicator, timeout=1.0) if frame.get("kind") == "items.hidden"]
    await communicator.disconnect()
    assert hidden.count == len(ids) > 5
    assert len(received) == 1
    assert received[0]["data"]["comments"] == sorted(ids)
