"""Writes of prioritisation: handing out pairs, answering them, dots, ratings, showing the results.

A vote costs a fixed, small number of queries however many ideas there are:
the pair is chosen from one read of the ideas' ``shown`` counts and the voter's
earlier pairs (``facilitation.ranking.next_pair``), and the counters move with
``F()`` updates; many voters' answers together (``duel_answers``) cost the same few
queries as one. Answering a pair is idempotent: the first answer counts, a
second post for the same pair (a double click) changes nothing and gets the
same next pair back. The ranking is not computed per vote:
``ranking_changed`` pushes it at most once per phase every half second.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import realtime
from facilitation.models import Ballot, Duel, Idea, LiveState, Phase
from facilitation.permissions import LiveViewer
from facilitation.ranking import next_pair, pair_key
from facilitation.selectors_voting import (
    dots_budget,
    own_idea_filter,
    source_phase,
    voter_filter,
)
from facilitation.services.common import LiveError, _require_live
from workshops.models import Participant

__all__ = [
    "DotState",
    "DuelAnswer",
    "DuelTurn",
    "dot_change",
    "duel_answer",
    "duel_answers",
    "duel_next",
    "ranking_changed",
    "rating_set",
    "results_show",
]

logger = logging.getLogger(__name__)

RANKING_WINDOW_SECONDS = 0.5  # at most one ranking push per phase in this time
RANKING_GATE_SECONDS = 1  # the gate's lifetime if its task never runs (Redis keeps whole seconds only)
RATING_MIN, RATING_MAX = 1, 5


def ranking_gate_key(phase_id: int) -> str:
    """The cache key that is present while a ranking push of the phase is scheduled."""
    return f"kehittamo:ranking-gate:{phase_id}"


# --- the phase and the voter ---------------------------------------------------------------
def _voting_phase(viewer: LiveViewer, phase_id: int, method: str) -> Phase:
    """The workshop's current phase, if it is a prioritisation voting by ``method``; else a LiveError.

    One query when it is (the live state with its current phase and the workshop's status, read now:
    a vote over a socket opened earlier holds a workshop read when it connected; a workshop never
    started has no live state, and its status as read is judged); the phase itself is read only to say
    why not.
    """
    state = (
        LiveState.objects.filter(pk=viewer.workshop.pk)
        .select_related("current_phase")
        .annotate(workshop_status=F("workshop__status"))
        .order_by()
        .first()
    )
    _require_live(viewer.workshop, status=state.workshop_status if state is not None else None)
    current = state.current_phase if state is not None else None
    if current is None or current.pk != phase_id:
        phase = Phase.objects.filter(pk=phase_id, workshop=viewer.workshop).order_by().first()
        if phase is None or not phase.prioritises:
            raise LiveError(_("There is no voting in this part of the workshop."))
        raise LiveError(_("The voting has ended: the workshop has moved on."))
    if not current.prioritises:
        raise LiveError(_("There is no voting in this part of the workshop."))
    if current.voting != method:
        raise LiveError(_("This phase uses another way of voting. Please reload the page."))
    return current


def _lock_voter(viewer: LiveViewer) -> None:
    """One request at a time per voter: a double click must not hand out two pairs or spend a dot twice."""
    _lock_voters([viewer])


def _lock_voters(viewers: list[LiveViewer]) -> None:
    """``_lock_voter`` for several voters at once, their rows locked in id order (participants, then accounts),
    so that two batches of votes queue instead of deadlocking."""
    # No default ordering: Participant's joins the workshop, and FOR UPDATE would then lock the workshop's
    # row too, making every voter of the event wait for every other.
    participants = sorted(viewer.participant.pk for viewer in viewers if viewer.participant is not None)
    users = sorted(viewer.user.pk for viewer in viewers if viewer.participant is None)
    for model, ids in ((Participant, participants), (get_user_model(), users)):
        if ids:
            list(model.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)).values_list("pk"))


def _voter_fields(viewer: LiveViewer) -> dict:
    if viewer.participant is not None:
        return {"voter_participant": viewer.participant, "voter_user": None}
    return {"voter_participant": None, "voter_user": viewer.user}


# --- pairwise duels ---------------------------------------------------------------------------
@dataclass
class DuelTurn:
    """After asking for a pair or answering one: the pair to show now, or why there is none."""

    duel: Duel | None
    compared: int
    done: str = ""  # "all": compared every pair; "few": fewer than two ideas to compare
    answered: Duel | None = None
    counted: bool = False  # False when the answered pair had been answered before (a double click)
    phase: Phase | None = None  # the phase voted in (checked: the workshop's current one)


def _retried_on_deadlock(service):
    """Run the service again (twice at most) when PostgreSQL broke a deadlock by aborting it.

    A vote locks the answered pair's counters, then the next pair's; two voters can meet on those in
    opposite order. The aborted transaction wrote nothing, so running it again is safe.
    """

    @functools.wraps(service)
    def run(**arguments):
        for attempt in range(3):
            try:
                return service(**arguments)
            except OperationalError as error:
                if getattr(error.__cause__, "sqlstate", None) != "40P01" or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    return run


def _locked_pair(ids) -> QuerySet[Idea]:
    """The two ideas' rows, locked in id order: voters updating the same counters must queue, not deadlock.

    One ``UPDATE … WHERE id IN (a, b)`` locks the rows in whatever order it meets them, so two
    voters with the pairs (a, b) and (b, a) could each hold one row and wait for the other.
    """
    list(Idea.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))
    return Idea.objects.filter(pk__in=ids)


COUNTERS = ("wins", "losses", "skips", "shown")


def _move_counters(moves: dict[int, dict[str, int]]) -> None:
    """Add ``moves`` (idea id -> counter -> amount) to the ideas' counters: two queries for all of them.

    The rows are locked in id order first (see ``_locked_pair``), then one UPDATE moves every
    counter of every idea a vote touches: the answered pair's and the next pair's.
    """
    moves = {pk: amounts for pk, amounts in moves.items() if any(amounts.values())}
    if not moves:
        return
    ideas = _locked_pair(sorted(moves))
    changes = {}
    for counter in COUNTERS:
        whens = [When(pk=pk, then=Value(amounts[counter])) for pk, amounts in moves.items() if amounts.get(counter)]
        if whens:
            changes[counter] = F(counter) + Case(*whens, default=Value(0))
    ideas.update(**changes)


@dataclass
class _Ballot:
    """What one vote needs to know, read once: the voter's pairs in the phase and the source's ideas."""

    duels: list[tuple]  # (id, left_id, right_id, answered_at, choice), oldest first
    source: Phase | None = None
    ideas: dict[int, tuple] = field(default_factory=dict)  # id -> IDEA_FIELDS
    moves: dict[int, dict[str, int]] = field(default_factory=dict)

    def move(self, idea_id: int, counter: str) -> None:
        amounts = self.moves.setdefault(idea_id, {})
        amounts[counter] = amounts.get(counter, 0) + 1

    @property
    def compared(self) -> int:
        return sum(1 for duel in self.duels if duel[3] is not None)

    def idea(self, idea_id: int) -> Idea:
        """An Idea with what the pair's buttons and the checks need (no query: from the ideas read)."""
        _pk, shown, _author, _user, hidden_at, merged_into_id, text = self.ideas[idea_id]
        return Idea(
            pk=idea_id,
            phase_id=self.source.pk,
            shown=shown,
            hidden_at=hidden_at,
            merged_into_id=merged_into_id,
            text=text,
        )


