"""Writes of prioritisation: handing out pairs, answering them, dots, ratings, showing the results.

A vote costs a fixed, small number of queries however many ideas there are:
the pair is chosen from one read of the ideas' ``shown`` counts and the voter's
earlier pairs (``facilitation.ranking.next_pair``), and the counters move with
``F()`` updates. Answering a pair is idempotent: the first answer counts, a
second post for the same pair (a double click) changes nothing and gets the
same next pair back. The ranking is not computed per vote:
``ranking_changed`` pushes it at most once per phase every half second.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import realtime
from facilitation.models import Ballot, Duel, Idea, LiveState, Phase
from facilitation.permissions import LiveViewer
from facilitation.ranking import next_pair, pair_key
from facilitation.selectors_voting import (
    compared_count,
    dots_budget,
    own_idea_filter,
    pending_duel,
    source_phase,
    voter_filter,
)
from facilitation.services.common import LiveError, _require_live
from workshops.models import Participant

__all__ = [
    "DotState",
    "DuelTurn",
    "dot_change",
    "duel_answer",
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
    """The workshop's current phase, if it is a prioritisation voting by ``method``; else a LiveError."""
    _require_live(viewer.workshop)
    phase = Phase.objects.filter(pk=phase_id, workshop=viewer.workshop).order_by().first()
    if phase is None or not phase.prioritises:
        raise LiveError(_("There is no voting in this part of the workshop."))
    current = LiveState.objects.filter(pk=viewer.workshop.pk).values_list("current_phase_id", flat=True).first()
    if current != phase.pk:
        raise LiveError(_("The voting has ended: the workshop has moved on."))
    if phase.voting != method:
        raise LiveError(_("This phase uses another way of voting. Please reload the page."))
    return phase


def _lock_voter(viewer: LiveViewer) -> None:
    """One request at a time per voter: a double click must not hand out two pairs or spend a dot twice."""
    # No ordering: Participant's default ordering joins the workshop, and FOR UPDATE would then lock the
    # workshop's row too, making every voter of the event wait for every other.
    if viewer.participant is not None:
        voter = Participant.objects.filter(pk=viewer.participant.pk)
    else:
        voter = get_user_model().objects.filter(pk=viewer.user.pk)
    list(voter.order_by().select_for_update(of=("self",)).values_list("pk"))


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


def _hand_out(viewer: LiveViewer, phase: Phase) -> tuple[Duel | None, str]:
    """The voter's waiting pair, or a new one chosen by ``next_pair`` (and counted as shown)."""
    waiting = pending_duel(viewer, phase)
    if waiting is not None:
        if waiting.left.is_active and waiting.right.is_active:
            return waiting, ""
        # An idea of the pair was hidden or merged since: that pair is withdrawn unanswered.
        Duel.objects.filter(voter_filter(viewer), phase=phase, answered_at__isnull=True).delete()
    source = source_phase(phase)
    if source is None:
        return None, "few"
    ideas = list(
        Idea.objects.filter(phase=source, hidden_at__isnull=True, merged_into__isnull=True).values_list(
            "pk", "shown", "author_participant_id", "author_user_id"
        )
    )
    if viewer.participant is not None:
        own = {pk for pk, _shown, author, _user in ideas if author == viewer.participant.pk}
    else:
        own = {pk for pk, _shown, _author, user in ideas if user == viewer.user.pk}
    if len(ideas) - len(own) < 2:
        return None, "few"
    seen = {
        pair_key(left, right)
        for left, right in Duel.objects.filter(voter_filter(viewer), phase=phase).values_list("left_id", "right_id")
    }
    pair = next_pair([pk for pk, *_rest in ideas], shown={pk: shown for pk, shown, *_rest in ideas}, own=own, seen=seen)
    if pair is None:
        return None, "all"
    left_id, right_id = pair
    duel = Duel.objects.create(phase=phase, left_id=left_id, right_id=right_id, **_voter_fields(viewer))
    _locked_pair(pair).update(shown=F("shown") + 1)
    texts = {idea.pk: idea for idea in Idea.objects.filter(pk__in=pair).only("pk", "text", "phase_id", "shown")}
    duel.left, duel.right = texts[left_id], texts[right_id]
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
    duel, done = _hand_out(viewer, phase)
    return DuelTurn(duel=duel, compared=compared_count(viewer, phase), done=done)


def _count_answer(duel: Duel) -> None:
    """Move the ideas' counters; merged ideas' counts go to their survivor, a pair merged into one counts nothing."""
    left = duel.left.merged_into_id or duel.left_id
    right = duel.right.merged_into_id or duel.right_id
    if left == right:
        return
    ideas = _locked_pair((left, right))
    if duel.choice == Duel.Choice.SKIP:
        ideas.update(skips=F("skips") + 1)
        return
    winner = left if duel.choice == Duel.Choice.LEFT else right
    ideas.update(
        wins=F("wins") + Case(When(pk=winner, then=Value(1)), default=Value(0)),
        losses=F("losses") + Case(When(pk=winner, then=Value(0)), default=Value(1)),
    )


@_retried_on_deadlock
@transaction.atomic
def duel_answer(*, viewer: LiveViewer, phase_id: int, duel_id: int, choice: str) -> DuelTurn:
    """Record the voter's answer to a pair they were given, once, and hand out the next pair.

    A pair answered before keeps its first answer (nothing is counted again) and the
    same next pair comes back. Schedules a ranking push (``ranking_changed``).
    """
    if choice not in Duel.Choice.values:
        raise LiveError(_("Choose one of the two ideas, or “Can’t decide”."))
    phase = _voting_phase(viewer, phase_id, Phase.Voting.PAIRWISE)
    _lock_voter(viewer)
    duel = Duel.objects.select_related("left", "right").filter(voter_filter(viewer), pk=duel_id, phase=phase).first()
    if duel is None:
        raise LiveError(_("This pair is not waiting for your answer. Please reload the page."))
    counted = False
    if duel.answered_at is None:
        duel.choice = choice
        duel.answered_at = timezone.now()
        duel.save(update_fields=["choice", "answered_at"])
        _count_answer(duel)
        counted = True
        ranking_changed(phase=phase)
    following, done = _hand_out(viewer, phase)
    return DuelTurn(duel=following, compared=compared_count(viewer, phase), done=done, answered=duel, counted=counted)


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
