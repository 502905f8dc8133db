"""Naive plans the planner is measured against (tests and bench/bench_planner.py)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

from facilitation.planner.model import Person, Plan, Room, room_count, room_sizes
from facilitation.planner.planning import _prepare, _record, _rng


def random_baseline(people: Sequence[Person], cases: Sequence[int], *, rooms: int, seed: int = 0) -> Plan:
    """Every round: shuffle everyone and deal them into the rooms.

    Only a yardstick for repeated pairs: it ignores attributes and does NOT
    keep the every-case-once rule.
    """
    persons, case_ids, _mix, _keys = _prepare(people, cases, "A", ())
    k = room_count(len(persons), len(case_ids), rooms=rooms)
    sizes, rng, ids = room_sizes(len(persons), k), _rng(seed), [p.id for p in persons]
    rounds = []
    for r in range(len(case_ids)):
        rng.shuffle(ids)
        bounds = list(itertools.accumulate(sizes, initial=0))
        rounds.append(
            tuple(
                Room(j, case_ids[(j + r) % len(case_ids)], tuple(sorted(ids[bounds[j] : bounds[j + 1]])))
                for j in range(k)
            )
        )
    return Plan("A", case_ids, tuple(rounds), remix=True, mix_by=())


def greedy_baseline(people: Sequence[Person], cases: Sequence[int], *, rooms: int, seed: int = 0) -> Plan:
    """The obvious greedy: deal round 0 in a shuffled order, then each person to the room with fewest already met.

    Keeps the every-case-once rule and the sizes the simple way: everyone
    follows the cases of their round-0 slot, so the people dealt into slots
    ``j``, ``j + C``, ``j + 2C`` … share the same sequence and re-mix only
    among themselves. Ignores attributes.
    """
    persons, case_ids, _mix, _keys = _prepare(people, cases, "A", ())
    c = len(case_ids)
    k = room_count(len(persons), c, rooms=rooms)
    sizes, rng, ids = room_sizes(len(persons), k), _rng(seed), [p.id for p in persons]
    rng.shuffle(ids)
    bounds = list(itertools.accumulate(sizes, initial=0))
    first = [ids[bounds[j] : bounds[j + 1]] for j in range(k)]
    met: dict[int, set[int]] = defaultdict(set)
    _record(met, first)
    by_round = [first]
    for _r in range(1, c):
        slots: list[list[int]] = [[] for _ in range(k)]
        for d in range(min(c, k)):
            family = [j for j in range(k) if j % c == d]
            for p in (p for j in family for p in first[j]):
                open_slots = [j for j in family if len(slots[j]) < sizes[j]]
                target = min(open_slots, key=lambda j: (len(met[p].intersection(slots[j])), j))
                slots[target].append(p)
        _record(met, slots)
        by_round.append(slots)
    rounds = tuple(
        tuple(Room(j, case_ids[(j + r) % c], tuple(sorted(slots[j]))) for j in range(k))
        for r, slots in enumerate(by_round)
    )
    return Plan("A", case_ids, rounds, remix=True, mix_by=())
