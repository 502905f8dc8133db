"""A workshop filled with hostile input through the app's own forms and endpoints, stage by stage.

Each stage posts vectors the way a person would (the Django test client through the real views;
services only where no form exists for it) and returns the pages that now show them, as
``Page(label, client, url)``. The server-side scan (test_xss.py) reads those pages with the same
clients; the browser test opens them in Chromium with the clients' session cookies.

``vectors`` is spread over the places that hold many items (comments, replies, ideas, participants,
room notes, feedback answers, categories, join names); single fields (titles, goals, names) take
the next vectors in turn, so every place gets a different one.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from facilitation.models import Comment, Idea, LiveState, Phase, Room, SurveyQuestion
from reports.models import Category, ReportShare
from tests.accounts.factories import ContactPersonFactory
from tests.facilitation.conftest import guest_client
from tests.workshops.factories import ParticipantFactory
from workshops.importing import looks_like_formula
from workshops.models import Participant, Workshop

JSON = {"HTTP_ACCEPT": "application/json"}
ALL = "?show=800"  # every comment of a thread, not only the latest 25
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Page:
    label: str
    client: Client
    url: str


@dataclass
class Hostile:
    workshop: Workshop
    facilitator_client: Client
    vectors: list[str]
    stored: dict[str, int] = field(default_factory=dict)  # place -> how many vectors it holds
    guests: list[tuple[Participant, Client]] = field(default_factory=list)
    leader: tuple[Participant, Client] | None = None
    _next: int = 0

    # --- helpers ---------------------------------------------------------------------------------
    def take(self, limit: int = 10_000, *, formula_safe: bool = False, printable: bool = False) -> str:
        """The next vector that fits ``limit`` (for forms that refuse them: one that does not look like a
        formula, one without control characters)."""
        for _attempt in range(len(self.vectors)):
            vector = self.vectors[self._next % len(self.vectors)]
            self._next += 1
            if (formula_safe and looks_like_formula(vector)) or (printable and CONTROL.search(vector)):
                continue
            if len(vector) <= limit and vector.strip():
                return vector
        raise AssertionError(f"no vector fits {limit} characters")

    def count(self, place: str, number: int = 1) -> None:
        self.stored[place] = self.stored.get(place, 0) + number

    def url(self, name: str, *args) -> str:
        return reverse(name, args=[self.workshop.pk, *args])

    def post(self, client: Client, url: str, data=None, **extra):
        response = client.post(url, data or {}, **extra)
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        return response

    def live(self) -> LiveState:
        return LiveState.objects.select_related("current_phase").get(pk=self.workshop.pk)

    def go(self, phase: Phase) -> None:
        url = self.url("facilitation:control_action", "goto")
        response = self.post(self.facilitator_client, url, {"phase": phase.pk})
        assert response.status_code == 302
        assert self.live().current_phase_id == phase.pk

    def spread(self, vectors: list[str], writers) -> Iterator[tuple[int, str, tuple]]:
        for index, vector in enumerate(vectors):
            yield index, vector, writers[index % len(writers)]

    def comment(self, client: Client, phase: Phase, text: str, **fields) -> dict:
        data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), **fields}
        response = self.post(client, self.url("facilitation:comment_new"), data, **JSON)
        assert response.status_code == 201, response.content[:300]
        body = response.json()
        assert Comment.objects.get(pk=body["id"]).text == text.strip() or text.strip() != text
        return body


def bulk_comments(h: Hostile, phase: Phase, vectors: list[str], place: str = "comment", **fields) -> None:
    """More vectors stored as the comment service would store them, without a request each (the normal suite
    cannot afford hundreds of requests; the faults run posts every vector through HTTP)."""
    people = [person for person, _client in h.guests]
    Comment.objects.bulk_create(
        Comment(
            client_id=uuid.uuid4(),
            workshop=h.workshop,
            phase=phase,
            case=phase.case,
            author_participant=people[index % len(people)],
            anonymous=index % 7 == 3,
            text=vector,
            language="fi",
            **fields,
        )
        for index, vector in enumerate(vectors)
    )
    h.count(f"{place} (stored directly)", len(vectors))


def bulk_ideas(h: Hostile, phase: Phase, vectors: list[str]) -> None:
    people = [person for person, _client in h.guests]
    Idea.objects.bulk_create(
        Idea(
            client_id=uuid.uuid4(),
            workshop=h.workshop,
            phase=phase,
            author_participant=people[index % len(people)],
            anonymous=index % 5 == 2,
            can_run=index % 3 == 1,
            text=vector[:500],
            language="fi",
        )
        for index, vector in enumerate(vectors)
    )
    h.count("idea (stored directly)", len(vectors))


def _staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _english_guest(participant) -> Client:
    client = guest_client(participant)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- stage 1: planning ------------------------------------------------------------------------------
def stage_planning(h: Hostile) -> tuple[list[Page], list[str]]:
    """Registration, workshop edit, cases, participants (form, CSV and XLSX with hostile file names),
    the method library's template import, agenda phases, the survey and the categories."""
    fc, w = h.facilitator_client, h.workshop

    # a contact person registers a workshop with a new organisation
    contact = ContactPersonFactory(organisation=w.organisation)
    cc = _staff_client(contact)
    registration = {
        "new_organisation_name": h.take(200, formula_safe=True),
        "new_organisation_kind": "municipality",
        "title": h.take(200, formula_safe=True),
        "goal": h.take(formula_safe=True),
        "format": w.format,
        "preferred_dates": h.take(formula_safe=True),
        "expected_participants": 20,
        "case_proposals": h.take(formula_safe=True),
        "language": "en",
    }
    response = h.post(cc, reverse("workshops:register"), registration)
    assert response.status_code == 302, response.content.decode()[:2000]
    registered = Workshop.objects.get(title=registration["title"])
    h.count("registration", 5)

    # the facilitator edits the persona workshop
    edit = {
        "title": h.take(200, formula_safe=True),
        "goal": h.take(formula_safe=True),
        "format": w.format,
        "preferred_dates": h.take(formula_safe=True),
        "expected_participants": 30,
        "case_proposals": h.take(formula_safe=True),
        "language": "en",
        "duration_minutes": 180,
        "meeting_url": "https://meet.example.fi/työpaja",
    }
    response = h.post(fc, h.url("workshops:edit"), edit)
    assert response.status_code == 302, response.content.decode()[:2000]
    w.refresh_from_db()
    assert w.title == edit["title"]
    h.count("workshop", 4)

    # cases: every text field of every case, and a new one; a javascript: material link is refused
    for case in w.cases.all():
        data = {
            "title": h.take(200, formula_safe=True),
            "presenter_name": h.take(200, formula_safe=True),
            "presenter_email": "esittaja@example.fi",
            "description": h.take(formula_safe=True),
            "material_url": "https://example.fi/aineisto",
        }
        assert h.post(fc, h.url("workshops:case_edit", case.pk), data).status_code == 302
        h.count("case", 3)
    refused = {"title": "Aineisto", "material_url": "javascript:alert(1)"}
    assert h.post(fc, h.url("workshops:case_new"), refused).status_code == 200
    assert not w.cases.filter(title="Aineisto").exists()

    # participants one by one
    for number in range(4):
        data = {
            "name": h.take(200, formula_safe=True),
            "email": f"vihamielinen{number}@example.fi",
            "organisation_name": h.take(200, formula_safe=True),
            "department": h.take(200, formula_safe=True),
            "role_group": Participant.RoleGroup.STAFF,
            "role": Participant.Role.GROUP_LEADER if number == 0 else Participant.Role.PARTICIPANT,
        }
        response = h.post(fc, h.url("workshops:participants"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        h.count("participant", 3)

    # a CSV and an XLSX list, with hostile file names: preview, then import
    rows = [(h.take(200, formula_safe=True), f"lista{n}@example.fi", h.take(200, formula_safe=True)) for n in range(6)]
    text = "name;email;organisation\n" + "\n".join(
        ";".join('"' + value.replace('"', '""') + '"' for value in row) for row in rows
    )
    uploads = [(h.take(150) + ".csv", text.encode())]
    book = Workbook()
    book.active.append(["name", "email", "organisation"])
    for n in range(4):
        book.active.append([h.take(200, formula_safe=True), f"taulukko{n}@example.fi", h.take(200, formula_safe=True)])
    data = io.BytesIO()
    book.save(data)
    uploads.append((h.take(150) + ".xlsx", data.getvalue()))
    preview_pages = []
    for filename, content in uploads:
        upload = SimpleUploadedFile(filename.replace("/", "_"), content)
        response = h.post(fc, h.url("workshops:participants_upload"), {"file": upload})
        assert response.status_code == 200
        preview_pages.append(response.content.decode())
        assert h.post(fc, h.url("workshops:participants_upload"), {"confirm": "1"}).status_code == 302
    h.count("participant upload", 20)
    # a file that is not a list at all: its hostile name must not end up in the page as markup
    bad = SimpleUploadedFile('"><img src=x onerror=alert(42429999)>.csv', b"\x00\x01\x02")
    response = h.post(fc, h.url("workshops:participants_upload"), {"file": bad})
    assert response.status_code == 200
    preview_pages.append(response.content.decode())

    # the method library: a template document full of vectors, under a hostile file name
    exported = fc.get(reverse("workshops:template_export", args=["parastaminen-a"]))
    assert exported.status_code == 200, exported.status_code
    document = json.loads(b"".join(exported.streaming_content) if exported.streaming else exported.content)
    document["name"] = h.take(200, formula_safe=True, printable=True)
    document["description"] = h.take(formula_safe=True, printable=True)
    for phase in document["phases"]:
        phase["title"] = h.take(150, formula_safe=True, printable=True)
        if phase.get("instructions") is not None:
            phase["instructions"] = h.take(printable=True)
        if phase.get("prompts"):
            phase["prompts"] = [h.take(300, formula_safe=True, printable=True) for _prompt in phase["prompts"]]
    if document.get("survey"):
        document["survey"]["intro"] = h.take(formula_safe=True, printable=True)
        for question in document["survey"]["questions"]:
            question["text"] = h.take(200, formula_safe=True, printable=True)
    upload = SimpleUploadedFile(h.take(150) + ".json", json.dumps(document).encode())
    response = h.post(fc, reverse("workshops:template_import"), {"file": upload})
    assert response.status_code == 302, response.context["form"].errors
    h.count("template import", 2 + 2 * len(document["phases"]))

    # the agenda: the default one, an idea collection and two prioritisations; titles, instructions, prompts
    assert h.post(fc, h.url("facilitation:agenda_default")).status_code == 302
    assert w.phases.exists()
    phase_data = {
        "kind": Phase.Kind.IDEAS,
        "title": h.take(200, formula_safe=True),
        "duration_minutes": 10,
        "instructions": h.take(),
        "prompts": "",
        "idea_max_length": 500,
        "ideas_public": "on",
        "offers_to_run": "on",
        "voting": "pairwise",
        "min_appearances": 3,
        "dots_per_person": 3,
    }
    assert h.post(fc, h.url("facilitation:phase_new"), phase_data).status_code == 302
    vote = {**phase_data, "kind": Phase.Kind.PRIORITISATION, "title": h.take(200, formula_safe=True)}
    vote["instructions"] = h.take()
    assert h.post(fc, h.url("facilitation:phase_new"), vote).status_code == 302
    dots = {**vote, "title": h.take(200, formula_safe=True), "voting": "dots"}
    assert h.post(fc, h.url("facilitation:phase_new"), dots).status_code == 302
    reflection = w.phases.filter(kind=Phase.Kind.REFLECTION).order_by("position").first()
    edit_phase = {
        **phase_data,
        "kind": reflection.kind,
        "title": h.take(200, formula_safe=True),
        "case": reflection.case_id,
        "instructions": h.take(),
        "prompts": "\n".join(h.take(300, formula_safe=True) for _n in range(3)),
    }
    for name in ("idea_max_length", "ideas_public", "offers_to_run", "min_appearances", "dots_per_person"):
        edit_phase.pop(name)
    response = h.post(fc, h.url("facilitation:phase_edit", reflection.pk), edit_phase)
    assert response.status_code == 302, response.content.decode()[:3000]
    h.count("agenda", 12)

    # the feedback survey: introduction and questions
    response = h.post(fc, h.url("facilitation:survey_edit"), {"intro": h.take(), "open_days_after": 7})
    assert response.status_code == 302, response.content.decode()[:2000]
    for _n in range(2):
        data = {"new-text": h.take(200, formula_safe=True), "new-kind": "text"}
        assert h.post(fc, h.url("facilitation:survey_question_add"), data).status_code == 302
    h.count("survey", 3)

    # categories
    for _n in range(6):
        data = {"name": h.take(100), "colour": "#0b4f8a", "description": h.take()}
        response = h.post(fc, h.url("reports:categories"), data)
        assert response.status_code in (200, 302)
    assert Category.objects.filter(workshop=w).count() >= 4
    h.count("category", 2 * Category.objects.filter(workshop=w).count())

    return [
        Page("contact person's workshop page", cc, reverse("workshops:manage", args=[registered.pk])),
        Page("facilitator's queue", fc, reverse("workshops:queue")),
        Page("the registered workshop, facilitator", fc, reverse("workshops:manage", args=[registered.pk])),
        Page("workshop management", fc, h.url("workshops:manage")),
        Page("workshop edit form", fc, h.url("workshops:edit")),
        Page("case edit form", fc, h.url("workshops:case_edit", w.cases.first().pk)),
        Page("participant list", fc, h.url("workshops:participants")),
        Page("invitations", fc, h.url("workshops:invitations")),
        Page("method library", fc, reverse("workshops:template_library")),
        Page("agenda", fc, h.url("facilitation:agenda")),
        Page("phase edit form", fc, h.url("facilitation:phase_edit", reflection.pk)),
        Page("survey editor", fc, h.url("facilitation:survey_edit")),
        Page("categories", fc, h.url("reports:categories")),
        Page("category edit form", fc, h.url("reports:category_edit", Category.objects.filter(workshop=w).first().pk)),
        Page("rounds planning", fc, h.url("facilitation:rounds")),
    ], preview_pages


# --- stage 2: live, comments ---------------------------------------------------------------------------
def stage_comments(h: Hostile, vectors: list[str], bulk: list[str] = ()) -> list[Page]:
    """Start, join by code with hostile names, then comments, replies, edits and a broadcast."""
    fc, w = h.facilitator_client, h.workshop
    assert h.post(fc, h.url("facilitation:control_action", "start")).status_code == 302
    assert h.post(fc, h.url("facilitation:control_action", "next")).status_code == 302
    assert h.post(fc, h.url("facilitation:join_code_toggle"), {"action": "on"}).status_code == 302
    code = h.live().join_code
    for _n in range(4):
        client = Client()
        name = h.take(80)
        response = h.post(client, reverse("facilitation:join_code"), {"code": code, "name": name, "team_size": 1})
        assert response.status_code == 302, response.content.decode()[:2000]
        participant = Participant.objects.filter(workshop=w).order_by("-pk").first()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        h.guests.append((participant, client))
    h.count("join name", 4)
    for person in Participant.objects.filter(workshop=w, role=Participant.Role.PARTICIPANT).order_by("pk")[:4]:
        h.guests.append((person, _english_guest(person)))
    leader = Participant.objects.filter(workshop=w, role=Participant.Role.GROUP_LEADER).first()
    h.leader = (leader, _english_guest(leader))

    phase = h.live().current_phase
    stored = []
    for index, vector, (_person, client) in h.spread(vectors, h.guests):
        anonymous = {"anonymous": "on"} if index % 7 == 3 else {}
        stored.append((client, h.comment(client, phase, vector, **anonymous)))
    h.count("comment", len(stored))
    if bulk:
        bulk_comments(h, phase, list(bulk))
    # replies to the first comments, and an edit
    for index, (client, body) in enumerate(stored[:8]):
        h.comment(h.guests[(index + 1) % len(h.guests)][1], phase, h.take(), parent=body["id"])
    h.count("reply", 8)
    client, body = stored[0]
    text = h.take()
    response = h.post(client, h.url("facilitation:comment_edit", body["id"]), {"text": text}, **JSON)
    assert response.status_code == 200 and Comment.objects.get(pk=body["id"]).text == text.strip()
    h.count("comment edit")
    # the facilitator hides one (staff still see it, with its text)
    assert h.post(fc, h.url("facilitation:comment_hide", stored[1][1]["id"]), **JSON).status_code == 200
    # a reflection answer to a hostile prompt
    reflection = w.phases.filter(kind=Phase.Kind.REFLECTION).order_by("position").first()
    # a broadcast
    broadcast = h.take(500)
    assert h.post(fc, h.url("facilitation:control_action", "broadcast"), {"text": broadcast}).status_code == 302
    h.count("broadcast")

    guest = h.guests[0][1]
    pages = [
        Page("participant's live page", guest, h.url("facilitation:live") + ALL),
        Page("participant's shared panel", guest, h.url("facilitation:panel")),
        Page("participant's panel", guest, h.url("facilitation:panel") + ALL),
        Page("participant's events", guest, h.url("facilitation:events") + "?after=0"),
        Page("participant's threads", guest, h.url("facilitation:threads", phase.pk) + ALL),
        Page("joined-by-code guest's live page", h.guests[1][1], h.url("facilitation:live")),
        Page("facilitator's controls", fc, h.url("facilitation:control") + ALL),
        Page("facilitator's live page", fc, h.url("facilitation:live") + ALL),
        Page("facilitator's panel", fc, h.url("facilitation:panel") + ALL),
        Page("facilitator's events", fc, h.url("facilitation:events") + "?after=0"),
        Page("join screen", fc, h.url("facilitation:join_screen")),
        Page("big screen", fc, h.url("facilitation:bigscreen")),
        Page("big screen data", fc, h.url("facilitation:bigscreen_data")),
    ]
    # the reflection phase, with its hostile prompts, answered
    h.go(reflection)
    for index, prompt in enumerate(reflection.prompts.all()):
        h.comment(h.guests[index % len(h.guests)][1], reflection, h.take(), prompt=prompt.pk)
    h.count("reflection answer", reflection.prompts.count())
    pages.append(Page("participant's reflection", guest, h.url("facilitation:live") + ALL))
    pages.append(Page("facilitator's reflection", fc, h.url("facilitation:control") + ALL))
    return pages


# --- stage 3: ideas and voting ------------------------------------------------------------------------------
def stage_ideas(h: Hostile, vectors: list[str], bulk: list[str] = ()) -> list[Page]:
    fc, w = h.facilitator_client, h.workshop
    ideas_phase = w.phases.filter(kind=Phase.Kind.IDEAS).get()
    h.go(ideas_phase)
    made = []
    for index, vector, (_person, client) in h.spread(vectors, h.guests):
        data = {"phase": ideas_phase.pk, "text": vector[:500], "client_id": str(uuid.uuid4())}
        if index % 5 == 2:
            data["anonymous"] = "on"
        if index % 3 == 1:
            data["can_run"] = "on"
        response = h.post(client, h.url("facilitation:idea_new"), data, **JSON)
        assert response.status_code == 201, response.content[:300]
        made.append(response.json()["id"])
    h.count("idea", len(made))
    if bulk:
        bulk_ideas(h, ideas_phase, list(bulk))
    # the facilitator corrects one and merges two
    text = h.take(500)
    assert h.post(fc, h.url("facilitation:idea_edit", made[0]), {"text": text}, **JSON).status_code == 200
    assert Idea.objects.get(pk=made[0]).text == text.strip()
    merge = {"idea": made[1], "into": made[2], "confirm": "on"}
    assert h.post(fc, h.url("facilitation:idea_merge"), merge, **JSON).status_code == 200
    h.count("idea edit/merge", 2)
    guest = h.guests[0][1]
    pages = [
        Page("participant's ideas", guest, h.url("facilitation:live")),
        Page("facilitator's ideas", fc, h.url("facilitation:control")),
        Page("big screen with ideas", fc, h.url("facilitation:bigscreen")),
        Page("big screen data with ideas", fc, h.url("facilitation:bigscreen_data")),
    ]
    return pages


def stage_voting(h: Hostile) -> tuple[list[Page], Phase]:
    """Pairwise duels between the hostile ideas, with the ranking shown; returns the dots phase for later."""
    fc, w = h.facilitator_client, h.workshop
    guest = h.guests[0][1]
    pairwise, dots = w.phases.filter(kind=Phase.Kind.PRIORITISATION).order_by("position")
    h.go(pairwise)
    for _person, client in h.guests[:3]:
        response = h.post(client, h.url("facilitation:vote_next", pairwise.pk), **JSON)
        assert response.status_code == 200, response.content[:300]
    assert h.post(fc, h.url("facilitation:results_toggle", pairwise.pk), {"action": "open"}).status_code in (200, 302)
    pages = [
        Page("participant's duel", guest, h.url("facilitation:live")),
        Page("facilitator's ranking", fc, h.url("facilitation:control")),
        Page("ranking results", fc, h.url("facilitation:results_ranking", pairwise.pk)),
        Page("big screen ranking", fc, h.url("facilitation:bigscreen")),
        Page("big screen ranking data", fc, h.url("facilitation:bigscreen_data")),
    ]
    return pages, dots


def stage_dots(h: Hostile, dots: Phase) -> list[Page]:
    h.go(dots)
    return [
        Page("participant's dots", h.guests[0][1], h.url("facilitation:live")),
        Page("facilitator's dots", h.facilitator_client, h.url("facilitation:control")),
    ]


# --- stage 4: small-group rounds -------------------------------------------------------------------------------
def stage_rounds(h: Hostile, vectors: list[str], bulk: list[str] = ()) -> list[Page]:
    fc, w = h.facilitator_client, h.workshop
    for n in range(6):
        ParticipantFactory(workshop=w, name=f"Täyte {n}", first_joined_at=w.created_at)
    settings_form = {
        "mode": "A",
        "leaders_stay": "case",
        "min_size": 3,
        "max_size": 6,
        "rooms": "",
        "remix": "on",
        "round_minutes": 10,
        "room_links": "javascript:alert(1)",
    }
    response = h.post(fc, h.url("facilitation:rounds_settings"), settings_form)
    assert response.status_code == 200, "a javascript: room link must be refused"
    settings_form["room_links"] = ""
    assert h.post(fc, h.url("facilitation:rounds_settings"), settings_form).status_code == 302
    assert h.post(fc, h.url("facilitation:rounds_plan")).status_code == 302
    h.go(w.phases.get(kind=Phase.Kind.ROUNDS))
    assert h.post(fc, h.url("facilitation:control_action", "round-start"), {"round": 1}).status_code == 302
    rounds_phase = w.phases.get(kind=Phase.Kind.ROUNDS)
    notes = 0
    for index, vector in enumerate(vectors):
        person, client = h.guests[index % len(h.guests)]
        room = Room.objects.filter(round__number=1, members__participant=person).first()
        if room is None:
            continue
        h.comment(client, rounds_phase, vector, room=room.pk)
        notes += 1
    h.count("room note", notes)
    for index, room in enumerate(Room.objects.filter(round__number=1).order_by("index")):
        if bulk:
            share = list(bulk)[index :: Room.objects.filter(round__number=1).count()]
            bulk_comments(h, rounds_phase, share, "room note", room=room, round=room.round)
    leader, leader_client = h.leader
    room = Room.objects.filter(round__number=1, leader=leader).first()
    assert room is not None
    summary = h.take()
    response = h.post(leader_client, h.url("facilitation:room_summary", room.pk), {"text": summary}, **JSON)
    assert response.status_code == 200, response.content[:300]
    for other in Room.objects.filter(round__number=1).exclude(pk=room.pk):
        Room.objects.filter(pk=other.pk).update(summary=h.take())  # as their leaders would write
    data = {"room": room.pk, "text": h.take(500), "return_to": "rooms"}
    assert h.post(fc, h.url("facilitation:control_action", "room-broadcast"), data).status_code == 302
    assert h.post(leader_client, h.url("facilitation:room_help", room.pk), **JSON).status_code == 200
    h.count("room summary/broadcast", 2)
    return [
        Page("participant's room", h.guests[0][1], h.url("facilitation:live") + ALL),
        Page("leader's room", leader_client, h.url("facilitation:live") + ALL),
        Page("rooms overview", fc, h.url("facilitation:rooms_live")),
        Page("rooms overview fragment", fc, h.url("facilitation:rooms_live") + "?fragment=1"),
        Page("rounds plan", fc, h.url("facilitation:rounds")),
        Page("summaries", fc, h.url("facilitation:summaries")),
        Page("summaries, participant", h.guests[0][1], h.url("facilitation:summaries")),
        Page("facilitator's controls in rounds", fc, h.url("facilitation:control")),
    ]


# --- stage 5: feedback, closing, the report and the exports ------------------------------------------------------
def stage_feedback(h: Hostile, vectors: list[str]) -> list[Page]:
    fc, w = h.facilitator_client, h.workshop
    assert h.post(fc, h.url("facilitation:control_action", "round-close")).status_code == 302
    h.go(w.phases.get(kind=Phase.Kind.FEEDBACK))
    texts = list(SurveyQuestion.objects.filter(workshop=w, kind="text"))
    required = {f"q{q.pk}": "4" for q in SurveyQuestion.objects.filter(workshop=w, kind="rating", required=True)}
    answered = 0
    for index, (_person, client) in enumerate(h.guests):
        data = {**required}
        for n, question in enumerate(texts):
            data[f"q{question.pk}"] = vectors[(index * len(texts) + n) % len(vectors)]
        response = h.post(client, h.url("facilitation:feedback"), data)
        assert response.status_code == 302, response.context["form"].errors
        answered += len(texts)
    h.count("feedback answer", answered)
    return [
        Page("participant's feedback phase", h.guests[-1][1], h.url("facilitation:live")),
        Page("feedback page", h.guests[-1][1], h.url("facilitation:feedback")),
        Page("facilitator's feedback phase", fc, h.url("facilitation:control")),
    ]


def stage_report(h: Hostile) -> list[Page]:
    """Close, tag, share the report."""
    fc, w = h.facilitator_client, h.workshop
    assert h.post(fc, h.url("facilitation:control_action", "close")).status_code == 302
    comments = list(Comment.objects.filter(workshop=w, deleted_at__isnull=True).values_list("pk", flat=True)[:20])
    category = Category.objects.filter(workshop=w).first()
    for comment_id in comments:
        response = h.post(fc, h.url("reports:tagging_comment", comment_id), {"categories": [category.pk]}, **JSON)
        assert response.status_code in (200, 302)
    response = h.post(fc, h.url("reports:report_share"), {"action": "on"})
    assert response.status_code in (200, 302)
    share = ReportShare.objects.filter(workshop=w, enabled=True).first()
    assert share is not None
    anonymous = Client()
    return [
        Page("report", fc, h.url("reports:report")),
        Page("tagging", fc, h.url("reports:tagging")),
        Page("tagging, filtered", fc, h.url("reports:tagging") + f"?category={category.pk}"),
        Page("categories with counts", fc, h.url("reports:categories")),
        Page("category merge", fc, h.url("reports:category_merge", category.pk)),
        Page("export page", fc, h.url("reports:export")),
        Page("workshop management after closing", fc, h.url("workshops:manage")),
        Page("summaries after closing", fc, h.url("facilitation:summaries")),
        Page("shared report", anonymous, reverse("reports:report_shared", args=[share.token])),
    ]
