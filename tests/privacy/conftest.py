"""A workshop with a bit of everything a person can leave behind, for the erasure and "my data" tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile

from facilitation import services as live_services
from facilitation.models import Ballot, Duel, Event, Idea, Phase, Presence, Reaction, Room, RoomMember, Round
from reports.models import Export
from tests.facilitation.conftest import comment_as, facilitator_client, live_workshop, viewer_of  # noqa: F401  (fixtures)
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import ParticipantFactory
from workshops.models import InvitationBatch, Participant, Workshop
from workshops.services import participant_issue_token


@dataclass
class Trail:
    workshop: Workshop
    canary: Participant
    other: Participant
    named_comment: object
    anonymous_comment: object
    named_idea: Idea
    anonymous_idea: Idea
    export: Export


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def trail(live_workshop, facilitator, django_capture_on_commit_callbacks) -> Trail:  # noqa: F811
    """The live persona workshop where the canary wrote, voted, reacted, sat in a room and was exported."""
    workshop = live_workshop
    canary = ParticipantFactory(
        workshop=workshop,
        name="Kanarialintu Kaivosmies",
        email="kanarialintu@example.fi",
        organisation_name="Kaivosyhtiö",
        department="Louhinta",
    )
    participant_issue_token(participant=canary)
    other = ParticipantFactory(workshop=workshop, name="Toinen Osallistuja", email="toinen@example.fi")
    with django_capture_on_commit_callbacks(execute=True):
        named = comment_as(workshop, canary, "Nimellä kirjoitettu havainto", anonymous=False)
        secret = comment_as(workshop, canary, "Salainen havainto", anonymous=True)
    ideas_phase = Phase.objects.create(workshop=workshop, position=90, kind=Phase.Kind.IDEAS, title="Ideat")
    named_idea = IdeaFactory(phase=ideas_phase, text="Nimetty idea", author_participant=canary)
    secret_idea = IdeaFactory(phase=ideas_phase, text="Salainen idea", author_participant=canary, anonymous=True)
    other_idea = IdeaFactory(phase=ideas_phase, text="Toisen idea", author_participant=other)
    voting = Phase.objects.create(
        workshop=workshop, position=91, kind=Phase.Kind.PRIORITISATION, title="Äänestys", idea_source=ideas_phase
    )
    Duel.objects.create(phase=voting, left=named_idea, right=other_idea, voter_participant=canary, choice="left")
    Ballot.objects.create(phase=voting, idea=other_idea, voter_participant=canary, value=3)
    Reaction.objects.create(comment=secret, kind=Reaction.Kind.AGREE, participant=other)
    Presence.objects.create(key="canary-tab", workshop=workshop, participant=canary)
    Event.objects.create(workshop=workshop, kind="note", audience="person", participant=canary)
    first = Round.objects.create(workshop=workshop, number=1)
    room = Room.objects.create(round=first, index=0, case=workshop.cases.first(), leader=other)
    RoomMember.objects.create(round=first, room=room, participant=canary)
    batch = InvitationBatch.objects.create(workshop=workshop, total=2)
    batch.participants.set([canary, other])
    case = workshop.cases.first()
    case.presenter_name, case.presenter_email = "Esittäjä Esimerkki", "esittaja@example.fi"
    case.save()
    live_services.join_code_set(workshop=workshop, enabled=True)
    export = Export.objects.create(workshop=workshop, status=Export.Status.DONE, rows_total=3)
    export.file.save(f"{export.pk}-tyopaja.xlsx", ContentFile(b"PK fake workbook"), save=True)
    return Trail(workshop, canary, other, named, secret, named_idea, secret_idea, export)


def close(trail: Trail, by) -> None:
    live_services.live_close(workshop=trail.workshop, by=by)
    trail.workshop.refresh_from_db()
