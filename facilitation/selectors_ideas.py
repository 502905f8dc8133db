"""Reads for the idea collection: the ideas a viewer may see, with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from facilitation.models import Idea, Phase
from facilitation.permissions import LiveViewer


@dataclass
class IdeasView:
    """The idea-collection panel as one viewer sees it."""

    phase: Phase
    question: str
    ideas: list[Idea] = field(default_factory=list)  # oldest first, so new ones are appended at the end
    mine_count: int = 0
    total_count: int = 0  # active ideas: neither hidden nor merged
    team_size: int | None = None  # this participant's screen; None for organisers without a participant row
    merge_targets: list[Idea] = field(default_factory=list)  # staff: the active ideas, for the merge form
    hidden_count: int = 0
    merged_count: int = 0
    people: int | None = None  # staff: people who joined, counting team sizes

    @property
    def thread_key(self) -> str:
        return f"i{self.phase.pk}"

    @property
    def draft_key(self) -> str:
        return f"idea-{self.phase.pk}"

    @property
    def asks_own_question(self) -> bool:
        """The question differs from the phase title the panel already shows."""
        return self.question != self.phase.title


def _own(viewer: LiveViewer) -> Q:
    if viewer.participant is not None:
        return Q(author_participant=viewer.participant)
    if viewer.user is not None:
        return Q(author_user=viewer.user)
    return Q(pk__in=[])


def _visible(viewer: LiveViewer, phase: Phase) -> Q:
    """Facilitators see every idea; others the active ones (all or their own) and their own merged ones."""
    if viewer.is_staff:
        return Q()
    active = Q(hidden_at__isnull=True, merged_into__isnull=True)
    own_merged = _own(viewer) & Q(hidden_at__isnull=True, merged_into__isnull=False)
    if phase.ideas_public:
        return active | own_merged
    return _own(viewer) & Q(hidden_at__isnull=True)


def ideas_view(viewer: LiveViewer, phase: Phase) -> IdeasView:
    """What the idea-collection panel shows this viewer: three queries (four for facilitators), whatever the count."""
    prompt = phase.prompts.order_by("position", "id").values_list("text", flat=True).first()
    ideas = list(
        Idea.objects.filter(_visible(viewer, phase), phase=phase)
        .select_related("author_participant", "author_user", "merged_into")
        .annotate(merged_count=Count("merged"))
        .order_by("created_at", "id")
    )
    for idea in ideas:
        idea.phase = phase
        idea.mine = idea.is_by(participant=viewer.participant, user=viewer.user)
    counts = Idea.objects.filter(phase=phase).aggregate(
        total=Count("id", filter=Q(hidden_at__isnull=True, merged_into__isnull=True)),
        hidden=Count("id", filter=Q(hidden_at__isnull=False)),
        merged=Count("id", filter=Q(merged_into__isnull=False)),
    )
    view = IdeasView(
        phase=phase,
        question=prompt or phase.title,
        ideas=ideas,
        mine_count=sum(1 for idea in ideas if idea.mine and idea.hidden_at is None),
        total_count=counts["total"],
        team_size=viewer.participant.team_size if viewer.participant is not None else None,
    )
    if viewer.is_staff:
        view.merge_targets = [idea for idea in ideas if idea.is_active]
        view.hidden_count = counts["hidden"]
        view.merged_count = counts["merged"]
        view.people = people_count(viewer.workshop)
    return view


def people_count(workshop) -> int:
    """People who have joined, counting each participant's screen as its team size: one query."""
    return workshop.participants.filter(first_joined_at__isnull=False).aggregate(n=Sum("team_size"))["n"] or 0


def with_merged_count(idea: Idea) -> Idea:
    """The idea with ``merged_count``: how many duplicates were merged into it (shown under it)."""
    idea.merged_count = Idea.objects.filter(merged_into=idea).count()
    return idea