IDEA_FIELDS = ("pk", "shown", "author_participant_id", "author_user_id", "hidden_at", "merged_into_id", "text")


def _read_ballot(viewer: LiveViewer, phase: Phase) -> _Ballot:
    """The voter's pairs of the phase (one query), the idea collection (one) and all its ideas (one)."""
    return _read_ballots([viewer], phase)[0]


def _read_ballots(viewers: list[LiveViewer], phase: Phase) -> list[_Ballot]:
    """``_read_ballot`` for several voters in the same three queries. Their ballots share the collection's
    ideas and the counters' moves, so a pair handed out to one voter counts as shown for the next."""
    participants = {viewer.participant.pk: index for index, viewer in enumerate(viewers) if viewer.participant}
    users = {viewer.user.pk: index for index, viewer in enumerate(viewers) if viewer.participant is None}
    source = source_phase(phase)
    ideas = {}
    if source is not None:
        ideas = {row[0]: row for row in Idea.objects.filter(phase=source).values_list(*IDEA_FIELDS)}
    moves: dict[int, dict[str, int]] = {}
    ballots = [_Ballot(duels=[], source=source, ideas=ideas, moves=moves) for _viewer in viewers]
    rows = (
        Duel.objects.filter(phase=phase)
        .filter(Q(voter_participant__in=participants) | Q(voter_user__in=users, voter_participant__isnull=True))
        .order_by("pk")
        .values_list("pk", "left_id", "right_id", "answered_at", "choice", "voter_participant_id", "voter_user_id")
    )
    for *duel, participant_id, user_id in rows:
        index = participants[participant_id] if participant_id is not None else users[user_id]
        ballots[index].duels.append(tuple(duel))
    return ballots


