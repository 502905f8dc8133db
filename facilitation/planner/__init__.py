"""Rotation planner: who sits in which small-group room, on which case, in every round.

Pure Python (no Django, no database), deterministic for a given seed and
independent of the order people are given in.

Shape of a plan: one round per case; every round has the same room slots
``0 … K-1`` (shown as A, B, C …); slot ``j`` takes case ``cases[(j + r) % C]``
in round ``r``, so every slot meets every case exactly once, also when there
are fewer rooms than cases. Room sizes differ by at most one within a round.

* ``remix=False`` (mode B classic, or fixed groups in mode A): the groups made
  for round 0 stay together and move from case to case with their slot.
* ``remix=True``: every person gets a *case sequence*, a permutation of the
  cases. Round 0 is split freely; the sequences (a decomposition of the
  round × case head-count matrix into permutations, as varied as possible)
  are dealt so that roommates and people with the same attributes get
  different sequences; in every later round the people on the same case
  are split into that case's rooms by a greedy that avoids people they have
  already met, followed by improving swaps.

Mixing: ``mix_by`` is in priority order. The first attribute is spread as
a hard rule: inside every cohort (the people on one case in one round; in
round 0 and for fixed groups, everybody) a value held by ``k`` people lands at
most ``ceil(k / rooms)`` times in any room. The other attributes are spread
as well as the greedy manages. Empty values are not mixed.

Modules: ``model`` (people, rooms, plans, room sizes), ``rooms`` (splitting a cohort, case
sequences), ``planning`` (``plan_rotation``), ``changes`` (late joiners, leavers, rebalancing),
``leaders`` and ``baselines`` (what the planner is measured against).
"""

from facilitation.planner.baselines import greedy_baseline, random_baseline
from facilitation.planner.changes import place_late_joiner, rebalance, remove_person
from facilitation.planner.leaders import leaders_for
from facilitation.planner.model import (
    DEFAULT_MIX_BY,
    MIX_ATTRIBUTES,
    MODES,
    STAY_WITH,
    Person,
    Plan,
    PlanError,
    Room,
    room_count,
    room_sizes,
)
from facilitation.planner.planning import plan_rotation

__all__ = [
    "DEFAULT_MIX_BY",
    "MIX_ATTRIBUTES",
    "MODES",
    "STAY_WITH",
    "Person",
    "Plan",
    "PlanError",
    "Room",
    "greedy_baseline",
    "leaders_for",
    "place_late_joiner",
    "plan_rotation",
    "random_baseline",
    "rebalance",
    "remove_person",
    "room_count",
    "room_sizes",
]
