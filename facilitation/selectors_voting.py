"""Reads for prioritisation: which ideas a phase ranks, the viewer's current pair or ballots, and the ranking.

Every read here costs a fixed number of queries however many ideas, duels or
ballots there are: duels and ballots are counted by the database (grouped by
pair and choice, or by idea), and the ranking itself is computed in
``facilitation.ranking``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from facilitation import ranking as stats
from facilitation.models import Ballot, Duel, Idea, LiveState, Phase
from facilitation.permissions import LiveViewer
from workshops.models import Workshop

RESULTS_TOP = 10  # ideas shown in the live ranking (panel, big screen, pushes)


# --- which ideas -----------------------------------------------------------------
def source_phase(phase: Phase) -> Phase | None:
    """The idea collection a prioritisation ranks: its ``idea_source``, or the nearest ideas phase before it."""
    if phase.idea_source_id:
        source = Phase.objects.filter(
            pk=phase.idea_source_id, workshop_id=phase.workshop_id, kind=Phase.Kind.IDEAS
        ).first()
        if source is not None:
            return source
    return (
        Phase.objects.filter(workshop_id=phase.workshop_id, kind=Phase.Kind.IDEAS)
        .filter(Q(position__lt=phase.position) | Q(position=phase.position, pk__lt=phase.pk))
        .order_by("-position", "-pk")
        .first()
    )


def voter_filter(viewer: LiveViewer) -> Q:
    """Duels and ballots of this viewer: as a participant, or under their account when they have no participant row."""
    if viewer.participant is not None:
        return Q(voter_participant=viewer.participant)
    return Q(voter_user=viewer.user, voter_participant__isnull=True)


def own_idea_filter(viewer: LiveViewer) -> Q:
    if viewer.participant is not None:
        return Q(author_participant=viewer.participant)
    return Q(author_user=viewer.user)


def dots_budget(phase: Phase, viewer: LiveViewer) -> int:
    """Dots a voter may place: the phase's dots per person times the people on their screen."""
    team = viewer.participant.team_size if viewer.participant is not None else 1
    return phase.dots_per_person * max(team or 1, 1)


# --- the ranking ----------------------------------------------------------------------
@dataclass
class RankedIdea:
    """One idea with its votes and place; ``rank`` None means "not enough votes yet"."""

    id: int
    text: str
    author_name: str  # "" when anonymous
    can_run: bool
    merged_into_id: int | None
    score: float | None = None  # 0–100
    uncertainty: float | None = None  # ± points
    rank: int | None = None
    appearances: int = 0
    wins: int = 0
    losses: int = 0
    skips: int = 0
    dots: int = 0
    rating_mean: float | None = None
    rating_count: int = 0
    hidden: bool = False
    anonymous: bool = False
    merged_into_text: str = ""

    @property
    def is_active(self) -> bool:
        return not self.hidden and self.merged_into_id is None

    @classmethod
    def of(cls, idea: Idea) -> RankedIdea:
        """An idea before any votes (``idea`` with its authors and ``merged_into`` selected)."""
        return cls(
            id=idea.pk,
            text=idea.text,
            author_name=idea.author_name,
            can_run=idea.can_run,
            merged_into_id=idea.merged_into_id,
            hidden=idea.hidden_at is not None,
            anonymous=idea.anonymous,
            merged_into_text=idea.merged_into.text if idea.merged_into_id else "",
        )


@dataclass
class Ranking:
    """The ranking a prioritisation phase produced by its voting method, for its source's ideas."""

    phase: Phase
    method: str
    votes: int = 0
    voters: int = 0
    items: list[RankedIdea] = field(default_factory=list)
    source: Phase | None = None

    @property
    def ranked(self) -> list[RankedIdea]:
        """Ideas with a place, best first."""
        placed = [item for item in self.items if item.rank is not None and item.is_active]
        return sorted(placed, key=lambda item: (item.rank, -(item.score or 0), item.id))

    @property
    def unranked(self) -> list[RankedIdea]:
        """Ideas in the running without enough votes yet, most compared first."""
        waiting = [item for item in self.items if item.rank is None and item.is_active]
        return sorted(waiting, key=lambda item: (-item.appearances, item.id))

    @property
    def top(self) -> list[RankedIdea]:
        """The first places, as the live views show them."""
        return self.ranked[:RESULTS_TOP]

    @property
    def active_count(self) -> int:
        return sum(1 for item in self.items if item.is_active)

    @property
    def method_label(self) -> str:
        return str(Phase.Voting(self.method).label) if self.method in Phase.Voting.values else self.method