def _ideas_elsewhere(ballot: _Ballot, ids) -> dict[int, Idea]:
    """Ideas a pair holds that are not in the current collection (its source was changed since): read them."""
    return {idea.pk: idea for idea in Idea.objects.filter(pk__in=[pk for pk in ids if pk not in ballot.ideas])}


def _pair_ideas(ballot: _Ballot, left_id: int, right_id: int) -> tuple[Idea, Idea]:
    missing = [pk for pk in (left_id, right_id) if pk not in ballot.ideas]
    found = _ideas_elsewhere(ballot, missing) if missing else {}
    pick = lambda pk: found[pk] if pk in found else ballot.idea(pk)  # noqa: E731
    return pick(left_id), pick(right_id)


def _hand_out(viewer: LiveViewer, phase: Phase, ballot: _Ballot, new: list[Duel]) -> tuple[Duel | None, str]:
    """The voter's waiting pair, or a new one chosen by ``next_pair`` (and counted as shown). A new pair is
    added to ``new``, for the caller to store (``Duel.objects.bulk_create``) with the others of a batch."""
    waiting = [duel for duel in ballot.duels if duel[3] is None]
    if waiting:
        pk, left_id, right_id, _answered, _choice = waiting[0]
        left, right = _pair_ideas(ballot, left_id, right_id)
        if left.is_active and right.is_active:
            duel = Duel(pk=pk, phase=phase, left_id=left_id, right_id=right_id, **_voter_fields(viewer))
            duel.left, duel.right = left, right
            return duel, ""
        # An idea of the pair was hidden or merged since: that pair is withdrawn unanswered.
        Duel.objects.filter(pk__in=[duel[0] for duel in waiting]).delete()
        ballot.duels = [duel for duel in ballot.duels if duel[3] is not None]
    if ballot.source is None:
        return None, "few"
    active = [row for row in ballot.ideas.values() if row[4] is None and row[5] is None]
    if viewer.participant is not None:
        own = {row[0] for row in active if row[2] == viewer.participant.pk}
    else:
        own = {row[0] for row in active if row[3] == viewer.user.pk}
    if len(active) - len(own) < 2:
        return None, "few"
    seen = {pair_key(left, right) for _pk, left, right, _answered, _choice in ballot.duels}
    # ``shown`` as read, and the pairs handed out since in this batch.
    shown = {row[0]: row[1] + ballot.moves.get(row[0], {}).get("shown", 0) for row in active}
    pair = next_pair([row[0] for row in active], shown=shown, own=own, seen=seen)
    if pair is None:
        return None, "all"
    left_id, right_id = pair
    duel = Duel(phase=phase, left_id=left_id, right_id=right_id, **_voter_fields(viewer))
    new.append(duel)
    ballot.duels.append((None, left_id, right_id, None, ""))
    ballot.move(left_id, "shown")
    ballot.move(right_id, "shown")
    duel.left, duel.right = ballot.idea(left_id), ballot.idea(right_id)
    return duel, ""


