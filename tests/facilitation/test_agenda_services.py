"""Agenda services: moving at the edges, prompts that have answers, the default agenda only once."""

from __future__ import annotations

import pytest

from facilitation.models import Phase, Prompt
from facilitation.services import (
    LiveError,
    agenda_create_default,
    phase_create,
    phase_delete,
    phase_move,
    phase_update,
)
from tests.facilitation.factories import CommentFactory, PhaseFactory, PromptFactory
from tests.workshops.factories import WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db


def titles(workshop) -> list[str]:
    return list(Phase.objects.filter(workshop=workshop).order_by("position", "id").values_list("title", flat=True))


def positions(workshop) -> list[int]:
    return list(Phase.objects.filter(workshop=workshop).order_by("position", "id").values_list("position", flat=True))


def texts(phase) -> list[str]:
    return list(phase.prompts.order_by("position", "id").values_list("text", flat=True))


@pytest.fixture
def agenda(workshop):
    return [PhaseFactory(workshop=workshop, position=n, title=title) for n, title in enumerate("ABC", start=1)]


class TestPhaseMove:
    def test_first_up_and_last_down_are_no_ops(self, workshop, agenda):
        a, _b, c = agenda
        phase_move(phase=a, offset=-1)
        phase_move(phase=c, offset=1)
        assert titles(workshop) == ["A", "B", "C"]
        assert positions(workshop) == [1, 2, 3]

    def test_swaps_with_the_neighbour(self, workshop, agenda):
        _a, b, _c = agenda
        phase_move(phase=b, offset=-1)
        assert titles(workshop) == ["B", "A", "C"]
        phase_move(phase=b, offset=1)
        phase_move(phase=b, offset=1)
        assert titles(workshop) == ["A", "C", "B"]
        assert positions(workshop) == [1, 2, 3]

    def test_a_single_phase_stays(self, workshop):
        only = PhaseFactory(workshop=workshop, position=1, title="Ainoa")
        phase_move(phase=only, offset=-1)
        phase_move(phase=only, offset=1)
        only.refresh_from_db()
        assert only.position == 1

    def test_gaps_and_ties_in_positions_are_closed(self, workshop):
        # older data may have equal or missing positions; order is then position, id
        first = PhaseFactory(workshop=workshop, position=5, title="A")
        PhaseFactory(workshop=workshop, position=5, title="B")
        PhaseFactory(workshop=workshop, position=9, title="C")
        phase_move(phase=first, offset=1)
        assert titles(workshop) == ["B", "A", "C"]
        assert positions(workshop) == [1, 2, 3]

    def test_other_workshops_are_untouched(self, workshop, agenda):
        other = PhaseFactory(position=1, title="Muualla")
        PhaseFactory(workshop=other.workshop, position=2, title="Muualla 2")
        phase_move(phase=agenda[0], offset=1)
        assert titles(other.workshop) == ["Muualla", "Muualla 2"]


class TestPrompts:
    def test_create_normalises_whitespace_and_drops_empty_lines(self, workshop):
        phase = phase_create(
            workshop=workshop,
            kind=Phase.Kind.REFLECTION,
            title="Pohdinta",
            duration_minutes=5,
            prompts=["  Mitä   opin? ", "", "   ", "Mikä yllätti?"],
        )
        assert texts(phase) == ["Mitä opin?", "Mikä yllätti?"]
        assert list(phase.prompts.order_by("position").values_list("position", flat=True)) == [1, 2]

    def test_answered_prompts_are_edited_in_place(self, workshop):
        phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.REFLECTION)
        answered = PromptFactory(phase=phase, position=1, text="Mitä opin?")
        CommentFactory(phase=phase, prompt=answered)
        phase_update(phase=phase, data={}, prompts=["Mitä opin tänään?", "Uusi kysymys"])
        answered.refresh_from_db()
        assert answered.text == "Mitä opin tänään?"
        assert texts(phase) == ["Mitä opin tänään?", "Uusi kysymys"]

    def test_an_answered_prompt_cannot_be_dropped_and_the_whole_update_rolls_back(self, workshop):
        phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.REFLECTION, title="Pohdinta")
        PromptFactory(phase=phase, position=1, text="Mitä opin?")
        answered = PromptFactory(phase=phase, position=2, text="Mikä olisi hyödyksi?")
        CommentFactory(phase=phase, prompt=answered)
        with pytest.raises(LiveError, match=r"Mikä olisi hyödyksi\?"):
            phase_update(phase=phase, data={"title": "Uusi"}, prompts=["Muutettu"])
        phase.refresh_from_db()
        assert phase.title == "Pohdinta"
        assert texts(phase) == ["Mitä opin?", "Mikä olisi hyödyksi?"]

    def test_unanswered_prompts_can_be_dropped(self, workshop):
        phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.REFLECTION)
        keep = PromptFactory(phase=phase, position=1, text="Mitä opin?")
        PromptFactory(phase=phase, position=2, text="Pois")
        phase_update(phase=phase, data={}, prompts=["Mitä opin?"])
        assert list(phase.prompts.values_list("pk", flat=True)) == [keep.pk]

    def test_prompts_none_leaves_them_alone(self, workshop):
        phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.REFLECTION)
        PromptFactory(phase=phase, position=1, text="Mitä opin?")
        phase_update(phase=phase, data={"title": "Uusi"}, prompts=None)
        assert texts(phase) == ["Mitä opin?"]


class TestDefaultAgenda:
    def test_is_created_only_once(self, workshop):
        first = agenda_create_default(workshop=workshop)
        again = agenda_create_default(workshop=workshop)
        assert [phase.pk for phase in again] == [phase.pk for phase in first]
        assert Phase.objects.filter(workshop=workshop).count() == len(first) == 10
        assert Prompt.objects.filter(phase__workshop=workshop).count() == 6

    def test_leaves_an_existing_agenda_alone(self, workshop):
        PhaseFactory(workshop=workshop, title="Oma")
        agenda_create_default(workshop=workshop)
        assert titles(workshop) == ["Oma"]

    def test_without_cases(self):
        workshop = WorkshopFactory(format=Workshop.Format.PARASTAMINEN_B, language="en")
        agenda_create_default(workshop=workshop)
        kinds = list(Phase.objects.filter(workshop=workshop).order_by("position").values_list("kind", flat=True))
        assert kinds == ["intro", "rounds", "wrap_up", "feedback"]

    def test_prompts_are_in_the_workshops_language(self, workshop):
        Workshop.objects.filter(pk=workshop.pk).update(language="en")
        workshop.refresh_from_db()
        agenda_create_default(workshop=workshop)
        reflection = Phase.objects.filter(workshop=workshop, kind=Phase.Kind.REFLECTION).first()
        assert texts(reflection) == ["What did I learn?", "What could be useful in my own work?"]


class TestPhaseDelete:
    def test_renumbers_the_rest(self, workshop, agenda):
        phase_delete(phase=agenda[0])
        assert titles(workshop) == ["B", "C"]
        assert positions(workshop) == [1, 2]

    def test_refused_with_comments(self, workshop, agenda):
        CommentFactory(phase=agenda[1])
        with pytest.raises(LiveError):
            phase_delete(phase=agenda[1])
        assert titles(workshop) == ["A", "B", "C"]
