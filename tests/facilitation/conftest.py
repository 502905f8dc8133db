"""Live-workshop fixtures: a started Parastaminen workshop and signed-in clients for its people."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from facilitation import services
from facilitation.models import LiveState, Phase
from facilitation.permissions import LiveViewer
from tests.workshops.factories import ParticipantFactory
from workshops.services import participant_issue_token


@pytest.fixture
def live_workshop(workshop, facilitator, django_capture_on_commit_callbacks):
    """The persona workshop with its default agenda, started and on its first writing phase."""
    with django_capture_on_commit_callbacks(execute=True):
        services.live_start(workshop=workshop, by=facilitator)
        services.phase_go(workshop=workshop, offset=1)  # intro -> first case presentation
    workshop.refresh_from_db()
    return workshop


def guest_client(participant) -> Client:
    """A browser session that arrived with the participant's personal link."""
    client = Client()
    token = participant_issue_token(participant=participant)
    response = client.get(reverse("workshops:join", kwargs={"token": token}))
    assert response.status_code == 302
    return client


def make_guest(workshop, **fields):
    person = ParticipantFactory(workshop=workshop, **fields)
    return person, guest_client(person)


def viewer_of(workshop, *, participant=None, user=None, staff=False, presented=()) -> LiveViewer:
    return LiveViewer(
        workshop=workshop,
        participant=participant,
        user=user,
        is_facilitator=staff,
        is_contact_person=False,
        presented_case_ids=frozenset(presented),
    )


@pytest.fixture
def facilitator_client(facilitator) -> Client:
    client = Client()
    client.force_login(facilitator)
    return client


def comment_as(workshop, person, text, *, anonymous=False, phase=None, prompt=None, parent=None, room=None):
    """``person`` writes ``text`` through the service (a reply to ``parent``'s id, a note of ``room``'s id, if
    given), in the current phase unless another is given."""
    phase = phase or LiveState.objects.get(pk=workshop.pk).current_phase
    comment, _created = services.comment_create(
        viewer=viewer_of(workshop, participant=person),
        phase_id=phase.pk,
        prompt_id=prompt,
        parent_id=parent,
        text=text,
        anonymous=anonymous,
        client_id=uuid.uuid4(),
        language="fi",
        room_id=room,
    )
    return comment


def prioritisation(workshop, ideas: list[str], **fields) -> Phase:
    """An idea collection holding ``ideas`` and, after it, a prioritisation of them (``fields``: its
    ``voting`` and settings); not yet the current phase."""
    from tests.facilitation.factories import IdeaFactory

    source = Phase.objects.create(workshop=workshop, position=50, kind=Phase.Kind.IDEAS, title="Ideat")
    for text in ideas:
        IdeaFactory(phase=source, text=text)
    return Phase.objects.create(
        workshop=workshop, position=51, kind=Phase.Kind.PRIORITISATION, title=fields.pop("title", "Äänestys"), **fields
    )