@_retried_on_deadlock
@transaction.atomic
def duel_next(*, viewer: LiveViewer, phase_id: int) -> DuelTurn:
    """The pair for this voter: the one still waiting for their answer, or a new one.

    A new pair never holds the voter's own idea, nor a pair they were given
    before; ``done`` says when there is none. Increments ``Idea.shown`` of a new pair.
    """
    phase = _voting_phase(viewer, phase_id, Phase.Voting.PAIRWISE)
    _lock_voter(viewer)
    ballot = _read_ballot(viewer, phase)
    new: list[Duel] = []
    duel, done = _hand_out(viewer, phase, ballot, new)
    Duel.objects.bulk_create(new)
    _move_counters(ballot.moves)
    return DuelTurn(duel=duel, compared=ballot.compared, done=done, phase=phase)


def _count_answer(ballot: _Ballot, left: Idea, right: Idea, choice: str) -> None:
    """Move the ideas' counters; merged ideas' counts go to their survivor, a pair merged into one counts nothing."""
    left_id = left.merged_into_id or left.pk
    right_id = right.merged_into_id or right.pk
    if left_id == right_id:
        return
    if choice == Duel.Choice.SKIP:
        ballot.move(left_id, "skips")
        ballot.move(right_id, "skips")
        return
    winner, loser = (left_id, right_id) if choice == Duel.Choice.LEFT else (right_id, left_id)
    ballot.move(winner, "wins")
    ballot.move(loser, "losses")


@dataclass(frozen=True)
class DuelAnswer:
    """One voter's answer to a pair they were given (``duel_answers``)."""

    viewer: LiveViewer
    duel_id: int
    choice: str


def duel_answer(*, viewer: LiveViewer, phase_id: int, duel_id: int, choice: str) -> DuelTurn:
    """Record the voter's answer to a pair they were given, once, and hand out the next pair.

    A pair answered before keeps its first answer (nothing is counted again) and the
    same next pair comes back. Schedules a ranking push (``ranking_changed``). A LiveError
    says why not. One answer of ``duel_answers``.
    """
    (turn,) = duel_answers(phase_id=phase_id, answers=[DuelAnswer(viewer=viewer, duel_id=duel_id, choice=choice)])
    if isinstance(turn, LiveError):
        raise turn
    return turn


@_retried_on_deadlock
@transaction.atomic
def duel_answers(*, phase_id: int, answers: list[DuelAnswer]) -> list[DuelTurn | LiveError]:
    """``duel_answer`` for several voters of one workshop at once: each answer's DuelTurn, or the LiveError
    that refused it (in the active language), in the answers' order.

    About a dozen queries in one transaction however many answers there are, so that a thousand people
    voting at once cost a few batches a second rather than a thousand transactions: the phase and the
    collection are read once, the voters' rows locked and their pairs read together, the answers stored
    in one UPDATE per choice, the next pairs in one INSERT and every counter they move in one UPDATE.
    The voters must be different people (a voter's second answer waits for the next batch).
    """
    if len({answer.viewer.identity_key for answer in answers}) != len(answers):
        raise ValueError("one answer per voter in a batch")
    results: list[DuelTurn | LiveError | None] = [None] * len(answers)
    valid = []
    for index, answer in enumerate(answers):
        if answer.choice in Duel.Choice.values:
            valid.append(index)
        else:
            results[index] = LiveError(_("Choose one of the two ideas, or “Can’t decide”."))
    if not valid:
        return results
    try:
        phase = _voting_phase(answers[valid[0]].viewer, phase_id, Phase.Voting.PAIRWISE)
    except LiveError as error:
        return [result or error for result in results]
    viewers = [answers[index].viewer for index in valid]
    _lock_voters(viewers)
    ballots = _read_ballots(viewers, phase)
    now, stored, new = timezone.now(), {}, []
    for index, ballot in zip(valid, ballots, strict=True):
        results[index] = _answer(answers[index], phase, ballot, now, stored, new)
    for choice, duel_ids in stored.items():
        Duel.objects.filter(pk__in=duel_ids).update(choice=choice, answered_at=now)
    Duel.objects.bulk_create(new)
    _move_counters(ballots[0].moves)  # one dict, shared by the batch's ballots
    if stored:
        ranking_changed(phase=phase)
    return results


