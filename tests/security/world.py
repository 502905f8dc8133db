"""Two symmetric live workshops (A of organisation A, B of organisation B) with one object of every kind,
and a signed-in client for each role of the authorization matrix.

Both workshops are built the same way, so a role's cell on B is the mirror of a role's cell on A:
the contact person of organisation B is to workshop B what the contact person of A is to workshop A.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from facilitation import services
from facilitation.models import Comment, Idea, LiveState, Phase, Room, RoomMember, Round
from privacy.models import DeletionRequest, Erasure
from reports.models import Category, Export
from reports.services import report_share_set
from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, OrganisationFactory
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant, Workshop, WorkshopTemplate
from workshops.services import participant_issue_token

ROLES = ("anonymous", "guest", "leader", "presenter", "contact_a", "contact_b", "facilitator", "admin")
MISSING = 987_654_321  # an id no row has


@dataclass
class Side:
    """One workshop and one object of every kind that a URL can name."""

    workshop: Workshop
    guest: Participant
    leader: Participant
    presenter: Participant
    invitee_token: str  # a personal link nobody has used yet
    phase: Phase  # the current phase, a discussion of the presented case
    prompt_id: int
    vote_phase: Phase  # a prioritisation of the ideas phase's ideas; its way of voting is set per route
    ideas_phase: Phase
    feedback_phase: Phase
    comment: Comment
    room: Room
    idea: Idea
    vote_idea: Idea  # nobody's own idea: every role may vote for it
    question_id: int
    category: Category
    export: Export
    share_token: str
    join_code: str
    template: WorkshopTemplate
    deletion_request: DeletionRequest  # the invitee's, so the guest may still ask for their own
    erasure: Erasure  # a record of one (now gone) participant's erased data
    duels: dict[str, int] = field(default_factory=dict)  # role -> the pair waiting for its answer (per route)


def _side(organisation, contact: User, facilitator: User, label: str) -> Side:
    workshop = WorkshopFactory(organisation=organisation, title=f"Työpaja {label}", status=Workshop.Status.LIVE)
    presented = CaseFactory(
        workshop=workshop, position=1, title=f"Case {label}", presenter_email=f"esittaja{label}@ex.fi"
    )
    other_case = CaseFactory(workshop=workshop, position=2, title=f"Toinen {label}")
    now = timezone.now()
    guest = ParticipantFactory(workshop=workshop, name=f"Vieras {label}", first_joined_at=now)
    leader = ParticipantFactory(
        workshop=workshop, name=f"Vetäjä {label}", role=Participant.Role.GROUP_LEADER, first_joined_at=now
    )
    presenter = ParticipantFactory(
        workshop=workshop,
        name=f"Esittäjä {label}",
        email=presented.presenter_email,
        role=Participant.Role.PRESENTER,
        first_joined_at=now,
    )
    invitee = ParticipantFactory(workshop=workshop, name=f"Kutsuttu {label}")
    phase = Phase.objects.create(
        workshop=workshop, position=1, kind=Phase.Kind.DISCUSSION, title=f"Keskustelu {label}", case=presented
    )
    prompt = phase.prompts.create(position=1, text="Mitä opit?")
    ideas_phase = Phase.objects.create(workshop=workshop, position=2, kind=Phase.Kind.IDEAS, title=f"Ideat {label}")
    vote_phase = Phase.objects.create(
        workshop=workshop,
        position=3,
        kind=Phase.Kind.PRIORITISATION,
        title=f"Äänestys {label}",
        idea_source=ideas_phase,
    )
    Phase.objects.create(workshop=workshop, position=4, kind=Phase.Kind.ROUNDS, title=f"Kierrokset {label}")
    feedback_phase = Phase.objects.create(
        workshop=workshop, position=5, kind=Phase.Kind.FEEDBACK, title=f"Palaute {label}"
    )
    LiveState.objects.update_or_create(workshop=workshop, defaults={"current_phase": phase, "started_at": now})
    comment = Comment.objects.create(
        client_id=uuid.uuid4(),
        workshop=workshop,
        phase=phase,
        case=presented,
        text=f"Vieraan havainto {label}",
        author_participant=guest,
        language="fi",
    )
    round_ = Round.objects.create(workshop=workshop, number=1, started_at=now)
    room = Room.objects.create(round=round_, index=0, case=presented, leader=leader)
    Room.objects.create(round=round_, index=1, case=other_case)
    RoomMember.objects.create(round=round_, room=room, participant=guest)
    idea = IdeaFactory(phase=ideas_phase, text=f"Idea {label}", author_participant=guest)
    IdeaFactory(phase=ideas_phase, text=f"Toinen idea {label}", author_user=facilitator)
    vote_idea = IdeaFactory(phase=ideas_phase, text=f"Yhteinen {label}")
    question = services.question_add(workshop=workshop, text=f"Kysymys {label}?", kind="text")
    category = Category.objects.create(workshop=workshop, name=f"Luokka {label}")
    Category.objects.create(workshop=workshop, name=f"Toinen luokka {label}")
    export = Export.objects.create(workshop=workshop, requested_by=facilitator, status=Export.Status.FAILED)
    share = report_share_set(workshop=workshop, action="on")
    live = services.join_code_set(workshop=workshop, enabled=True)
    template = WorkshopTemplate.objects.create(
        name=f"Pohja {label}",
        organisation=organisation,
        created_by=contact,
        shared=True,
        data={"format": 1, "phases": []},
    )
    deletion_request = DeletionRequest.objects.create(workshop=workshop, participant=invitee)
    erasure = Erasure.objects.create(workshop=workshop, whole_workshop=False, erased_by=facilitator, participants=1)
    return Side(
        workshop=workshop,
        guest=guest,
        leader=leader,
        presenter=presenter,
        invitee_token=participant_issue_token(participant=invitee),
        phase=phase,
        prompt_id=prompt.pk,
        vote_phase=vote_phase,
        ideas_phase=ideas_phase,
        feedback_phase=feedback_phase,
        comment=comment,
        room=room,
        idea=idea,
        vote_idea=vote_idea,
        question_id=question.pk,
        category=category,
        export=export,
        share_token=share.token,
        join_code=live.join_code,
        template=template,
        deletion_request=deletion_request,
        erasure=erasure,
    )


@dataclass
class World:
    a: Side
    b: Side
    users: dict[str, User]
    clients: dict[str, Client]

    def side(self, name: str) -> Side:
        return {"A": self.a, "B": self.b}[name]


def _guest_client(participant: Participant) -> Client:
    client = Client()
    token = participant_issue_token(participant=participant)
    response = client.get(reverse("workshops:join", kwargs={"token": token}))
    assert response.status_code == 302, response
    return client


def build_world() -> World:
    organisation_a = OrganisationFactory(name="Organisaatio A")
    organisation_b = OrganisationFactory(name="Organisaatio B")
    users = {
        "contact_a": ContactPersonFactory(email="yhteys.a@example.fi", organisation=organisation_a),
        "contact_b": ContactPersonFactory(email="yhteys.b@example.fi", organisation=organisation_b),
        "facilitator": FacilitatorFactory(email="fasilitaattori@example.fi"),
        "admin": FacilitatorFactory(email="yllapito@example.fi", is_superuser=True),
    }
    a = _side(organisation_a, users["contact_a"], users["facilitator"], "A")
    b = _side(organisation_b, users["contact_b"], users["facilitator"], "B")
    clients = {"anonymous": Client()}
    for role in ("guest", "leader", "presenter"):
        clients[role] = _guest_client(getattr(a, role))
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return World(a=a, b=b, users=users, clients=clients)


def _nothing() -> SimpleNamespace:
    return SimpleNamespace(pk=MISSING, phase_id=MISSING, organisation_id=MISSING, email="nobody@example.fi")


# A workshop side whose every object is missing: POST bodies that name no object at all.
NOWHERE = SimpleNamespace(
    workshop=_nothing(),
    guest=_nothing(),
    leader=_nothing(),
    presenter=_nothing(),
    phase=_nothing(),
    prompt_id=MISSING,
    vote_phase=_nothing(),
    comment=_nothing(),
    room=_nothing(),
    idea=_nothing(),
    vote_idea=_nothing(),
    duels={},
    question_id=MISSING,
    category=_nothing(),
    export=_nothing(),
    join_code="ZZZZZZ",
    template=_nothing(),
)
