"""The method library: built-ins, save/export/import/apply round trip, file validation, visibility and roles."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from facilitation.models import Comment, FeedbackResponse, Phase, Rotation, Survey, SurveyQuestion
from facilitation.services import agenda_create_default, phase_create, rotation_update
from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, UserFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from tests.workshops.test_planning_views import REGISTRATION, sign_in
from workshops.methods import builtin
from workshops.methods import document as methods
from workshops.models import Workshop, WorkshopTemplate
from workshops.selectors_templates import template_entry
from workshops.services_templates import TemplateError, template_apply, template_import, template_save

pytestmark = pytest.mark.django_db

CASE_TITLES = ["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"]
PLANNING = {"plan-date": "2031-03-04", "plan-time": "13:00", "plan-duration_minutes": "120", "plan-language": "fi"}


@pytest.fixture(autouse=True)
def _english(client):
    """Messages are asserted in English (the msgids), whatever the translations say."""
    client.cookies["kehittamo_language"] = "en"
    with translation.override("en"):
        yield


def workshop_with_cases(count: int, **kwargs) -> Workshop:
    workshop = WorkshopFactory(**kwargs)
    for position, title in enumerate(CASE_TITLES[:count], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    return workshop


def agenda(workshop: Workshop) -> list[tuple]:
    """Everything a phase is, with its case by position, in order."""
    rows = []
    for phase in workshop.phases.select_related("case", "idea_source").prefetch_related("prompts").order_by("position"):
        rows.append(
            (
                phase.kind,
                phase.title,
                phase.duration_minutes,
                phase.instructions,
                tuple(prompt.text for prompt in phase.prompts.all()),
                phase.private_first,
                phase.case.position if phase.case else None,
                phase.idea_max_length,
                phase.ideas_public,
                phase.offers_to_run,
                phase.voting,
                phase.min_appearances,
                phase.dots_per_person,
                phase.idea_source.position if phase.idea_source else None,
            )
        )
    return rows


def upload(content: bytes | str, name: str = "template.json"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    file = io.BytesIO(data)
    file.name = name
    return file


def valid_document(**changes) -> dict:
    document = {
        "format": "kehittamo.workshop-template",
        "version": 1,
        "name": "Verkoston malli",
        "phases": [{"kind": "intro", "title": "Alku", "duration_minutes": 5}],
    }
    document.update(changes)
    return document


def saved_template(user, *, shared: bool = False, name: str = "Oma malli") -> WorkshopTemplate:
    data = json.dumps(valid_document(name=name)).encode()
    return template_import(user=user, data=data, shared=shared)


# --- built-in methods -----------------------------------------------------------------
class TestBuiltins:
    @pytest.mark.parametrize("language", ["fi", "sv", "en"])
    @pytest.mark.parametrize("key", list(builtin.BUILTINS))
    def test_every_builtin_is_a_valid_document_in_every_language(self, key, language):
        with translation.override(language):
            document = methods.validate(builtin.document(key))
        assert document["phases"]
        assert document["survey"]["questions"]

    @pytest.mark.parametrize("key", list(builtin.BUILTINS))
    @pytest.mark.parametrize("cases", [3, 0])
    def test_every_builtin_applies_with_and_without_cases(self, key, cases):
        workshop = workshop_with_cases(cases)
        entry = template_entry(UserFactory(), key)
        document = methods.validate(entry.document())
        per_case = [item for item in document["phases"] if item["per_case"]]
        once = [item for item in document["phases"] if not item["per_case"]]

        phases = template_apply(workshop=workshop, template=entry)

        assert len(phases) == len(once) + len(per_case) * max(cases, 1)
        assert workshop.phases.count() == len(phases)
        assert [phase.position for phase in workshop.phases.order_by("position")] == list(range(1, len(phases) + 1))
        assert not any("{case}" in phase.title or "{case}" in phase.instructions for phase in phases)
        case_phases = [phase for phase in phases if phase.case_id]
        if cases:
            assert len(case_phases) == len(per_case) * cases
            assert [phase.case.title for phase in case_phases][:: max(len(per_case), 1)] == CASE_TITLES[
                : len(case_phases) // max(len(per_case), 1)
            ]
            assert all(phase.case.title in phase.title for phase in case_phases)
        else:
            assert case_phases == []
        expected_prompts = sum(len(item["prompts"]) for item in once) + sum(
            len(item["prompts"]) for item in per_case
        ) * max(cases, 1)
        assert sum(phase.prompts.count() for phase in phases) == expected_prompts
        assert SurveyQuestion.objects.filter(workshop=workshop).count() == len(document["survey"]["questions"])
        assert Survey.objects.get(workshop=workshop).open_days_after == document["survey"]["open_days_after"]
        rotation = Rotation.objects.filter(workshop=workshop).first()
        if document["rotation"]:
            assert (rotation.mode, rotation.min_size, rotation.max_size) == (
                document["rotation"]["mode"],
                4,
                7,
            )
        else:
            assert rotation is None
        for phase in phases:
            if phase.kind == Phase.Kind.PRIORITISATION:
                assert phase.idea_source is not None and phase.idea_source.kind == Phase.Kind.IDEAS
                assert phase.idea_source.position < phase.position

    def test_parastaminen_a_repeats_presentation_and_reflection_per_case(self):
        workshop = workshop_with_cases(3)
        template_apply(workshop=workshop, template=template_entry(UserFactory(), "parastaminen-a"))
        kinds = [(phase.kind, phase.case.position if phase.case else None) for phase in workshop.phases.all()]
        assert kinds[:7] == [
            ("intro", None),
            ("presentation", 1),
            ("reflection", 1),
            ("presentation", 2),
            ("reflection", 2),
            ("presentation", 3),
            ("reflection", 3),
        ]
        reflection = workshop.phases.get(kind="reflection", case__position=2)
        assert reflection.private_first is True
        assert reflection.title.endswith("Kesäseteli")

    def test_strategy_rotates_stations_with_groups_of_four_to_seven(self):
        workshop = workshop_with_cases(3)
        template_apply(workshop=workshop, template=template_entry(UserFactory(), "strategy"))
        rotation = Rotation.objects.get(workshop=workshop)
        assert (rotation.mode, rotation.leaders_stay, rotation.min_size, rotation.max_size) == ("B", "case", 4, 7)
        assert workshop.phases.filter(kind=Phase.Kind.IDEAS).count() == 2

    def test_conference_lets_people_offer_to_run_pop_up_sessions(self):
        workshop = workshop_with_cases(0)
        template_apply(workshop=workshop, template=template_entry(UserFactory(), "conference"))
        pop_up = workshop.phases.get(kind=Phase.Kind.IDEAS, offers_to_run=True)
        dots = workshop.phases.get(kind=Phase.Kind.PRIORITISATION, voting=Phase.Voting.DOTS)
        assert dots.idea_source == pop_up
        assert dots.dots_per_person == 3

    def test_large_event_asks_the_strategy_question_and_prioritises_in_duels(self):
        workshop = workshop_with_cases(0, language="en")
        template_apply(workshop=workshop, template=template_entry(UserFactory(), "large-event"))
        ideas = workshop.phases.get(kind=Phase.Kind.IDEAS)
        assert ideas.title == "Which themes should be central in the next strategy period?"
        assert workshop.phases.get(kind=Phase.Kind.PRIORITISATION).voting == Phase.Voting.PAIRWISE

    def test_builtin_is_written_in_the_workshops_language_not_the_users(self):
        workshop = workshop_with_cases(3, language="fi")
        with translation.override("en"):
            template_apply(workshop=workshop, template=template_entry(UserFactory(), "parastaminen-a"))
        assert workshop.phases.first().title == "Tervetuloa ja johdanto"
        assert "Mitä opin?" in set(Phase.objects.filter(workshop=workshop).values_list("prompts__text", flat=True))

    def test_without_cases_the_per_case_phases_come_once_with_a_notice(self):
        workshop = workshop_with_cases(0)
        phases = template_apply(workshop=workshop, template=template_entry(UserFactory(), "parastaminen-a"))
        presentations = [phase for phase in phases if phase.kind == Phase.Kind.PRESENTATION]
        assert len(presentations) == 1 and presentations[0].case is None
        document = builtin.document("parastaminen-a")
        assert methods.per_case_notice(document, case_count=0)
        assert methods.per_case_notice(document, case_count=3) == ""
        assert methods.per_case_notice(builtin.document("large-event"), case_count=0) == ""


# --- save, export, import, apply ------------------------------------------------------
def customised_workshop(organisation=None) -> Workshop:
    workshop = workshop_with_cases(3, **({"organisation": organisation} if organisation else {}))
    agenda_create_default(workshop=workshop)
    ideas = phase_create(
        workshop=workshop,
        kind=Phase.Kind.IDEAS,
        title="Mitä teemoja painotetaan?",
        duration_minutes=12,
        instructions="- yksi idea kerrallaan",
        idea_max_length=150,
        ideas_public=False,
        offers_to_run=True,
    )
    phase_create(
        workshop=workshop,
        kind=Phase.Kind.PRIORITISATION,
        title="Kumpi on tärkeämpi?",
        duration_minutes=8,
        voting=Phase.Voting.RATING,
        min_appearances=9,
        dots_per_person=4,
        idea_source=ideas,
    )
    phase_create(
        workshop=workshop,
        kind=Phase.Kind.DISCUSSION,
        title="Yhteinen keskustelu",
        duration_minutes=20,
        private_first=True,
        prompts=["Mikä yllätti?", "Mitä seuraavaksi?"],
    )
    rotation_update(
        workshop=workshop,
        data={"mode": "B", "leaders_stay": "group", "min_size": 3, "max_size": 6, "rooms": 5, "round_minutes": 18},
    )
    Survey.objects.create(workshop=workshop, intro="Kiitos!", open_days_after=30)
    SurveyQuestion.objects.create(workshop=workshop, position=1, kind="rating", text="Arvosana?", required=True)
    SurveyQuestion.objects.create(workshop=workshop, position=2, kind="yes_no", text="Uudestaan?")
    return workshop


class TestRoundTrip:
    def test_save_export_import_apply_gives_the_same_agenda(self, client, facilitator):
        source = customised_workshop()
        sign_in(client, facilitator)
        response = client.post(
            reverse("workshops:template_save", kwargs={"workshop_id": source.pk}),
            {"name": "Meidän malli", "description": "Kokeiltu 2025", "shared": "on"},
        )
        assert response.status_code == 302
        saved = WorkshopTemplate.objects.get()
        assert (saved.name, saved.description, saved.created_by, saved.shared) == (
            "Meidän malli",
            "Kokeiltu 2025",
            facilitator,
            True,
        )
        block = [item for item in saved.data["phases"] if item["per_case"]]
        assert [item["kind"] for item in block] == ["presentation", "reflection"]
        assert all(item["title"].endswith(": {case}") for item in block)

        exported = client.get(reverse("workshops:template_export", kwargs={"key": saved.pk}))
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("application/json")
        assert exported["Content-Disposition"] == 'attachment; filename="meidan-malli.json"'
        file_document = json.loads(exported.content)
        assert (file_document["format"], file_document["version"]) == ("kehittamo.workshop-template", 1)

        response = client.post(reverse("workshops:template_import"), {"file": upload(exported.content)})
        assert response.status_code == 302
        imported = WorkshopTemplate.objects.exclude(pk=saved.pk).get()
        assert imported.shared is False

        target = workshop_with_cases(3)
        response = client.post(
            reverse("workshops:template_apply", kwargs={"workshop_id": target.pk}), {"template": str(imported.pk)}
        )
        assert response.status_code == 302
        assert response.url == reverse("facilitation:agenda", kwargs={"workshop_id": target.pk})
        assert agenda(target) == agenda(source)
        rotation = Rotation.objects.get(workshop=target)
        assert (rotation.mode, rotation.leaders_stay, rotation.min_size, rotation.max_size, rotation.rooms) == (
            "B",
            "group",
            3,
            6,
            5,
        )
        assert rotation.round_minutes == 18
        assert Survey.objects.get(workshop=target).intro == "Kiitos!"
        assert list(
            SurveyQuestion.objects.filter(workshop=target).values_list("position", "kind", "text", "required")
        ) == [(1, "rating", "Arvosana?", True), (2, "yes_no", "Uudestaan?", False)]

    def test_per_case_phases_follow_the_cases_of_the_new_workshop(self, facilitator):
        source = customised_workshop()
        saved = template_save(workshop=source, user=facilitator, name="Malli")
        target = WorkshopFactory()
        for position, title in enumerate(["Eka", "Toka"], start=1):
            CaseFactory(workshop=target, position=position, title=title)
        template_apply(workshop=target, template=template_entry(facilitator, str(saved.pk)))
        presentations = list(target.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position"))
        assert [(phase.title, phase.case.title) for phase in presentations] == [
            ("Tapausesimerkki: Eka", "Eka"),
            ("Tapausesimerkki: Toka", "Toka"),
        ]

    def test_case_phases_that_do_not_repeat_keep_their_case_number(self, facilitator):
        workshop = workshop_with_cases(3)
        second = workshop.cases.get(position=2)
        phase_create(workshop=workshop, kind="presentation", title="Vain toinen", duration_minutes=10, case=second)
        saved = template_save(workshop=workshop, user=facilitator, name="Malli")
        assert saved.data["phases"][0]["case"] == 2 and saved.data["phases"][0]["per_case"] is False
        target = workshop_with_cases(3)
        template_apply(workshop=target, template=template_entry(facilitator, str(saved.pk)))
        assert agenda(target) == agenda(workshop)

    def test_saving_a_workshop_without_an_agenda_is_explained(self, client, facilitator):
        workshop = workshop_with_cases(0)
        sign_in(client, facilitator)
        response = client.post(reverse("workshops:template_save", kwargs={"workshop_id": workshop.pk}), {"name": "X"})
        assert response.status_code == 200
        assert "“phases” must be a list of at least one phase." in response.content.decode()
        assert not WorkshopTemplate.objects.exists()


# --- import validation -----------------------------------------------------------------
def _too_many_phases():
    return json.dumps(valid_document(phases=[{"kind": "intro", "title": "x", "duration_minutes": 1}] * 51))


BAD_FILES = {
    "not json": ("{ this is not json", "The file is not valid JSON (line 1, column 3)"),
    "not utf-8": ("Työpaja".encode("latin-1"), "The file is not UTF-8 text"),
    "only spaces": ("   \n", "The file is empty."),
    "not an object": ("[1, 2]", "a JSON object was expected"),
    "wrong format": (json.dumps(valid_document(format="other")), "“format” must be “kehittamo.workshop-template”"),
    "wrong version": (json.dumps(valid_document(version=2)), "The template is version 2, but this Kehittämö reads"),
    "unknown kind": (
        json.dumps(valid_document(phases=[{"kind": "party", "title": "x", "duration_minutes": 5}])),
        "Phase 1: unknown phase kind &quot;party&quot;",
    ),
    "too many phases": (_too_many_phases(), "The template has 51 phases; at most 50 are allowed."),
    "too long title": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "x" * 201, "duration_minutes": 5}])),
        "Phase 1: “title” is 201 characters long; at most 200 fit.",
    ),
    "number out of range": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "x", "duration_minutes": 601}])),
        "Phase 1: “duration_minutes” must be a whole number from 1 to 600; it is 601.",
    ),
    "number as text": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "x", "duration_minutes": "5"}])),
        "“duration_minutes” must be a whole number from 1 to 600",
    ),
    "formula title": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "=HYPERLINK(1)", "duration_minutes": 5}])),
        "Phase 1: “title” starts like a spreadsheet formula",
    ),
    "formula prompt": (
        json.dumps(
            valid_document(phases=[{"kind": "reflection", "title": "x", "duration_minutes": 5, "prompts": ["@x"]}])
        ),
        "Phase 1, question 1: “text” starts like a spreadsheet formula",
    ),
    "formula survey question": (
        json.dumps(valid_document(survey={"questions": [{"kind": "text", "text": "+358"}]})),
        "Feedback survey, question 1: “text” starts like a spreadsheet formula",
    ),
    "unknown field": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "x", "duration_minutes": 5, "colour": 1}])),
        "Phase 1: unknown field “colour”.",
    ),
    "bad idea source": (
        json.dumps(
            valid_document(phases=[{"kind": "prioritisation", "title": "x", "duration_minutes": 5, "idea_source": 1}])
        ),
        "“idea_source” must be the number of an idea collection phase before this one.",
    ),
    "rooms in the wrong order": (
        json.dumps(valid_document(rotation={"min_size": 8, "max_size": 4})),
        "Small-group rounds: the smallest group (“min_size”) cannot be larger than the largest (“max_size”).",
    ),
    "per case on an idea phase": (
        json.dumps(valid_document(phases=[{"kind": "ideas", "title": "x", "duration_minutes": 5, "per_case": True}])),
        "phases can repeat for each case.",
    ),
    "control characters": (
        json.dumps(valid_document(phases=[{"kind": "intro", "title": "a\u0000b", "duration_minutes": 5}])),
        "Phase 1: “title” contains control characters.",
    ),
    "deep nesting": ("[" * 100000 + "]" * 100000, "The file is"),
}


class TestImportValidation:
    @pytest.mark.parametrize("case", list(BAD_FILES))
    def test_each_bad_file_gets_its_own_message_and_nothing_is_saved(self, client, facilitator, case):
        content, message = BAD_FILES[case]
        sign_in(client, facilitator)
        response = client.post(reverse("workshops:template_import"), {"file": upload(content)})
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not WorkshopTemplate.objects.exists()

    def test_a_file_over_256_kb_is_refused(self, client, facilitator):
        sign_in(client, facilitator)
        big = json.dumps(valid_document(description="x" * (257 * 1024)))
        response = client.post(reverse("workshops:template_import"), {"file": upload(big)})
        assert "The file is too big: at most 256 KB." in response.content.decode()
        assert not WorkshopTemplate.objects.exists()
        with pytest.raises(methods.DocumentError, match="too big"):
            methods.parse(big.encode())

    def test_every_problem_is_listed_at_once(self):
        bad = valid_document(
            name="",
            phases=[
                {"kind": "intro", "title": "", "duration_minutes": 0},
                {"kind": "ideas", "title": "x", "duration_minutes": 5, "idea_max_length": 5, "ideas_public": "yes"},
            ],
        )
        with pytest.raises(methods.DocumentError) as error:
            methods.validate(bad)
        assert len(error.value.errors) == 5
        assert "Phase 2: “ideas_public” must be true or false." in error.value.errors

    def test_a_good_file_is_saved_in_canonical_form(self, facilitator):
        template = template_import(user=facilitator, data=json.dumps(valid_document()).encode("utf-8-sig"))
        phase = template.data["phases"][0]
        assert phase == {
            "kind": "intro",
            "title": "Alku",
            "duration_minutes": 5,
            "instructions": "",
            "prompts": [],
            "private_first": False,
            "per_case": False,
            "case": None,
        }
        assert template.data["rotation"] is None and template.data["survey"] is None


# --- visibility ---------------------------------------------------------------------------
class TestVisibility:
    def test_own_shared_and_other_organisations_templates(self, client, contact_person, outsider):
        colleague = ContactPersonFactory(organisation=contact_person.organisation)
        shared = saved_template(contact_person, shared=True, name="Jaettu")
        private = saved_template(contact_person, name="Yksityinen")
        other = saved_template(outsider, shared=True, name="Muualta")

        sign_in(client, colleague)
        page = client.get(reverse("workshops:template_library")).content.decode()
        assert "Jaettu" in page and "Yksityinen" not in page and "Muualta" not in page
        assert "Parastaminen A: plenary, then rotating groups" in page
        export = "workshops:template_export"
        assert client.get(reverse(export, kwargs={"key": shared.pk})).status_code == 200
        assert client.get(reverse(export, kwargs={"key": private.pk})).status_code == 404
        assert client.get(reverse(export, kwargs={"key": other.pk})).status_code == 404
        assert client.get(reverse(export, kwargs={"key": "no-such-method"})).status_code == 404
        # a colleague may use a shared template, but not delete it
        assert client.get(reverse("workshops:template_delete", kwargs={"template_id": shared.pk})).status_code == 403
        assert client.post(reverse("workshops:template_delete", kwargs={"template_id": other.pk})).status_code == 404
        assert WorkshopTemplate.objects.count() == 3

    def test_platform_facilitators_see_every_shared_template_and_their_own(self, client, facilitator, contact_person):
        saved_template(contact_person, shared=True, name="Jaettu")
        saved_template(contact_person, name="Yksityinen")
        saved_template(facilitator, name="Fannin oma")
        saved_template(FacilitatorFactory(), name="Toisen fasilitaattorin")
        sign_in(client, facilitator)
        page = client.get(reverse("workshops:template_library")).content.decode()
        assert "Jaettu" in page and "Fannin oma" in page
        assert "Yksityinen" not in page and "Toisen fasilitaattorin" not in page

    def test_creator_deletes_after_confirming(self, client, contact_person):
        template = saved_template(contact_person)
        sign_in(client, contact_person)
        url = reverse("workshops:template_delete", kwargs={"template_id": template.pk})
        confirm = client.get(url)
        assert confirm.status_code == 200 and "Delete the template?" in confirm.content.decode()
        assert WorkshopTemplate.objects.exists()
        assert client.post(url).status_code == 302
        assert not WorkshopTemplate.objects.exists()

    def test_library_lists_phases_and_duration(self, client, facilitator):
        sign_in(client, facilitator)
        page = client.get(reverse("workshops:template_library")).content.decode()
        assert page.count('class="card template-card"') == len(builtin.BUILTINS)
        assert page.count("Use for a new workshop") == len(builtin.BUILTINS)
        assert "Duration: 60 min + 20 min for each case" in page  # Parastaminen A
        assert "Duration: 50 min" in page  # the large event
        assert "Which themes should be central in the next strategy period?" in page

    def test_library_query_count_does_not_grow_with_templates(self, client, facilitator, django_assert_max_num_queries):
        sign_in(client, facilitator)
        saved_template(facilitator, name="Yksi")
        with django_assert_max_num_queries(12) as one:
            client.get(reverse("workshops:template_library"))
        for number in range(19):
            saved_template(facilitator, name=f"Malli {number}")
        with django_assert_max_num_queries(len(one.captured_queries)):
            response = client.get(reverse("workshops:template_library"))
        assert len(response.context["saved"]) == 20

    def test_many_templates_are_paginated(self, client, facilitator):
        for number in range(25):
            saved_template(facilitator, name=f"Malli {number:02d}")
        sign_in(client, facilitator)
        second = client.get(reverse("workshops:template_library"), {"page": 2})
        assert [entry.name for entry in second.context["saved"]] == [f"Malli {n}" for n in range(20, 25)]


# --- roles ---------------------------------------------------------------------------------
class TestPermissions:
    @pytest.mark.parametrize(
        "name,kwargs",
        [
            ("template_library", {}),
            ("template_import", {}),
            ("template_export", {"key": "parastaminen-a"}),
            ("template_save", {"workshop_id": 1}),
            ("template_apply", {"workshop_id": 1}),
        ],
    )
    def test_anonymous_and_guest_participants_are_sent_to_log_in(self, client, participant, name, kwargs):
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))  # a guest session
        response = client.get(reverse(f"workshops:{name}", kwargs=kwargs))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    def test_outsider_and_participant_with_an_account_get_404_for_the_workshop(self, client, workshop, outsider):
        member = UserFactory()
        ParticipantFactory(workshop=workshop, user=member)
        for user in (outsider, member):
            client.force_login(user)
            for name in ("template_save", "template_apply"):
                url = reverse(f"workshops:{name}", kwargs={"workshop_id": workshop.pk})
                assert client.get(url).status_code == 404
                assert client.post(url, {"name": "x", "template": "large-event"}).status_code == 404
        assert not WorkshopTemplate.objects.exists()
        assert not workshop.phases.exists()

    def test_contact_person_saves_their_workshop_but_the_facilitator_applies(self, client, workshop, contact_person):
        agenda_create_default(workshop=workshop)
        sign_in(client, contact_person)
        save_url = reverse("workshops:template_save", kwargs={"workshop_id": workshop.pk})
        assert client.post(save_url, {"name": "Meidän tapa", "shared": "on"}).status_code == 302
        template = WorkshopTemplate.objects.get()
        assert (template.organisation, template.shared) == (contact_person.organisation, True)
        apply_url = reverse("workshops:template_apply", kwargs={"workshop_id": workshop.pk})
        assert client.get(apply_url).status_code == 403
        library = client.get(reverse("workshops:template_library")).content.decode()
        assert "Meidän tapa" in library and "Use for a new workshop" not in library

    def test_user_without_organisation_cannot_share(self, client, plain_user):
        sign_in(client, plain_user)
        response = client.post(
            reverse("workshops:template_import"), {"file": upload(json.dumps(valid_document())), "shared": "on"}
        )
        assert response.status_code == 302
        assert WorkshopTemplate.objects.get().shared is False


# --- applying to an existing workshop -----------------------------------------------------------
class TestApply:
    def test_apply_page_lists_templates_and_applies(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        url = reverse("workshops:template_apply", kwargs={"workshop_id": workshop.pk})
        page = client.get(url).content.decode()
        assert 'value="parastaminen-b"' in page and "Replace the current agenda" not in page
        response = client.post(url, {"template": "parastaminen-b"}, follow=True)
        assert workshop.phases.count() == 5
        assert Rotation.objects.get(workshop=workshop).mode == Rotation.Mode.STATIONS
        assert response.redirect_chain[-1][0] == reverse("facilitation:agenda", kwargs={"workshop_id": workshop.pk})

    def test_replacing_an_agenda_must_be_confirmed(self, client, facilitator, workshop):
        agenda_create_default(workshop=workshop)
        before = agenda(workshop)
        sign_in(client, facilitator)
        url = reverse("workshops:template_apply", kwargs={"workshop_id": workshop.pk})
        response = client.post(url, {"template": "large-event"})
        assert response.status_code == 200
        assert "Tick this to confirm that the current agenda is replaced." in response.content.decode()
        assert agenda(workshop) == before
        client.post(url, {"template": "large-event", "replace": "on"})
        assert [phase.kind for phase in workshop.phases.all()] == [
            "intro",
            "ideas",
            "prioritisation",
            "discussion",
            "feedback",
        ]

    def test_an_agenda_people_wrote_in_is_not_replaced(self, client, facilitator, workshop):
        phases = agenda_create_default(workshop=workshop)
        Comment.objects.create(
            client_id=uuid.uuid4(), workshop=workshop, phase=phases[1], text="Hyvä idea", language="fi"
        )
        before = agenda(workshop)
        sign_in(client, facilitator)
        url = reverse("workshops:template_apply", kwargs={"workshop_id": workshop.pk})
        response = client.post(url, {"template": "large-event", "replace": "on"})
        assert response.status_code == 200
        assert "People have already written in this agenda" in response.content.decode()
        assert agenda(workshop) == before

    def test_answered_survey_is_not_replaced_and_nothing_changes(self, facilitator, workshop):
        FeedbackResponse.objects.create(workshop=workshop, language="fi", submitted_on="2030-01-01")
        with pytest.raises(TemplateError):
            template_apply(workshop=workshop, template=template_entry(facilitator, "parastaminen-a"))
        assert not workshop.phases.exists()

    def test_a_closed_workshop_is_not_changed(self, facilitator, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(status=Workshop.Status.CLOSED)
        with pytest.raises(TemplateError):
            template_apply(workshop=workshop, template=template_entry(facilitator, "parastaminen-a"))
        assert not workshop.phases.exists()

    def test_someone_elses_private_template_cannot_be_applied(self, client, facilitator, workshop, contact_person):
        private = saved_template(contact_person)
        sign_in(client, facilitator)
        url = reverse("workshops:template_apply", kwargs={"workshop_id": workshop.pk})
        response = client.post(url, {"template": str(private.pk)})
        assert response.status_code == 200
        assert "Choose one of the templates in the list." in response.content.decode()
        assert not workshop.phases.exists()


# --- the creation flow ------------------------------------------------------------------------------
class TestCreateFromTemplate:
    def test_facilitator_creates_a_workshop_from_a_template(self, client, facilitator):
        sign_in(client, facilitator)
        data = {**REGISTRATION, **PLANNING, "tpl-template": "large-event"}
        response = client.post(reverse("workshops:create"), data, follow=True)
        workshop = Workshop.objects.get(title="Strategia käytäntöön")
        assert workshop.status == Workshop.Status.PLANNED
        assert [phase.kind for phase in workshop.phases.all()] == [
            "intro",
            "ideas",
            "prioritisation",
            "discussion",
            "feedback",
        ]
        assert SurveyQuestion.objects.filter(workshop=workshop).count() == 4
        assert "The agenda was made from" in response.content.decode()

    def test_a_per_case_template_without_cases_gives_the_notice(self, client, facilitator):
        sign_in(client, facilitator)
        data = {**REGISTRATION, **PLANNING, "tpl-template": "parastaminen-a"}
        response = client.post(reverse("workshops:create"), data, follow=True)
        assert "The workshop has no cases yet" in response.content.decode()
        assert Workshop.objects.get().phases.filter(kind=Phase.Kind.PRESENTATION, case=None).count() == 1

    def test_without_a_template_the_agenda_stays_empty(self, client, facilitator):
        sign_in(client, facilitator)
        client.post(reverse("workshops:create"), {**REGISTRATION, **PLANNING, "tpl-template": ""})
        assert not Workshop.objects.get().phases.exists()

    def test_the_library_link_preselects_the_template(self, client, facilitator):
        saved = saved_template(facilitator, name="Oma pohja")
        sign_in(client, facilitator)
        page = client.get(reverse("workshops:create"), {"template": saved.pk}).content.decode()
        assert f'<option value="{saved.pk}" selected>Oma pohja</option>' in page
        assert "Start from a template" in page

    def test_an_unknown_template_is_a_form_error_and_nothing_is_saved(self, client, facilitator, contact_person):
        private = saved_template(contact_person)
        sign_in(client, facilitator)
        for value in ("no-such-method", str(private.pk)):
            response = client.post(reverse("workshops:create"), {**REGISTRATION, **PLANNING, "tpl-template": value})
            assert response.status_code == 200
            assert "Choose one of the templates in the list." in response.content.decode()
        assert not Workshop.objects.exists()

    def test_a_broken_saved_template_rolls_the_whole_creation_back(self, client, facilitator):
        saved = saved_template(facilitator)
        WorkshopTemplate.objects.filter(pk=saved.pk).update(data={"format": "nonsense"})
        sign_in(client, facilitator)
        response = client.post(reverse("workshops:create"), {**REGISTRATION, **PLANNING, "tpl-template": saved.pk})
        assert response.status_code == 200
        assert "This is not a Kehittämö workshop template" in response.content.decode()
        assert not Workshop.objects.exists()
