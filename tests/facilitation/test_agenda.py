"""The agenda editor: facilitators list, add, edit, move and remove phases; the role matrix; query counts."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilitation.models import LiveState, Phase, Prompt
from tests.accounts.factories import PASSWORD
from tests.facilitation.factories import CommentFactory, PhaseFactory, PromptFactory
from tests.workshops.factories import CaseFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def sign_in(client, user):
    in_english(client)
    assert client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}).status_code == 302


def url(name: str, workshop, phase=None) -> str:
    kwargs = {"workshop_id": workshop.pk}
    if phase is not None:
        kwargs["phase_id"] = phase.pk
    return reverse(f"facilitation:{name}", kwargs=kwargs)


def titles(workshop) -> list[str]:
    return list(Phase.objects.filter(workshop=workshop).order_by("position", "id").values_list("title", flat=True))


def prompt_texts(phase) -> list[str]:
    return list(phase.prompts.order_by("position", "id").values_list("text", flat=True))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


PHASE = {
    "kind": "discussion",
    "title": "Keskustelu pienryhmissä",
    "duration_minutes": "20",
    "case": "",
    "instructions": "- Kuunnellaan ensin.\n- Sitten kirjoitetaan.",
    "prompts": "Mikä toimii?\n\n  Mitä   kehittäisit?  \n",
    "private_first": "",
}


@pytest.fixture
def signed_in(client, facilitator):
    sign_in(client, facilitator)
    return client


class TestAgendaPage:
    def test_lists_phases_in_order_with_case_prompts_and_total(self, signed_in, workshop):
        case = workshop.cases.get(title="Kesäseteli")
        presentation = PhaseFactory(workshop=workshop, position=2, kind="presentation", title="Esittely", case=case)
        PromptFactory(phase=presentation, position=1, text="Mitä opin?")
        PhaseFactory(workshop=workshop, position=1, kind="intro", title="Tervetuloa", duration_minutes=15)
        response = signed_in.get(url("agenda", workshop))
        assert response.status_code == 200
        assert [phase.title for phase in response.context["phases"]] == ["Tervetuloa", "Esittely"]
        html = response.content.decode()
        assert html.index("Tervetuloa") < html.index("Esittely")
        assert "Kesäseteli" in html and "Mitä opin?" in html
        assert "Planned in all: 25 minutes." in html
        assert "longer than the workshop" not in html
        assert url("phase_edit", workshop, presentation) in html
        assert url("phase_new", workshop) in html

    def test_says_when_the_agenda_is_longer_than_the_workshop(self, signed_in, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(duration_minutes=60)
        PhaseFactory(workshop=workshop, duration_minutes=45)
        PhaseFactory(workshop=workshop, duration_minutes=30)
        html = signed_in.get(url("agenda", workshop)).content.decode()
        assert "Planned in all: 75 minutes." in html
        assert "The workshop lasts 60 minutes." in html
        assert "The agenda is 15 minutes longer than the workshop." in html

    def test_empty_agenda_offers_the_default(self, signed_in, workshop):
        workshop.cases.all().delete()  # nothing to build the Parastaminen agenda from yet
        html = signed_in.get(url("agenda", workshop)).content.decode()
        assert url("agenda_default", workshop) in html
        assert "Create the default agenda" in html
        assert not workshop.phases.exists()

    def test_a_parastaminen_workshop_with_cases_gets_its_agenda_automatically(self, signed_in, workshop):
        response = signed_in.get(url("agenda", workshop))
        kinds = list(workshop.phases.values_list("kind", flat=True))
        assert kinds[:3] == [Phase.Kind.INTRO, Phase.Kind.PRESENTATION, Phase.Kind.REFLECTION] and len(kinds) == 10
        made = "The Parastaminen agenda was made from the workshop's cases. Adjust it as you like."
        assert made in messages_of(response)
        signed_in.get(url("agenda", workshop))
        assert workshop.phases.count() == 10  # only once

    def test_a_large_event_is_not_given_an_agenda_unasked(self, signed_in, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(format=Workshop.Format.LARGE_EVENT)
        signed_in.get(url("agenda", workshop))
        assert not workshop.phases.exists()

    def test_move_buttons_name_their_phase(self, signed_in, workshop):
        PhaseFactory(workshop=workshop, position=1, title="Alku")
        PhaseFactory(workshop=workshop, position=2, title="Loppu")
        html = signed_in.get(url("agenda", workshop)).content.decode()
        assert 'Move down<span class="visually-hidden">: Alku</span>' in html
        assert 'Move up<span class="visually-hidden">: Loppu</span>' in html
        # the first cannot move up and the last cannot move down
        assert 'Move up<span class="visually-hidden">: Alku</span>' not in html
        assert 'Move down<span class="visually-hidden">: Loppu</span>' not in html

    def test_query_count_does_not_grow_with_phases(self, client, facilitator):
        sign_in(client, facilitator)

        def count_for(phases: int) -> int:
            workshop = WorkshopFactory()
            cases = [CaseFactory(workshop=workshop) for _ in range(3)]
            for n in range(phases):
                phase = PhaseFactory(workshop=workshop, kind="reflection", case=cases[n % 3])
                PromptFactory(phase=phase)
                PromptFactory(phase=phase)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url("agenda", workshop))
            assert response.status_code == 200
            assert len(response.context["phases"]) == phases
            return len(queries)

        assert count_for(2) == count_for(20)


class TestPhaseCreateAndEdit:
    def test_facilitator_adds_a_phase_at_the_end(self, signed_in, workshop):
        PhaseFactory(workshop=workshop, title="Tervetuloa")
        response = signed_in.post(url("phase_new", workshop), PHASE)
        phase = Phase.objects.get(title="Keskustelu pienryhmissä")
        assert response.status_code == 302
        assert response.url == url("agenda", workshop) + f"#phase-{phase.pk}"
        assert titles(workshop) == ["Tervetuloa", "Keskustelu pienryhmissä"]
        assert phase.duration_minutes == 20
        assert phase.instructions.startswith("- Kuunnellaan")  # instructions are not spreadsheet cells
        assert prompt_texts(phase) == ["Mikä toimii?", "Mitä kehittäisit?"]

    def test_form_page_renders_with_the_workshops_cases_only(self, signed_in, workshop):
        other = CaseFactory(title="Naapurin tapaus")
        response = signed_in.get(url("phase_new", workshop))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Kirjasto olohuoneena" in html
        assert other.title not in html

    def test_presentation_is_saved_with_its_case(self, signed_in, workshop):
        case = workshop.cases.get(title="Aamupalaveri")
        signed_in.post(url("phase_new", workshop), {**PHASE, "kind": "presentation", "case": case.pk})
        assert Phase.objects.get(workshop=workshop).case == case

    def test_edit_shows_prompts_one_per_line_and_saves_them_in_place(self, signed_in, workshop):
        phase = PhaseFactory(workshop=workshop, kind="reflection", title="Pohdinta")
        first = PromptFactory(phase=phase, position=1, text="Mitä opin?")
        second = PromptFactory(phase=phase, position=2, text="Mikä olisi hyödyksi?")
        form = signed_in.get(url("phase_edit", workshop, phase)).context["form"]
        assert form.initial["prompts"] == "Mitä opin?\nMikä olisi hyödyksi?"
        data = {**PHASE, "kind": "reflection", "title": "Oma pohdinta", "prompts": "Mitä opin tänään?\nMikä yllätti?"}
        response = signed_in.post(url("phase_edit", workshop, phase), data)
        assert response.status_code == 302
        phase.refresh_from_db()
        assert phase.title == "Oma pohdinta"
        assert list(phase.prompts.order_by("position").values_list("pk", "text")) == [
            (first.pk, "Mitä opin tänään?"),
            (second.pk, "Mikä yllätti?"),
        ]

    def test_removing_an_answered_prompt_is_refused_and_nothing_changes(self, signed_in, workshop):
        phase = PhaseFactory(workshop=workshop, kind="reflection", title="Pohdinta", duration_minutes=5)
        PromptFactory(phase=phase, position=1, text="Mitä opin?")
        answered = PromptFactory(phase=phase, position=2, text="Mikä olisi hyödyksi?")
        CommentFactory(phase=phase, prompt=answered)
        data = {**PHASE, "kind": "reflection", "title": "Uusi nimi", "duration_minutes": "7", "prompts": "Mitä opin?"}
        response = signed_in.post(url("phase_edit", workshop, phase), data)
        assert response.status_code == 200
        assert "already has answers and cannot be removed" in " ".join(response.context["form"].errors["prompts"])
        assert 'aria-describedby="id_prompts_errors' in response.content.decode()
        phase.refresh_from_db()
        assert (phase.title, phase.duration_minutes) == ("Pohdinta", 5)
        assert prompt_texts(phase) == ["Mitä opin?", "Mikä olisi hyödyksi?"]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"kind": "presentation", "case": ""}, "case"),
            ({"duration_minutes": "0"}, "duration_minutes"),
            ({"duration_minutes": "601"}, "duration_minutes"),
            ({"prompts": "\n".join(f"Kysymys {n}?" for n in range(11))}, "prompts"),
            ({"prompts": "x" * 301}, "prompts"),
            ({"prompts": "Hyvä kysymys\n=HYPERLINK(1)"}, "prompts"),
            ({"title": "=SUM(A1)"}, "title"),
            ({"title": ""}, "title"),
        ],
    )
    def test_bad_input_is_explained_and_nothing_is_saved(self, signed_in, workshop, changes, field):
        response = signed_in.post(url("phase_new", workshop), {**PHASE, **changes})
        assert response.status_code == 200
        assert field in response.context["form"].errors
        html = response.content.decode()
        assert 'class="error-summary"' in html
        assert f'href="#id_{field}"' in html
        assert not Phase.objects.filter(workshop=workshop).exists()
        assert not Prompt.objects.exists()

    def test_a_case_of_another_workshop_is_refused(self, signed_in, workshop):
        other = CaseFactory()
        response = signed_in.post(url("phase_new", workshop), {**PHASE, "kind": "presentation", "case": other.pk})
        assert "Choose one of this workshop's cases." in " ".join(response.context["form"].errors["case"])
        assert not Phase.objects.exists()

    def test_a_presentation_without_a_case_says_why(self, signed_in, workshop):
        response = signed_in.post(url("phase_new", workshop), {**PHASE, "kind": "presentation"})
        assert "A case presentation needs a case" in " ".join(response.context["form"].errors["case"])

    def test_edit_with_bad_input_keeps_the_phase(self, signed_in, workshop):
        phase = PhaseFactory(workshop=workshop, title="Tervetuloa", duration_minutes=10)
        response = signed_in.post(url("phase_edit", workshop, phase), {**PHASE, "duration_minutes": "0"})
        assert response.status_code == 200
        phase.refresh_from_db()
        assert (phase.title, phase.duration_minutes) == ("Tervetuloa", 10)


class TestMoveAndDelete:
    @pytest.fixture
    def three(self, workshop):
        return [PhaseFactory(workshop=workshop, position=n, title=title) for n, title in enumerate("ABC", start=1)]

    def test_move_down_and_up(self, signed_in, workshop, three):
        a, _b, c = three
        response = signed_in.post(url("phase_move", workshop, a), {"direction": "down"})
        assert response.url == url("agenda", workshop) + f"#phase-{a.pk}"
        assert titles(workshop) == ["B", "A", "C"]
        signed_in.post(url("phase_move", workshop, c), {"direction": "up"})
        assert titles(workshop) == ["B", "C", "A"]
        assert list(
            Phase.objects.filter(workshop=workshop).order_by("position").values_list("position", flat=True)
        ) == [
            1,
            2,
            3,
        ]

    def test_moving_past_the_ends_changes_nothing(self, signed_in, workshop, three):
        a, _b, c = three
        signed_in.post(url("phase_move", workshop, a), {"direction": "up"})
        signed_in.post(url("phase_move", workshop, c), {"direction": "down"})
        assert titles(workshop) == ["A", "B", "C"]

    def test_unknown_direction_is_an_error_message(self, signed_in, workshop, three):
        response = signed_in.post(url("phase_move", workshop, three[0]), {"direction": "sideways"}, follow=True)
        assert "Choose whether to move the phase up or down." in messages_of(response)
        assert titles(workshop) == ["A", "B", "C"]

    def test_delete_asks_first_then_removes_and_renumbers(self, signed_in, workshop, three):
        _a, b, c = three
        response = signed_in.get(url("phase_delete", workshop, b))
        assert response.status_code == 200
        assert "“B” will be removed." in response.content.decode()
        assert titles(workshop) == ["A", "B", "C"]
        response = signed_in.post(url("phase_delete", workshop, b), follow=True)
        assert "The phase “B” was removed." in messages_of(response)
        assert titles(workshop) == ["A", "C"]
        c.refresh_from_db()
        assert c.position == 2

    def test_delete_is_refused_when_people_have_written(self, signed_in, workshop, three):
        CommentFactory(phase=three[1])
        response = signed_in.post(url("phase_delete", workshop, three[1]), follow=True)
        assert response.redirect_chain[-1][0].startswith(url("agenda", workshop))
        levels = {str(message): message.level_tag for message in response.context["messages"]}
        assert levels["People have already written in this phase, so it cannot be removed."] == "error"
        assert titles(workshop) == ["A", "B", "C"]

    def test_delete_is_refused_for_the_running_phase(self, signed_in, workshop, three):
        LiveState.objects.create(workshop=workshop, current_phase=three[0])
        response = signed_in.post(url("phase_delete", workshop, three[0]), follow=True)
        assert "This phase is running now; move to another phase first." in messages_of(response)
        assert titles(workshop) == ["A", "B", "C"]


class TestDefaultAgenda:
    def test_parastaminen_gets_presentation_and_reflection_per_case(self, signed_in, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(format=Workshop.Format.PARASTAMINEN_A, language="en")
        response = signed_in.post(url("agenda_default", workshop))
        assert response.status_code == 302
        phases = list(agenda_of(workshop))
        kinds = [phase.kind for phase in phases]
        assert kinds == ["intro"] + ["presentation", "reflection"] * 3 + ["rounds", "wrap_up", "feedback"]
        cases = list(workshop.cases.order_by("position"))
        assert [phase.case for phase in phases[1:7]] == [cases[0], cases[0], cases[1], cases[1], cases[2], cases[2]]
        for reflection in phases[2:7:2]:
            assert prompt_texts(reflection) == ["What did I learn?", "What could be useful in my own work?"]
        assert all(not phase.prompts.exists() for phase in phases if phase.kind != "reflection")
        assert [phase.position for phase in phases] == list(range(1, 11))

    def test_large_event_collects_ideas_instead_of_rounds(self, signed_in, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(format=Workshop.Format.LARGE_EVENT)
        signed_in.post(url("agenda_default", workshop))
        kinds = [phase.kind for phase in agenda_of(workshop)]
        assert kinds == ["intro", "presentation", "presentation", "presentation", "discussion", "wrap_up", "feedback"]

    def test_is_written_in_the_workshops_language(self, signed_in, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(language="en")
        signed_in.post(url("agenda_default", workshop))
        assert agenda_of(workshop)[1].title == "Case: Aamupalaveri"

    def test_a_second_press_adds_nothing(self, signed_in, workshop):
        signed_in.post(url("agenda_default", workshop))
        count = Phase.objects.filter(workshop=workshop).count()
        response = signed_in.post(url("agenda_default", workshop), follow=True)
        assert Phase.objects.filter(workshop=workshop).count() == count
        assert "The agenda already has phases, so the default agenda was not added." in messages_of(response)

    def test_not_added_to_an_agenda_that_has_phases(self, signed_in, workshop):
        PhaseFactory(workshop=workshop, title="Oma vaihe")
        signed_in.post(url("agenda_default", workshop))
        assert titles(workshop) == ["Oma vaihe"]


def agenda_of(workshop) -> list[Phase]:
    return list(Phase.objects.filter(workshop=workshop).order_by("position", "id"))


# --- the role matrix --------------------------------------------------------------
GET_PAGES = ["agenda", "phase_new", "phase_edit", "phase_delete"]
POST_ONLY = ["phase_move", "agenda_default"]
WITH_PHASE = {"phase_edit", "phase_delete", "phase_move"}


def _url_for(name: str, workshop, phase) -> str:
    return url(name, workshop, phase if name in WITH_PHASE else None)


class TestPermissions:
    @pytest.fixture
    def phase(self, workshop):
        return PhaseFactory(workshop=workshop, title="Tervetuloa")

    @pytest.mark.parametrize("name", GET_PAGES + POST_ONLY)
    def test_anonymous_is_sent_to_log_in(self, client, workshop, phase, name):
        method = client.post if name in POST_ONLY else client.get
        response = method(_url_for(name, workshop, phase))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    @pytest.mark.parametrize("name", GET_PAGES + POST_ONLY)
    def test_outsider_gets_404(self, client, outsider, workshop, phase, name):
        sign_in(client, outsider)
        method = client.post if name in POST_ONLY else client.get
        assert method(_url_for(name, workshop, phase), {"direction": "down"}).status_code == 404

    @pytest.mark.parametrize("name", GET_PAGES + POST_ONLY)
    def test_own_contact_person_gets_403(self, client, contact_person, workshop, phase, name):
        sign_in(client, contact_person)
        method = client.post if name in POST_ONLY else client.get
        assert method(_url_for(name, workshop, phase), {"direction": "down"}).status_code == 403

    def test_contact_person_cannot_write(self, client, contact_person, workshop, phase):
        sign_in(client, contact_person)
        assert client.post(url("phase_new", workshop), PHASE).status_code == 403
        assert client.post(url("phase_edit", workshop, phase), PHASE).status_code == 403
        assert client.post(url("phase_delete", workshop, phase)).status_code == 403
        assert titles(workshop) == ["Tervetuloa"]

    @pytest.mark.parametrize("name", ["phase_edit", "phase_delete", "phase_move"])
    def test_phase_of_another_workshop_is_404(self, signed_in, workshop, name):
        foreign = PhaseFactory(title="Vieras", position=1)
        PhaseFactory(workshop=foreign.workshop, title="Toinen", position=2)
        if name != "phase_move":
            assert signed_in.get(url(name, workshop, foreign)).status_code == 404
        assert signed_in.post(url(name, workshop, foreign), {**PHASE, "direction": "down"}).status_code == 404
        foreign.refresh_from_db()
        assert (foreign.title, foreign.position) == ("Vieras", 1)

    @pytest.mark.parametrize("name", POST_ONLY)
    def test_post_only_actions_refuse_get(self, signed_in, workshop, phase, name):
        assert signed_in.get(_url_for(name, workshop, phase)).status_code == 405
        assert titles(workshop) == ["Tervetuloa"]


# --- the pages that link to the agenda -------------------------------------------
class TestLinksAndLobby:
    def test_manage_page_links_the_agenda_and_live_control_for_facilitators(self, signed_in, workshop):
        html = signed_in.get(reverse("workshops:manage", kwargs={"workshop_id": workshop.pk})).content.decode()
        assert url("agenda", workshop) in html
        assert url("control", workshop) in html
        assert url("join_screen", workshop) in html

    def test_contact_person_sees_no_facilitator_links(self, client, contact_person, workshop):
        sign_in(client, contact_person)
        html = client.get(reverse("workshops:manage", kwargs={"workshop_id": workshop.pk})).content.decode()
        assert url("agenda", workshop) not in html
        assert url("control", workshop) not in html
        assert url("join_screen", workshop) not in html

    def test_lobby_shows_the_programme_in_order(self, client, participant, workshop):
        PhaseFactory(workshop=workshop, position=2, title="Pienryhmät", duration_minutes=45)
        PhaseFactory(workshop=workshop, position=1, title="Tervetuloa", duration_minutes=1)
        in_english(client)
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))
        html = client.get(reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk})).content.decode()
        assert "<h2>Programme</h2>" in html
        assert "Tervetuloa (1 minute)" in html
        assert html.index("Tervetuloa") < html.index("Pienryhmät")

    def test_lobby_without_phases_has_no_programme(self, client, participant, workshop):
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))
        html = client.get(reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk})).content.decode()
        assert 'class="programme"' not in html
