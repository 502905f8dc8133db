"""The report's idea results: per idea collection, the ranking its prioritisation produced.

Hidden ideas are left out (the report is shared with the participants) and no
author is named. A few queries per idea collection and prioritisation, however
many ideas and votes there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from facilitation.models import Idea, Phase
from facilitation.selectors_voting import Ranking, ranking_for, source_phase


@dataclass
class IdeaQuestion:
    """One idea collection: its question, how many ideas it got, and each prioritisation of them."""

    phase: Phase
    idea_count: int
    merged_count: int
    rankings: list[Ranking] = field(default_factory=list)
    ideas: list[str] = field(default_factory=list)  # when nobody prioritised them: the ideas in the order written

    @property
    def question(self) -> str:
        return self.phase.title


def idea_report(workshop) -> list[IdeaQuestion]:
    """One entry per idea question of the workshop; empty when it collected no ideas."""
    active = Q(ideas__hidden_at__isnull=True)
    collections = list(
        Phase.objects.filter(workshop=workshop, kind=Phase.Kind.IDEAS)
        .annotate(
            idea_count=Count("ideas", filter=active & Q(ideas__merged_into__isnull=True)),
            merged_count=Count("ideas", filter=active & Q(ideas__merged_into__isnull=False)),
        )
        .order_by("position", "pk")
    )
    collections = [phase for phase in collections if phase.idea_count or phase.merged_count]
    if not collections:
        return []
    by_source: dict[int, list[Phase]] = {}
    for phase in Phase.objects.filter(workshop=workshop, kind=Phase.Kind.PRIORITISATION).order_by("position", "pk"):
        source = source_phase(phase)
        if source is not None:
            by_source.setdefault(source.pk, []).append(phase)
    questions = []
    for phase in collections:
        entry = IdeaQuestion(phase=phase, idea_count=phase.idea_count, merged_count=phase.merged_count)
        entry.rankings = [ranking_for(vote) for vote in by_source.get(phase.pk, [])]
        if not entry.rankings:
            entry.ideas = list(
                Idea.objects.filter(phase=phase, hidden_at__isnull=True, merged_into__isnull=True)
                .order_by("created_at", "pk")
                .values_list("text", flat=True)
            )
        questions.append(entry)
    return questions
