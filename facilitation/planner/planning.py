"""Planning every round of a workshop at once."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from facilitation.planner.model import (
    DEFAULT_MIX_BY,
    MIX_ATTRIBUTES,
    MODES,
    Person,
    Plan,
    PlanError,
    Room,
    _pairs,
    room_count,
    room_sizes,
)
from facilitation.planner.rooms import _deal_sequences, _decompose, _split

_ATTEMPTS, _ATTEMPT_LIMIT = 8, 120  # fresh starts for plans of up to this many people


def _prepare(
    people: Sequence[Person], cases: Sequence[int], mode: str, mix_by: Sequence[str]
) -> tuple[list[Person], tuple[int, ...], tuple[str, ...], dict[int, tuple[str, ...]]]:
    """Check the input; people sorted by id, and everyone's mix attribute values."""
    if mode not in MODES:
        raise PlanError(f"Unknown mode {mode!r}; use 'A' or 'B'.")
    case_ids = tuple(cases)
    if not case_ids:
        raise PlanError("There must be at least one case.")
    if len(set(case_ids)) != len(case_ids):
        raise PlanError("The same case is listed twice.")
    unknown = [a for a in mix_by if a not in MIX_ATTRIBUTES]
    if unknown:
        raise PlanError(f"Cannot mix by {', '.join(unknown)}; use {', '.join(MIX_ATTRIBUTES)}.")
    persons = sorted(people, key=lambda p: p.id)
    if len({p.id for p in persons}) != len(persons):
        raise PlanError("The same person is listed twice.")
    keys = {p.id: tuple(str(getattr(p, a) or "").strip() for a in mix_by) for p in persons}
    return persons, case_ids, tuple(mix_by), keys


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 -- reproducible plans from a seed; nothing secret depends on it


def _record(met: dict[int, set[int]], rooms: Iterable[Sequence[int]]) -> None:
    for room in rooms:
        for p in room:
            met[p].update(q for q in room if q != p)


def _repeats(slots_by_round: list[list[list[int]]]) -> int:
    together = Counter(pair for slots in slots_by_round for slot in slots for pair in _pairs(slot))
    return sum(times - 1 for times in together.values())


def _slots(
    ids: list[int], sizes: list[int], c: int, *, keys: dict[int, tuple[str, ...]], rng: random.Random, remix: bool
) -> list[list[list[int]]]:
    """Members of every room slot in every round: round 0 split freely, later rounds as described above."""
    k = len(sizes)
    met: dict[int, set[int]] = defaultdict(set)
    first = _split(ids, sizes, keys=keys, met=met, rng=rng)
    if not remix or c == 1:
        return [first] * c
    counts = [[0] * c for _ in range(c)]
    for r in range(c):
        for j in range(k):
            counts[r][(j + r) % c] += sizes[j]
    sequences = _deal_sequences(first, [j % c for j in range(k)], _decompose(counts, rng), keys, rng)
    _record(met, first)
    slots_by_round = [first]
    for r in range(1, c):
        slots: list[list[int]] = [[] for _ in range(k)]
        for case in range(c):
            where = [j for j in range(k) if (j + r) % c == case]
            cohort = [p for p in ids if sequences[p][r] == case]
            parts = _split(cohort, [sizes[j] for j in where], keys=keys, met=met, rng=rng) if where else []
            for j, part in zip(where, parts, strict=True):
                slots[j] = part
        _record(met, slots)
        slots_by_round.append(slots)
    return slots_by_round


def plan_rotation(
    people: Sequence[Person],
    cases: Sequence[int],
    *,
    mode: str = "A",
    rooms: int | None = None,
    target_size: int | None = None,
    min_size: int = 4,
    max_size: int = 7,
    remix: bool = True,
    mix_by: Sequence[str] = DEFAULT_MIX_BY,
    seed: int = 0,
) -> Plan:
    """Plan one round per case for ``people`` (participants only; leaders come from ``leaders_for``).

    Every person meets every case exactly once, in both modes; the mode is
    kept on the plan for the caller. Raises ``PlanError`` for fewer than two
    people, no cases, duplicates or unknown options.
    """
    persons, case_ids, mix, keys = _prepare(people, cases, mode, mix_by)
    n, c = len(persons), len(case_ids)
    k = room_count(n, c, rooms=rooms, target_size=target_size, min_size=min_size, max_size=max_size)
    rng = _rng(seed)
    sizes = room_sizes(n, k)
    ids = [p.id for p in persons]
    best, fewest = [], None
    # Small plans are cheap: a few fresh starts, keeping the one with fewest repeated pairs.
    for _attempt in range((_ATTEMPTS if n <= _ATTEMPT_LIMIT else 2) if remix and c > 1 else 1):
        rng.shuffle(ids)
        slots_by_round = _slots(ids, sizes, c, keys=keys, rng=rng, remix=remix)
        repeats = _repeats(slots_by_round)
        if fewest is None or repeats < fewest:
            best, fewest = slots_by_round, repeats
        if not repeats:
            break
    slots_by_round = best
    rounds = tuple(
        tuple(Room(j, case_ids[(j + r) % c], tuple(sorted(slots[j]))) for j in range(k))
        for r, slots in enumerate(slots_by_round)
    )
    return Plan(mode, case_ids, rounds, remix=remix, min_size=min_size, max_size=max_size, mix_by=mix, seed=seed)