def _answer(
    answer: DuelAnswer, phase: Phase, ballot: _Ballot, now, stored: dict[str, list[int]], new: list[Duel]
) -> DuelTurn | LiveError:
    """One answer of a batch, on the voter's ballot: the answer goes to ``stored`` (choice -> pair ids) and a
    new pair to ``new``, both written by ``duel_answers`` for the whole batch."""
    viewer, duel_id = answer.viewer, answer.duel_id
    position = next((index for index, duel in enumerate(ballot.duels) if duel[0] == duel_id), None)
    if position is None:
        return LiveError(_("This pair is not waiting for your answer. Please reload the page."))
    _pk, left_id, right_id, answered_at, choice = ballot.duels[position]
    counted = answered_at is None
    if counted:
        answered_at, choice = now, answer.choice
        stored.setdefault(choice, []).append(duel_id)
        ballot.duels[position] = (duel_id, left_id, right_id, answered_at, choice)
        left, right = _pair_ideas(ballot, left_id, right_id)
        _count_answer(ballot, left, right, choice)
    answered = Duel(
        pk=duel_id,
        phase=phase,
        left_id=left_id,
        right_id=right_id,
        choice=choice,
        answered_at=answered_at,
        **_voter_fields(viewer),
    )
    following, done = _hand_out(viewer, phase, ballot, new)
    return DuelTurn(
        duel=following, compared=ballot.compared, done=done, answered=answered, counted=counted, phase=phase
    )


# --- dots and ratings ---------------------------------------------------------------------------
def _idea_to_vote_on(viewer: LiveViewer, phase: Phase, idea_id: int) -> Idea:
    source = source_phase(phase)
    idea = (
        Idea.objects.filter(pk=idea_id, phase=source, hidden_at__isnull=True, merged_into__isnull=True).first()
        if source is not None
        else None
    )
    if idea is None:
        raise LiveError(_("This idea is no longer in the running."))
    if Idea.objects.filter(own_idea_filter(viewer), pk=idea.pk).exists():
        raise LiveError(_("You cannot vote for your own idea."))
    return idea


@dataclass
class DotState:
    """The voter's dots on one idea and in all, after a change."""

    idea_id: int
    dots: int
    used: int
    budget: int

    @property
    def left(self) -> int:
        return max(self.budget - self.used, 0)


@transaction.atomic
def dot_change(*, viewer: LiveViewer, phase_id: int, idea_id: int, add: bool) -> DotState:
    """Place one more dot on an idea (several may go on one), or take one back.

    The budget is ``dots_per_person`` times the voter's team size. Taking back a dot that
    is not there changes nothing. Schedules a ranking push.
    """
    phase = _voting_phase(viewer, phase_id, Phase.Voting.DOTS)
    _lock_voter(viewer)
    idea = _idea_to_vote_on(viewer, phase, idea_id)
    budget = dots_budget(phase, viewer)
    mine = {ballot.idea_id: ballot for ballot in Ballot.objects.filter(voter_filter(viewer), phase=phase)}
    used = sum(ballot.value for ballot in mine.values())
    ballot = mine.get(idea.pk)
    if add:
        if used >= budget:
            raise LiveError(
                _("You have placed all your %(budget)d dots. Take one back from another idea first.")
                % {"budget": budget}
            )
        if ballot is None:
            ballot = Ballot.objects.create(phase=phase, idea=idea, value=1, **_voter_fields(viewer))
        else:
            ballot.value += 1
            ballot.updated_at = timezone.now()
            ballot.save(update_fields=["value", "updated_at"])
        used += 1
    elif ballot is not None and ballot.value > 0:
        used -= 1
        ballot.value -= 1
        if ballot.value == 0:
            ballot.delete()
        else:
            ballot.updated_at = timezone.now()
            ballot.save(update_fields=["value", "updated_at"])
    else:
        return DotState(idea_id=idea.pk, dots=0, used=used, budget=budget)
    ranking_changed(phase=phase)
    return DotState(idea_id=idea.pk, dots=ballot.value, used=used, budget=budget)