def _survivors(ideas: list[Idea]) -> dict[int, int]:
    """Each idea's id -> the id its votes count for (following merges; H1 keeps chains one step long)."""
    merged = {idea.pk: idea.merged_into_id for idea in ideas}
    result = {}
    for idea in ideas:
        target, steps = idea.pk, 0
        while merged.get(target) and steps < 20:
            target, steps = merged[target], steps + 1
        result[idea.pk] = target
    return result


def _duel_counts(phase: Phase, ideas: list[Idea], items: dict[int, RankedIdea], ids: list[int]):
    """Fill wins/losses/skips (survivors get their merged ideas' duels) and return (votes, win matrix)."""
    survivor = _survivors(ideas)
    own_counts: dict[int, list[int]] = {idea.pk: [0, 0, 0] for idea in ideas}
    index = {idea_id: i for i, idea_id in enumerate(ids)}
    wins = np.zeros((len(ids), len(ids)))
    votes = 0
    rows = (
        Duel.objects.filter(phase=phase, answered_at__isnull=False)
        .values_list("left_id", "right_id", "choice")
        .annotate(n=Count("id"))
        .order_by()
    )
    for left, right, choice, n in rows:
        votes += n
        if left not in survivor or right not in survivor:
            continue  # ideas of another collection (the phase's source was changed)
        if choice == Duel.Choice.SKIP:
            own_counts[left][2] += n
            own_counts[right][2] += n
        else:
            winner, loser = (left, right) if choice == Duel.Choice.LEFT else (right, left)
            own_counts[winner][0] += n
            own_counts[loser][1] += n
        a, b = survivor[left], survivor[right]
        if a == b or not (items[a].is_active and items[b].is_active):
            continue  # merged into one another (a self-comparison), or hidden
        if choice == Duel.Choice.SKIP:
            items[a].skips += n
            items[b].skips += n
            continue
        winner, loser = (a, b) if choice == Duel.Choice.LEFT else (b, a)
        items[winner].wins += n
        items[loser].losses += n
        wins[index[winner], index[loser]] += n
    for idea_id, (won, lost, skipped) in own_counts.items():
        item = items[idea_id]
        if not item.is_active:  # a merged or hidden idea shows its own duels; its survivor has them too
            item.wins, item.losses, item.skips = won, lost, skipped
    for item in items.values():
        item.appearances = item.wins + item.losses
    return votes, wins


def _ballot_counts(
    phase: Phase, ideas: list[Idea], items: dict[int, RankedIdea]
) -> tuple[int, dict[int, tuple[float, float]]]:
    """Fill dots or ratings (merged ideas' ballots also count for their survivor).

    Returns the number of votes in the running (dots placed, or ratings given)
    and each idea's sum and sum of squares of its ratings, for the ratings' interval.
    """
    survivor = _survivors(ideas)
    buckets: dict[int, list[int]] = {}
    rows = (
        Ballot.objects.filter(phase=phase, value__gt=0)
        .values_list("idea_id")
        .annotate(total=Sum("value"), n=Count("id"), squares=Sum(F("value") * F("value")))
        .order_by()
    )
    for idea_id, total, n, squares in rows:
        if idea_id not in survivor:
            continue
        for target in {idea_id, survivor[idea_id]}:
            bucket = buckets.setdefault(target, [0, 0, 0])
            bucket[0] += total
            bucket[1] += n
            bucket[2] += squares
    votes = 0
    squares_of: dict[int, tuple[float, float]] = {}
    for idea_id, (total, n, squares) in buckets.items():
        item = items[idea_id]
        if phase.voting == Phase.Voting.DOTS:
            item.dots = int(total)
        else:
            item.rating_count = int(n)
            item.rating_mean = round(total / n, 2)
            squares_of[idea_id] = (float(total), float(squares))
        if item.is_active:
            votes += int(total) if phase.voting == Phase.Voting.DOTS else int(n)
    return votes, squares_of


def _score_pairwise(ranking: Ranking, ids: list[int], wins: np.ndarray, min_appearances: int) -> None:
    items = {item.id: item for item in ranking.items}
    for idea_id, result in stats.rank(ids, wins, min_appearances=min_appearances).items():
        items[idea_id].score, items[idea_id].uncertainty, items[idea_id].rank = (
            result.score,
            result.uncertainty,
            result.rank,
        )


