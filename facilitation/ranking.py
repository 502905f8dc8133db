"""The statistics of prioritisation, free of Django: which pair to show next, and the Bradley–Terry ranking.

Pair selection
--------------
Every idea should be compared often enough to be ranked (``min_appearances``
decisive comparisons), soon, and about equally often. ``next_pair`` picks the
least-shown idea (``Idea.shown``: pairs handed out, answered or not) and pairs
it with the least-shown idea the voter has not yet compared it with. Ties are
broken at random, and ideas within two showings of each other count as tied
(``TIE_SPREAD``): hundreds of voters asking at the same moment all read the
same counts, and this spreads them over many ideas instead of all of them
getting the last few least-shown ones. An idea added late starts at zero and is
therefore chosen first until it has caught up. A voter never gets their own
idea, never an idea against itself, and never the same pair twice: when every
pair they could see has been seen, there is no next pair.

Ranking
-------
The Bradley–Terry model gives each idea a strength ``θ`` such that idea *i*
beats idea *j* with probability ``σ(θᵢ − θⱼ)`` (σ is the logistic function).
``bradley_terry`` estimates the strengths with choix's iterative Luce spectral
ranking (``ilsr_pairwise_dense``) with a small regularisation ``alpha``, so an
idea that always won (or lost) still gets a finite strength. The strengths
are centred to mean 0: the "average idea" has θ = 0.

The score shown is ``100 · σ(θᵢ)``: the probability, in per cent, that the
idea beats an average idea (50 = average). Its uncertainty comes from the
Fisher information of the model: each comparison of *i* and *j* (including
the ``alpha`` pseudo-comparisons of the regularisation) adds
``pᵢⱼ(1 − pᵢⱼ)`` to the information on θᵢ and θⱼ and subtracts it from their
covariance. The inverse of that matrix, projected onto centred strengths, is
the covariance of θᵢ − mean(θ), whose square root is the standard error SE.
The uncertainty shown is the half-width, in points of score, of the 95 %
interval ``θ ± 1.96 · SE`` mapped through ``100 · σ``. Near the middle of the
scale this equals the delta method's ``1.96 · 100 · σ(1 − σ) · SE``; near 0
or 100 it stays wide where the delta method would shrink to nothing for an
idea that won its only comparison.

An idea is ranked only once it has ``min_appearances`` decisive comparisons
(a "can't decide" is not one); before that it is "not enough votes yet", even
though its comparisons already inform the others' strengths.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TIE_SPREAD = 2.0  # ideas within two showings of the least-shown count as tied: spreads simultaneous voters
ALPHA = 0.01  # regularisation: a hundredth of a pseudo-comparison between every two ideas
Z_95 = 1.96


# --- pair selection ---------------------------------------------------------------
def pair_key(a: int, b: int) -> tuple[int, int]:
    """The same key for (a, b) and (b, a)."""
    return (a, b) if a < b else (b, a)


def next_pair(
    candidates: Iterable[int],
    *,
    shown: Mapping[int, int],
    own: Collection[int] = (),
    seen: Collection[tuple[int, int]] = (),
    rng: random.Random | None = None,
) -> tuple[int, int] | None:
    """The next pair (left, right) for one voter, or None when they have compared every pair they may see.

    ``candidates`` are the ideas in the running; ``shown`` how often each has
    been handed out (missing = 0); ``own`` the voter's own ideas (never shown to
    them); ``seen`` the pairs they were already given, as ``pair_key`` tuples.
    Least-shown first (within ``TIE_SPREAD``), ties at random; left and right are in random order, so
    neither side is favoured.
    """
    rng = rng or random.Random()  # noqa: S311 - spreading load, not secrecy
    own = set(own)
    pool = [idea for idea in dict.fromkeys(candidates) if idea not in own]
    if len(pool) < 2:
        return None
    order = {idea: shown.get(idea, 0) + TIE_SPREAD * rng.random() for idea in pool}
    pool.sort(key=order.__getitem__)
    partners: dict[int, set[int]] = {}
    for a, b in seen:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    for first in pool:
        done = partners.get(first, set())
        # Ideas before ``first`` may still pair with it, so the partner is looked for from the start.
        second = next((other for other in pool if other != first and other not in done), None)
        if second is not None:
            return (first, second) if rng.random() < 0.5 else (second, first)
    return None


# --- Bradley–Terry ---------------------------------------------------------------------
@dataclass(frozen=True)
class Strengths:
    """Centred Bradley–Terry strengths (log scale) and their standard errors, by index."""

    theta: np.ndarray
    se: np.ndarray


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def win_matrix(n_items: int, comparisons: Iterable[tuple[int, int]]) -> np.ndarray:
    """``wins[i, j]``: how often item *i* beat item *j*; self-comparisons are dropped."""
    wins = np.zeros((n_items, n_items), dtype=float)
    for winner, loser in comparisons:
        if winner != loser:
            wins[winner, loser] += 1
    return wins


def bradley_terry(wins: np.ndarray, *, alpha: float = ALPHA) -> Strengths:
    """Fit strengths to a win matrix (``wins[i, j]`` = times *i* beat *j*); see the module docstring.

    An item without any decided comparison gets strength 0 and an infinite standard error.
    """
    wins = np.array(wins, dtype=float)
    np.fill_diagonal(wins, 0)
    n_items = wins.shape[0]
    theta = np.zeros(n_items)
    se = np.full(n_items, math.inf)
    totals = wins + wins.T
    # Only ideas that took part in a decided comparison are in the model: one never compared has
    # no information, and letting it in would make the "average idea" and every variance depend on it.
    compared = np.flatnonzero(totals.sum(axis=1) > 0)
    if len(compared) < 2:
        return Strengths(theta, se)
    sub_theta, sub_se = _fit(wins[np.ix_(compared, compared)], alpha)
    theta[compared] = sub_theta
    se[compared] = sub_se
    return Strengths(theta, se)


def _fit(wins: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    import choix

    n_items = wins.shape[0]
    try:
        theta = choix.ilsr_pairwise_dense(wins, alpha=alpha, tol=1e-6)  # 1e-6 in θ: far below what shows
    except (RuntimeError, ValueError):  # did not converge: the direct optimiser always answers
        data = [(i, j) for i, j in zip(*np.nonzero(wins), strict=True) for _ in range(int(wins[i, j]))]
        theta = choix.opt_pairwise(n_items, data, alpha=max(alpha, 1e-6))
    theta = np.asarray(theta, dtype=float)
    theta = theta - theta.mean()
    # The fit's regularisation acts like ``alpha`` pseudo-comparisons each way between every two
    # ideas; the information counts them too, so the graph is connected and the matrix invertible.
    totals = wins + wins.T + 2 * alpha * (1 - np.eye(n_items))
    p = _logistic(theta[:, None] - theta[None, :])
    weight = totals * p * (1 - p)
    information = np.diag(weight.sum(axis=1)) - weight + 1e-9 * np.eye(n_items)
    covariance = np.linalg.inv(information)
    # The strengths are centred, so what is uncertain is θᵢ − mean(θ): project out the common shift.
    centre = np.eye(n_items) - np.full((n_items, n_items), 1.0 / n_items)
    covariance = centre @ covariance @ centre
    return theta, np.sqrt(np.clip(np.diag(covariance), 0, None))


@dataclass(frozen=True)
class Ranked:
    """One idea's place: score 0–100, ± points (95 %), rank (None = not enough votes yet)."""

    score: float | None
    uncertainty: float | None
    rank: int | None