def _rating_value(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not RATING_MIN <= number <= RATING_MAX:
        raise LiveError(_("Choose a rating from 1 to 5."))
    return number


@transaction.atomic
def rating_set(*, viewer: LiveViewer, phase_id: int, idea_id: int, value) -> Ballot:
    """Rate an idea from 1 to 5, or change the rating; schedules a ranking push."""
    number = _rating_value(value)
    phase = _voting_phase(viewer, phase_id, Phase.Voting.RATING)
    idea = _idea_to_vote_on(viewer, phase, idea_id)
    ballot, created = Ballot.objects.select_for_update().get_or_create(
        phase=phase, idea=idea, **_voter_fields(viewer), defaults={"value": number}
    )
    if not created and ballot.value != number:
        ballot.value = number
        ballot.updated_at = timezone.now()
        ballot.save(update_fields=["value", "updated_at"])
    ranking_changed(phase=phase)
    return ballot


# --- results ----------------------------------------------------------------------------------
@transaction.atomic
def results_show(*, viewer: LiveViewer, phase_id: int, show: bool) -> Phase:
    """A facilitator shows the phase's current ranking to the participants, or hides it again.

    Broadcasts ``results.opened`` / ``results.closed`` (data: the phase id) to everyone,
    so their panels reload.
    """
    if not viewer.is_staff:
        raise PermissionDenied
    _require_live(viewer.workshop)
    phase = (
        Phase.objects.select_for_update(of=("self",)).filter(pk=phase_id, workshop=viewer.workshop).order_by().first()
    )
    if phase is None or not phase.prioritises:
        raise LiveError(_("There is no voting in this part of the workshop."))
    if show == (phase.results_open_at is not None):
        return phase
    phase.results_open_at = timezone.now() if show else None
    phase.save(update_fields=["results_open_at"])
    realtime.publish(
        workshop_id=phase.workshop_id,
        kind="results.opened" if show else "results.closed",
        payload={"phase": phase.pk},
    )
    return phase


def ranking_changed(*, phase: Phase) -> None:
    """Votes of the phase changed: push its ranking soon, at most once per phase every half second.

    After commit, the first change takes a cache gate (``cache.add``, shared by all
    processes) and schedules ``facilitation.tasks.ranking_publish`` half a second later;
    changes while the gate is held ride along with that push. The task lifts the gate
    before reading, so a change during its work schedules the next push. Without a
    worker (eager Celery, no ``REDIS_URL``) the task runs at once, after the commit.
    """
    phase_id = phase.pk

    def schedule() -> None:
        if not cache.add(ranking_gate_key(phase_id), 1, RANKING_GATE_SECONDS):
            return
        from facilitation.tasks import ranking_publish

        try:
            ranking_publish.apply_async(args=[phase_id], countdown=RANKING_WINDOW_SECONDS)
        except Exception:  # the broker is down: the votes are safe, only the push is lost
            cache.delete(ranking_gate_key(phase_id))
            logger.warning("Could not schedule the ranking push of phase %s", phase_id, exc_info=True)

    transaction.on_commit(schedule)
