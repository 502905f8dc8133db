"""Pair selection and the Bradley–Terry ranking on simulated voters (pure: no database).

Thresholds stated here are the promises of ``facilitation.ranking``:
- recovery: 30 ideas, 1,500 votes from voters with logistic noise around a known
  true order -> Spearman correlation of the ranking with the truth >= 0.9;
- fairness: with 300 ideas, min_appearances 6 and 50 voters asking at the same
  moment (reading the same counts), every idea has 6 decisive comparisons within
  ceil(n * min / 2) * 1.5 votes (ceil(n * min / 2) is the least possible); one
  voter at a time: within ceil(n * min / 2) * 1.05, and no idea above min + 2;
- late ideas: 10 ideas added after 600 votes all reach min_appearances within
  ceil(10 * 6 / 2) * 2 further votes.
"""

from __future__ import annotations

import math
import random

import numpy as np
from scipy.stats import spearmanr

from facilitation.ranking import bradley_terry, competition_ranks, next_pair, pair_key, rank, win_matrix


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class Simulation:
    """Ideas with true strengths; voters ask in waves, each wave reading the same ``shown`` counts."""

    def __init__(self, n_ideas: int, *, seed: int, spread: float = 3.0):
        self.rng = random.Random(seed)
        self.truth = {idea: spread * (idea / max(n_ideas - 1, 1) - 0.5) * 2 for idea in range(n_ideas)}
        self.shown: dict[int, int] = dict.fromkeys(self.truth, 0)
        self.appearances: dict[int, int] = dict.fromkeys(self.truth, 0)
        self.comparisons: list[tuple[int, int]] = []
        self.seen: dict[int, set] = {}
        self.own: dict[int, set] = {}
        self.votes = 0

    def add_ideas(self, count: int) -> list[int]:
        start = len(self.truth)
        new = list(range(start, start + count))
        for idea in new:
            self.truth[idea] = self.rng.uniform(-3, 3)
            self.shown[idea] = self.appearances[idea] = 0
        return new

    def wave(self, voters: list[int]) -> None:
        snapshot = dict(self.shown)  # everyone in the wave reads the counts before anyone's pair is counted
        for voter in voters:
            seen = self.seen.setdefault(voter, set())
            pair = next_pair(self.truth, shown=snapshot, own=self.own.get(voter, ()), seen=seen, rng=self.rng)
            if pair is None:
                continue
            left, right = pair
            seen.add(pair_key(left, right))
            self.shown[left] += 1
            self.shown[right] += 1
            p_left = _logistic(self.truth[left] - self.truth[right])
            winner, loser = (left, right) if self.rng.random() < p_left else (right, left)
            self.comparisons.append((winner, loser))
            self.appearances[left] += 1
            self.appearances[right] += 1
            self.votes += 1


def test_ranking_recovers_a_known_order_from_noisy_votes():
    sim = Simulation(30, seed=7)
    voters = list(range(100))
    for voter in voters[:30]:
        sim.own[voter] = {voter}  # the first 30 voters each wrote one idea
    while sim.votes < 1500:
        sim.wave(sim.rng.sample(voters, 20))
    ids = list(sim.truth)
    ranked = rank(ids, sim.comparisons, min_appearances=6)
    assert all(ranked[idea].rank is not None for idea in ids)
    correlation = spearmanr([sim.truth[idea] for idea in ids], [ranked[idea].score for idea in ids]).statistic
    assert correlation >= 0.9, correlation
    places = sorted(ids, key=lambda idea: ranked[idea].rank)
    assert sim.truth[places[0]] > sim.truth[places[-1]]
    assert [ranked[idea].rank for idea in places] == list(range(1, 31))


def test_every_idea_reaches_min_appearances_within_the_bound_with_concurrent_voters():
    n_ideas, minimum = 300, 6
    sim = Simulation(n_ideas, seed=11)
    for voter in range(n_ideas):
        sim.own[voter] = {voter}
    bound = math.ceil(n_ideas * minimum / 2) * 1.5
    voter = 0
    while min(sim.appearances.values()) < minimum:
        sim.wave(list(range(voter, voter + 50)))
        voter += 50
        assert sim.votes <= bound, f"{sim.votes} votes and still some ideas below {minimum}"


