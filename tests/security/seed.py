"""A seeded live workshop with something behind every kind of path id, and a signed-in client for each role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from facilitation import services
from facilitation.models import Comment, Idea, LiveState, Phase, Room, RoomMember, Round
from facilitation.views import CONTROL_ACTIONS
from reports.categories import category_create
from reports.services import export_request, report_share_set
from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, OrganisationFactory
from tests.facilitation.conftest import viewer_of
from tests.security import fuzzing
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.methods import builtin
from workshops.models import Participant
from workshops.services import participant_issue_token
from workshops.services_templates import template_save


@dataclass
class Seed:
    workshop: object
    clients: dict[str, Client]
    paths: dict[str, list] = field(default_factory=dict)
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    id_values: list[str] = field(default_factory=list)
    phases: list[int] = field(default_factory=list)

    def path_values(self, name: str) -> list:
        return self.paths.get(name, [])


def _guest(person) -> Client:
    client = Client()
    token = participant_issue_token(participant=person)
    assert client.get(f"/j/{token}/").status_code == 302
    return client


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _comment(workshop, phase, person, text, **fields):
    return Comment.objects.create(
        client_id=uuid.uuid4(),
        workshop=workshop,
        phase=phase,
        case=phase.case,
        author_participant=person,
        text=text,
        language="fi",
        **fields,
    )


def seed_workshop(*, crawl: bool = True) -> Seed:
    """A live workshop with cases, a presenter, rooms, ideas, votes, comments, a survey, categories and an export."""
    organisation = OrganisationFactory(name="Fuzzilän kunta")
    facilitator = FacilitatorFactory(email="fuzz-fasilitaattori@example.fi")
    contact = ContactPersonFactory(email="fuzz-yhteys@example.fi", organisation=organisation)
    workshop = WorkshopFactory(organisation=organisation, title="Fuzz-työpaja")
    cases = [
        CaseFactory(workshop=workshop, position=n, title=f"Tapaus {n}", presenter_email=f"esittaja{n}@example.fi")
        for n in (1, 2, 3)
    ]
    guest = ParticipantFactory(workshop=workshop, name="Aino Asukas")
    presenter = ParticipantFactory(
        workshop=workshop, name="Esko Esittäjä", email="esittaja1@example.fi", role=Participant.Role.PRESENTER
    )
    leader = ParticipantFactory(workshop=workshop, name="Rauha Vetäjä", role=Participant.Role.GROUP_LEADER)
    others = [ParticipantFactory(workshop=workshop) for _ in range(4)]
    other_workshop = WorkshopFactory(organisation=OrganisationFactory(name="Muu kunta"))
    services.live_start(workshop=workshop, by=facilitator)
    services.phase_go(workshop=workshop, offset=1)
    ideas_phase = services.phase_create(
        workshop=workshop,
        kind=Phase.Kind.IDEAS,
        title="Ideointi",
        duration_minutes=10,
        prompts=["Mitä?"],
        idea_max_length=200,
        ideas_public=True,
        offers_to_run=True,
    )
    [
        services.phase_create(
            workshop=workshop,
            kind=Phase.Kind.PRIORITISATION,
            title=f"Äänestys {method}",
            duration_minutes=5,
            voting=method,
        )
        for method in Phase.Voting.values
    ]
    ideas = [
        Idea.objects.create(
            client_id=uuid.uuid4(),
            workshop=workshop,
            phase=ideas_phase,
            text=f"Idea {n}",
            language="fi",
            author_participant=person,
        )
        for n, person in enumerate([guest, presenter, *others], start=1)
    ]
    phases = list(workshop.phases.order_by("position"))
    discussion = next(phase for phase in phases if phase.has_threads and phase.case_id == cases[0].pk)
    comments = [
        _comment(workshop, discussion, person, f"Kommentti {n}") for n, person in enumerate([guest, presenter, *others])
    ]
    comments.append(_comment(workshop, discussion, guest, "Vastaus", parent=comments[1]))
    round_ = Round.objects.create(workshop=workshop, number=1, started_at=timezone.now())
    rooms = [
        Room.objects.create(round=round_, index=n, case=cases[n], leader=leader if n == 0 else None) for n in (0, 1)
    ]
    for n, person in enumerate([guest, presenter, *others]):
        RoomMember.objects.create(round=round_, room=rooms[n % 2], participant=person)
    survey_question = services.question_add(workshop=workshop, text="Mitä pidit?", kind="text")
    category = category_create(workshop=workshop, name="Liikenne")
    export = export_request(workshop=workshop, user=facilitator, language="fi")
    share = report_share_set(workshop=workshop, action="on")
    template = template_save(workshop=workshop, user=facilitator, name="Fuzz-pohja")
    services.join_code_set(workshop=workshop, enabled=True)
    code = LiveState.objects.get(pk=workshop.pk).join_code
    clients = {
        "facilitator": _signed_in(facilitator),
        "contact_person": _signed_in(contact),
        "participant": _guest(guest),
        "presenter": _guest(presenter),
        "anonymous": Client(),
    }
    paths = {
        "workshop_id": [workshop.pk, workshop.pk, workshop.pk, other_workshop.pk],
        "case_id": [case.pk for case in cases],
        "participant_id": [guest.pk, presenter.pk, leader.pk],
        "phase_id": [phase.pk for phase in phases],
        "comment_id": [comment.pk for comment in comments],
        "idea_id": [idea.pk for idea in ideas],
        "room_id": [room.pk for room in rooms],
        "question_id": [survey_question.pk],
        "category_id": [category.pk],
        "export_id": [export.pk],
        "template_id": [template.pk],
        "key": [*builtin.BUILTINS, str(template.pk)],
        "token": [participant_issue_token(participant=others[0]), share.token],
        "code": [code],
        "action": sorted(CONTROL_ACTIONS),
    }
    id_values = sorted({str(value) for values in paths.values() for value in values} | {"1", "0", "-1", "on", "open"})
    seed = Seed(workshop, clients, paths, vocabulary=fuzzing.field_vocabulary(), id_values=id_values)
    seed.phases = [phase.pk for phase in phases]
    if crawl:
        seed.forms = crawl_forms(seed)
    return seed


def crawl_forms(seed: Seed) -> dict[str, dict[str, list[str]]]:
    """Open every page (GET) as each role and note the forms on it, keyed by the route they post to."""
    found: dict[str, dict[str, list[str]]] = {}
    for route in fuzzing.all_routes():
        kwargs = {name: (seed.path_values(name) or ["x"])[0] for name, _converter in route.kwargs}
        path = route.path(kwargs)
        # The facilitator's pages show every form of a workshop; strangers only those outside one (join, sign up).
        roles = ("facilitator",) if route.kwargs else ("anonymous",)
        for role in roles:
            client = seed.clients[role]
            saved = fuzzing.snapshot(client)
            response = client.get(path)
            fuzzing.restore(client, saved)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for action, fields in fuzzing.forms_on(response.content.decode(errors="replace"), path).items():
                try:
                    name = resolve(action).view_name
                except Resolver404:
                    continue
                merged = found.setdefault(name, {})
                for field_name, values in fields.items():
                    known = merged.setdefault(field_name, [])
                    known.extend(value for value in values if value not in known)
    return found


__all__ = ["Seed", "seed_workshop", "viewer_of"]