def _score_dots(ranking: Ranking, total: int) -> None:
    active = [item for item in ranking.items if item.is_active]
    if not total:
        return
    places = stats.competition_ranks({item.id: item.dots for item in active})
    for item in active:
        item.score = round(100 * item.dots / total, 1)
        item.rank = places[item.id]


def _score_ratings(ranking: Ranking, min_appearances: int, squares_of: dict[int, tuple[float, float]]) -> None:
    """Score = (mean − 1) · 25 on 0–100; ± is 1.96 standard errors of the mean; ranked after enough ratings."""
    threshold = max(1, min(min_appearances, ranking.voters or 1))
    eligible: dict[int, float] = {}
    active = {item.id: item for item in ranking.items if item.is_active and item.rating_count}
    for item in active.values():
        n, mean = item.rating_count, item.rating_mean
        item.score = round((mean - 1) * 25, 1)
        if n >= 2:
            total, squares = squares_of[item.id]
            exact_mean = total / n
            variance = max(squares / n - exact_mean * exact_mean, 0) * n / (n - 1)
            item.uncertainty = round(stats.Z_95 * 25 * math.sqrt(variance / n), 1)
        if n >= threshold:
            eligible[item.id] = item.score
    for idea_id, place in stats.competition_ranks(eligible).items():
        active[idea_id].rank = place


def _voter_count(queryset) -> int:
    """Distinct voters; 0 once the workshop has closed and forgotten who voted."""
    known = Q(voter_participant__isnull=False) | Q(voter_user__isnull=False)
    return queryset.filter(known).values("voter_participant_id", "voter_user_id").distinct().count()


def ranking_for(phase: Phase, *, include_inactive: bool = False) -> Ranking:
    """The phase's ranking by its voting method (five queries at most, whatever the number of ideas and votes).

    Pairwise: Bradley–Terry on the duels (see ``facilitation.ranking``), merged
    ideas' duels counted for their survivor, self-comparisons dropped, ranked
    after ``min_appearances`` decisive comparisons. Dots: the share of all dots,
    every idea ranked once any dot is placed. Rating: the mean on 0–100, ranked
    once rated by ``min_appearances`` voters (or by every voter, if fewer voted).
    ``items`` holds the ideas in the running; ``include_inactive`` adds merged
    and hidden ones (for the export), which are never ranked.
    """
    source = source_phase(phase)
    ranking = Ranking(phase=phase, method=phase.voting, source=source)
    if source is None:
        return ranking
    ideas = list(
        Idea.objects.filter(phase=source)
        .select_related("author_participant", "author_user", "merged_into")
        .order_by("created_at", "pk")
    )
    items = {idea.pk: RankedIdea.of(idea) for idea in ideas}
    ids = [idea.pk for idea in ideas if items[idea.pk].is_active]
    votes, wins = _duel_counts(phase, ideas, items, ids)
    ballots, squares_of = _ballot_counts(phase, ideas, items)
    ranking.items = [items[idea.pk] for idea in ideas if include_inactive or items[idea.pk].is_active]
    if phase.voting == Phase.Voting.DOTS:
        ranking.votes = ballots
        ranking.voters = _voter_count(Ballot.objects.filter(phase=phase, value__gt=0))
        _score_dots(ranking, ballots)
    elif phase.voting == Phase.Voting.RATING:
        ranking.votes = ballots
        ranking.voters = _voter_count(Ballot.objects.filter(phase=phase, value__gt=0))
        _score_ratings(ranking, phase.min_appearances, squares_of)
    else:
        ranking.votes = votes
        ranking.voters = _voter_count(Duel.objects.filter(phase=phase, answered_at__isnull=False))
        _score_pairwise(ranking, ids, wins, phase.min_appearances)
    return ranking


def ranking_payload(ranking: Ranking, top: int = RESULTS_TOP) -> dict:
    """The ranking as JSON for pushes and the big screen: counts and the top ideas (no authors)."""
    return {
        "phase": ranking.phase.pk,
        "method": ranking.method,
        "votes": ranking.votes,
        "voters": ranking.voters,
        "ideas": ranking.active_count,
        "unranked": len(ranking.unranked),
        "top": [
            {
                "id": item.id,
                "text": item.text,
                "score": item.score,
                "uncertainty": item.uncertainty,
                "rank": item.rank,
                "appearances": item.appearances,
            }
            for item in ranking.ranked[:top]
        ],
    }