def test_one_voter_at_a_time_spreads_exposure_evenly():
    n_ideas, minimum = 120, 6
    sim = Simulation(n_ideas, seed=2)
    voter = 0
    while min(sim.appearances.values()) < minimum:
        sim.wave([voter])
        voter += 1
    assert sim.votes <= math.ceil(n_ideas * minimum / 2) * 1.05
    assert max(sim.appearances.values()) <= minimum + 2


def test_ideas_added_late_catch_up():
    sim = Simulation(50, seed=3)
    while sim.votes < 600:
        sim.wave(list(range(sim.votes, sim.votes + 10)))
    new = sim.add_ideas(10)
    before = sim.votes
    while min(sim.appearances[idea] for idea in new) < 6:
        sim.wave(list(range(10_000 + sim.votes, 10_000 + sim.votes + 10)))
        assert sim.votes - before <= math.ceil(10 * 6 / 2) * 2


def test_a_voter_never_gets_their_own_idea_nor_a_pair_twice_until_all_are_seen():
    rng = random.Random(5)
    ideas = [1, 2, 3, 4, 5, 6]
    seen: set = set()
    shown = dict.fromkeys(ideas, 0)
    pairs = []
    while (pair := next_pair(ideas, shown=shown, own={6}, seen=seen, rng=rng)) is not None:
        left, right = pair
        assert left != right
        assert 6 not in pair
        assert pair_key(left, right) not in seen
        seen.add(pair_key(left, right))
        shown[left] += 1
        shown[right] += 1
        pairs.append(pair)
    assert len(pairs) == 10  # every pair of the five other ideas, once
    assert next_pair(ideas, shown=shown, own={6}, seen=seen, rng=rng) is None


def test_no_pair_without_two_other_ideas():
    assert next_pair([1], shown={}) is None
    assert next_pair([1, 2], shown={}, own={2}) is None
    assert next_pair([1, 1], shown={}) is None  # the same idea twice is one idea


def test_least_shown_idea_goes_first_and_ties_are_spread():
    shown = {1: 9, 2: 9, 3: 0, 4: 9}
    assert 3 in next_pair(shown, shown=shown, rng=random.Random(1))
    even = dict.fromkeys(range(40), 2)
    firsts = {next_pair(even, shown=even, rng=random.Random(seed)) for seed in range(30)}
    assert len(firsts) > 20, "voters reading the same counts get different pairs"


def test_scores_uncertainty_and_unranked_ideas():
    comparisons = [(10, 20)] * 8 + [(20, 30)] * 8 + [(10, 30)] * 6 + [(30, 10)] * 2 + [(40, 10)]
    ranked = rank([10, 20, 30, 40, 50], comparisons, min_appearances=6)
    assert [ranked[i].rank for i in (10, 20, 30)] == [1, 2, 3]
    assert ranked[10].score > 50 > ranked[30].score
    assert ranked[40].rank is None and ranked[40].score is not None, "one comparison: scored, not ranked"
    assert ranked[50] == ranked[50].__class__(None, None, None), "never compared"
    assert 0 < ranked[10].uncertainty < ranked[40].uncertainty, "fewer comparisons, wider interval"
    for value in ranked.values():
        assert value.score is None or 0 <= value.score <= 100


def test_more_votes_mean_less_uncertainty_and_self_comparisons_are_dropped():
    few = rank([1, 2], [(1, 2)] * 3 + [(2, 1)] * 2, min_appearances=2)
    many = rank([1, 2], [(1, 2)] * 30 + [(2, 1)] * 20 + [(1, 1)] * 50, min_appearances=2)
    assert many[1].uncertainty < few[1].uncertainty
    assert win_matrix(2, [(0, 0), (0, 1)]).sum() == 1


def test_no_comparisons_gives_no_scores():
    fitted = bradley_terry(np.zeros((3, 3)))
    assert list(fitted.theta) == [0, 0, 0]
    assert rank([1, 2, 3], [], min_appearances=2) == {i: rank([1], [], min_appearances=2)[1] for i in (1, 2, 3)}


def test_competition_ranks_share_places():
    assert competition_ranks({1: 5, 2: 3, 3: 5, 4: 1}) == {1: 1, 3: 1, 2: 3, 4: 4}