def rank(
    ids: Sequence[int],
    comparisons: Iterable[tuple[int, int]] | np.ndarray,
    *,
    min_appearances: int,
    alpha: float = ALPHA,
) -> dict[int, Ranked]:
    """Score and rank ideas from decided comparisons ``(winner_id, loser_id)`` (or a win matrix in ``ids`` order).

    Comparisons naming an id outside ``ids`` and self-comparisons are ignored.
    Ranks are 1, 2, 3 … by score among the ideas with ``min_appearances``
    decisive comparisons; the others keep a provisional score but no rank.
    """
    index = {idea: i for i, idea in enumerate(ids)}
    if isinstance(comparisons, np.ndarray):
        wins = comparisons
    else:
        pairs = [(index[w], index[lo]) for w, lo in comparisons if w in index and lo in index]
        wins = win_matrix(len(ids), pairs)
    appearances = (wins + wins.T).sum(axis=1)
    fitted = bradley_terry(wins, alpha=alpha)
    result: dict[int, Ranked] = {}
    eligible = []
    for idea, i in index.items():
        if appearances[i] == 0:
            result[idea] = Ranked(None, None, None)
            continue
        theta, se = float(fitted.theta[i]), float(fitted.se[i])
        score = 100 * float(_logistic(theta))
        # The 95 % interval of θ mapped onto the score: near 0 or 100 the plain delta method
        # (100·σ'·1.96·SE) would claim certainty that one lucky comparison does not give.
        low, high = _logistic(np.array([theta - Z_95 * se, theta + Z_95 * se]))
        uncertainty = 100 * float(high - low) / 2
        result[idea] = Ranked(round(score, 1), round(uncertainty, 1), None)
        if appearances[i] >= min_appearances:
            eligible.append(idea)
    eligible.sort(key=lambda idea: (-fitted.theta[index[idea]], idea))
    for place, idea in enumerate(eligible, start=1):
        result[idea] = Ranked(result[idea].score, result[idea].uncertainty, place)
    return result


def competition_ranks(values: Mapping[int, float]) -> dict[int, int]:
    """Ranks by value, highest first, sharing a rank on a tie (1, 2, 2, 4) – for dots and ratings."""
    ranks: dict[int, int] = {}
    previous = None
    place = 0
    for position, (idea, value) in enumerate(sorted(values.items(), key=lambda item: (-item[1], item[0])), start=1):
        if value != previous:
            place, previous = position, value
        ranks[idea] = place
    return ranks