def duel_message(turn) -> str:
    """Why a ``services.voting.DuelTurn`` holds no pair, for the voter; empty while it holds one."""
    if turn.done == "all":
        return _("You have compared every pair there is. Thank you!")
    if turn.done == "few":
        return _("There are not enough ideas to compare yet.")
    return ""


def turn_payload(turn) -> dict:
    """A ``DuelTurn`` as JSON for the page's script, in the active language: the next pair's ids and
    texts for its buttons, how many pairs the voter has compared, and what was answered. The same for
    the HTTP answer and the socket's."""
    body = {
        "compared": turn.compared,
        "compared_text": ngettext(
            "You have compared %(count)s pair.", "You have compared %(count)s pairs.", turn.compared
        )
        % {"count": turn.compared},
        "done": turn.done,
        "message": duel_message(turn),
        "counted": turn.counted,
        "duel": None,
    }
    if turn.answered is not None:
        body["answered"] = turn.answered.pk
    if turn.duel is not None:
        body["duel"] = {
            "id": turn.duel.pk,
            "left": {"id": turn.duel.left.pk, "text": turn.duel.left.text},
            "right": {"id": turn.duel.right.pk, "text": turn.duel.right.text},
        }
    return body


# --- the voting panel -----------------------------------------------------------------
@dataclass
class BallotIdea:
    """An idea in the dot-voting or rating list, with the viewer's dots or rating."""

    idea: Idea
    mine: int = 0
    own: bool = False


@dataclass
class VotingView:
    """What the prioritisation panel shows one viewer."""

    phase: Phase
    method: str
    source: Phase | None
    can_vote: bool
    duel: Duel | None = None  # the pair waiting for this viewer's answer
    compared: int = 0  # pairs this viewer has answered
    ideas: list[BallotIdea] = field(default_factory=list)
    budget: int = 0
    used: int = 0
    ranking: Ranking | None = None  # facilitators always; participants while results are open
    results_open: bool = False
    idea_count: int = 0

    @property
    def dots_left(self) -> int:
        return max(self.budget - self.used, 0)

    @property
    def show_ranking(self) -> bool:
        return self.ranking is not None


def pending_duel(viewer: LiveViewer, phase: Phase) -> Duel | None:
    """The pair handed to this viewer and not answered yet, with both ideas."""
    return (
        Duel.objects.select_related("left", "right")
        .filter(voter_filter(viewer), phase=phase, answered_at__isnull=True)
        .order_by("pk")
        .first()
    )


def compared_count(viewer: LiveViewer, phase: Phase) -> int:
    return Duel.objects.filter(voter_filter(viewer), phase=phase, answered_at__isnull=False).count()


def voting_view(viewer: LiveViewer, phase: Phase) -> VotingView:
    """The viewer's pending pair (or their dots / ratings) and, when they may see it, the ranking.

    Reads only: a new pair is handed out by ``services.duel_next`` when the viewer asks.
    A constant number of queries; the ranking adds the few of ``ranking_for``.
    """
    source = source_phase(phase)
    live = LiveState.objects.filter(pk=viewer.workshop.pk).values_list("current_phase_id", flat=True).first()
    view = VotingView(
        phase=phase,
        method=phase.voting,
        source=source,
        can_vote=viewer.workshop.status == Workshop.Status.LIVE and live == phase.pk and source is not None,
        results_open=phase.results_open_at is not None,
    )
    if source is None:
        return view
    active = Idea.objects.filter(phase=source, hidden_at__isnull=True, merged_into__isnull=True)
    if phase.voting == Phase.Voting.PAIRWISE:
        duel = pending_duel(viewer, phase)
        if duel is not None and duel.left.is_active and duel.right.is_active:
            view.duel = duel
        view.compared = compared_count(viewer, phase)
        view.idea_count = active.count()
    else:
        mine = dict(Ballot.objects.filter(voter_filter(viewer), phase=phase).values_list("idea_id", "value"))
        view.ideas = [
            BallotIdea(
                idea=idea,
                mine=mine.get(idea.pk, 0),
                own=idea.is_by(participant=viewer.participant, user=None if viewer.participant else viewer.user),
            )
            for idea in active.order_by("created_at", "pk")
        ]
        view.idea_count = len(view.ideas)
        view.budget = dots_budget(phase, viewer)
        view.used = sum(value for value in mine.values()) if phase.voting == Phase.Voting.DOTS else 0
    if viewer.is_staff or view.results_open:
        view.ranking = ranking_for(phase)
    return view
