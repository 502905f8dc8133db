"""Changes during the workshop: a late joiner, someone leaving, rebalancing the rounds still to come."""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from facilitation.planner.model import Person, Plan, PlanError, Room, room_count, room_sizes
from facilitation.planner.planning import _prepare, _record, _rng, plan_rotation
from facilitation.planner.rooms import _split

_INF = float("inf")


def _best_injection(rows: int, cols: Sequence[int], cost: Callable[[int, int], float]) -> list[int] | None:
    """Give each row a different column at the least total cost; None when every way costs infinity."""
    if rows > len(cols):
        return None
    table = [[cost(i, col) for col in cols] for i in range(rows)]
    if len(cols) > 12:  # exact search would be too slow; rounds rarely number this many
        picks: list[int] = []
        for row in table:
            b = min((b for b in range(len(cols)) if cols[b] not in picks), key=lambda b: row[b])
            if row[b] == _INF:
                return None
            picks.append(cols[b])
        return picks
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for row in table:
        following: dict[int, tuple[float, list[int]]] = {}
        for mask, (total, picks) in best.items():
            for b, value in enumerate(row):
                if mask >> b & 1 or value == _INF:
                    continue
                key = mask | 1 << b
                if key not in following or total + value < following[key][0]:
                    following[key] = (total + value, [*picks, cols[b]])
        best = following
    return min(best.values())[1] if best else None


def _keys_of(plan: Plan, people: Iterable[Person]) -> dict[int, tuple[str, ...]]:
    return defaultdict(
        lambda: ("",) * len(plan.mix_by),
        {p.id: tuple(str(getattr(p, a) or "").strip() for a in plan.mix_by) for p in people},
    )


def _history(plan: Plan, until: int) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Cases seen and people met by everyone in the rounds before ``until``."""
    seen: dict[int, set[int]] = defaultdict(set)
    met: dict[int, set[int]] = defaultdict(set)
    for rooms in plan.rounds[:until]:
        for room in rooms:
            for p in room.members:
                seen[p].add(room.case)
        _record(met, (room.members for room in rooms))
    return seen, met


def _clumping(room: Room, keys: dict[int, tuple[str, ...]], person: int) -> int:
    return sum(1 for q in room.members for a, b in zip(keys[q], keys[person], strict=True) if a and a == b)


def place_late_joiner(plan: Plan, person: Person, *, from_round: int, people: Sequence[Person] = ()) -> Plan:
    """The plan with ``person`` added to a smallest room of round ``from_round`` and a room of every later round.

    Later rounds keep the every-case-once rule for them where the rooms allow
    (smallest rooms otherwise), and fixed groups are joined for good.
    ``people`` (the others' attributes) lets ties go to the room where the
    newcomer mixes best. Someone already placed from that round on: unchanged.
    """
    n_rounds = len(plan.rounds)
    if not 0 <= from_round < n_rounds:
        raise PlanError(f"Round {from_round} is not in the plan.")
    if any(plan.room_of(person.id, r) for r in range(from_round, n_rounds)):
        return plan
    keys = _keys_of(plan, [*people, person])
    seen, met = _history(plan, from_round)
    seen_cases, met_people = seen[person.id], set(met[person.id])
    occupied = [[room for room in rooms if room.members] or list(rooms) for rooms in plan.rounds]
    if not occupied[from_round]:
        raise PlanError("There is no room to join in this round.")
    choice: dict[int, Room] = {}
    if plan.fixed_groups:
        later = {r: {room.index: room for room in plan.rounds[r]} for r in range(from_round, n_rounds)}

        def group_key(room: Room) -> tuple:
            repeats = sum(1 for r in later if (other := later[r].get(room.index)) and other.case in seen_cases)
            return (len(room.members), repeats, _clumping(room, keys, person.id), room.index)

        index = min(occupied[from_round], key=group_key).index
        choice = {r: later[r][index] for r in later if index in later[r]}
    else:
        rows = list(range(from_round, n_rounds))

        def cost(i: int, case: int) -> float:
            sizes = [len(room.members) for room in occupied[rows[i]] if room.case == case]
            if not sizes:
                return _INF
            excess = min(sizes) - min(len(room.members) for room in occupied[rows[i]])
            return excess * (10**6 if i == 0 else 1) + (10**3 if case in seen_cases else 0)

        picks = _best_injection(len(rows), plan.cases, cost) or [None] * len(rows)
        for r, case in zip(rows, picks, strict=True):
            options = [room for room in occupied[r] if case is None or room.case == case]
            smallest = min(len(room.members) for room in options)
            room = min(
                (room for room in options if len(room.members) == smallest),
                key=lambda room: (len(met_people.intersection(room.members)), _clumping(room, keys, person.id)),
            )
            choice[r] = room
            met_people.update(room.members)
    rounds = tuple(
        tuple(
            Room(room.index, room.case, tuple(sorted((*room.members, person.id))))
            if choice.get(r) is not None and choice[r].index == room.index
            else room
            for room in rooms
        )
        for r, rooms in enumerate(plan.rounds)
    )
    return _replace_rounds(plan, rounds)


def _replace_rounds(plan: Plan, rounds: Sequence[Sequence[Room]], **changes) -> Plan:
    options = {
        "remix": plan.remix,
        "min_size": plan.min_size,
        "max_size": plan.max_size,
        "mix_by": plan.mix_by,
        "seed": plan.seed,
        **changes,
    }
    mode = options.pop("mode", plan.mode)
    return Plan(mode, plan.cases, tuple(tuple(rooms) for rooms in rounds), **options)


def remove_person(plan: Plan, person_id: int, *, from_round: int) -> Plan:
    """The plan without ``person_id`` from round ``from_round`` on; earlier rounds stay as they were.

    Someone left alone by it moves to the smallest other room on the same
    case, else on a case they meet in no other round (fixed groups: for good,
    to the smallest group whose route repeats fewest cases they have seen).
    Rooms left empty are dropped; the others keep their index.
    """
    fixed = plan.fixed_groups
    rounds = [
        [Room(room.index, room.case, tuple(p for p in room.members if p != person_id)) for room in rooms]
        if r >= from_round
        else list(rooms)
        for r, rooms in enumerate(plan.rounds)
    ]

    def move(person: int, r: int, target: int) -> None:
        rounds[r] = [
            Room(room.index, room.case, tuple(sorted((*room.members, person))))
            if room.index == target
            else Room(room.index, room.case, tuple(p for p in room.members if p != person))
            for room in rounds[r]
        ]

    for r in range(from_round, len(rounds)):
        for index in [room.index for room in rounds[r] if len(room.members) == 1]:
            lonely = next(room for room in rounds[r] if room.index == index)
            if len(lonely.members) != 1:  # someone moved in already
                continue
            person = lonely.members[0]
            others = [room for room in rounds[r] if room.index != lonely.index and room.members]
            if not others:
                continue
            if fixed:  # join another group for good, one whose route repeats fewest cases already seen
                seen = {room.case for rooms in rounds[:r] for room in rooms if person in room.members}
                later = range(r, len(rounds))
                target = min(
                    others,
                    key=lambda room: (
                        sum(1 for rr in later if _case_at(rounds[rr], room.index) in seen),
                        len(room.members),
                        room.index,
                    ),
                ).index
                for rr in later:
                    if _case_at(rounds[rr], target) is not None:
                        move(person, rr, target)
            else:  # same case if there is another such room, else a case they do not meet in another round
                elsewhere = {
                    room.case for rr, rooms in enumerate(rounds) if rr != r for room in rooms if person in room.members
                }
                target = min(
                    others,
                    key=lambda room: (room.case != lonely.case, room.case in elsewhere, len(room.members), room.index),
                ).index
                move(person, r, target)
    rounds = [[room for room in rooms if room.members] if r >= from_round else rooms for r, rooms in enumerate(rounds)]
    return _replace_rounds(plan, rounds)


def _keep_company(sequences: dict[int, list[int]], load: list[list[int]], seen: dict[int, set[int]]) -> None:
    """Swap two rounds of one person's sequence so that nobody is alone on a case; ``load`` counts per round and case.

    For someone alone on case ``x`` in round ``i``: either they swap round ``i``
    with a round ``j`` where their case has company and case ``x`` has people,
    or someone else on case ``x`` in a round ``j`` swaps it with their case in
    round ``i``, or someone who meets case ``x`` in no round (``seen`` holds
    the cases met before) takes it in round ``i`` instead. A change is made
    only if it leaves nobody else alone.
    """

    def swap(p: int, i: int, j: int) -> bool:
        seq = sequences[p]
        a, b = seq[i], seq[j]
        changes = {(i, a): -1, (j, b): -1, (i, b): 1, (j, a): 1}
        if a == b or any(load[r][x] + d == 1 for (r, x), d in changes.items()):
            return False
        for (r, x), d in changes.items():
            load[r][x] += d
        seq[i], seq[j] = b, a
        return True

    rounds = len(load)
    for i in range(rounds):
        for x in range(len(load[i])):
            if load[i][x] != 1:
                continue
            alone = next(p for p, seq in sequences.items() if seq[i] == x)
            if any(swap(alone, i, j) for j in range(rounds) if j != i):
                continue
            for p, seq in sequences.items():
                if p != alone and any(seq[j] == x and swap(p, i, j) for j in range(rounds) if j != i):
                    break
            else:
                for p, seq in sequences.items():
                    if x not in seq and x not in seen[p] and load[i][seq[i]] != 2:
                        load[i][seq[i]] -= 1
                        load[i][x] += 1
                        seq[i] = x
                        break


def _widest(groups: dict[int, int], cohorts: dict[int, list[int]]) -> int:
    """The case whose rooms would be largest."""
    return max(groups, key=lambda x: (len(cohorts[x]) / groups[x], -x))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _case_at(rooms: Sequence[Room], index: int) -> int | None:
    return next((room.case for room in rooms if room.index == index), None)


def rebalance(
    plan: Plan,
    people: Sequence[Person],
    *,
    from_round: int,
    mode: str | None = None,
    rooms: int | None = None,
    target_size: int | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    remix: bool | None = None,
    mix_by: Sequence[str] | None = None,
    seed: int | None = None,
) -> Plan:
    """Plan rounds ``from_round`` onwards again for ``people`` (those present); earlier rounds are kept as they are.

    Everyone keeps meeting the cases they have not seen yet, and re-mixed
    rounds avoid people already met. Fixed groups stay together: newcomers
    join the smallest group, groups on the same route are evened out, and a
    group too small is merged into its route's others. Options not given come
    from the plan. With ``from_round`` 0 this is ``plan_rotation``.
    """
    mode = mode or plan.mode
    mix = tuple(plan.mix_by if mix_by is None else mix_by)
    min_size = plan.min_size if min_size is None else min_size
    max_size = plan.max_size if max_size is None else max_size
    seed = plan.seed if seed is None else seed
    fixed = plan.fixed_groups if remix is None else not remix
    options = {"min_size": min_size, "max_size": max_size, "mix_by": mix, "seed": seed}
    if from_round <= 0:
        return plan_rotation(
            people, plan.cases, mode=mode, rooms=rooms, target_size=target_size, remix=not fixed, **options
        )
    if from_round >= len(plan.rounds):
        return _replace_rounds(plan, plan.rounds, mode=mode, remix=not fixed, **options)
    persons, _cases, mix, keys = _prepare(people, plan.cases, mode, mix)
    if len(persons) < 2:
        raise PlanError("At least two people are needed to form a group.")
    seen, met = _history(plan, from_round)
    rng = _rng(seed)
    ids = [p.id for p in persons]
    rng.shuffle(ids)
    context = _Context(plan, from_round, ids, keys, seen, met, rng, min_size, max_size)
    later = context.fixed_groups() if fixed else context.remixed(rooms=rooms, target_size=target_size)
    return _replace_rounds(plan, [*plan.rounds[:from_round], *later], mode=mode, remix=not fixed, **options)


@dataclass
class _Context:
    """What rebalancing the later rounds works from."""

    plan: Plan
    start: int
    ids: list[int]
    keys: dict[int, tuple[str, ...]]
    seen: dict[int, set[int]]
    met: dict[int, set[int]]
    rng: random.Random
    min_size: int
    max_size: int

    def remixed(self, *, rooms: int | None, target_size: int | None) -> list[tuple[Room, ...]]:
        """New rooms for the later rounds: sequences of unseen cases balanced over the rooms, then cohort splits."""
        cases, ids, keys = self.plan.cases, self.ids, self.keys
        c, n, rows = len(cases), len(ids), list(range(self.start, len(self.plan.rounds)))
        previous = sum(1 for room in self.plan.rounds[self.start - 1] if room.members)
        sizes_fit = previous and self.min_size <= n // previous and -(-n // previous) <= self.max_size
        if rooms is None and target_size is None and sizes_fit:
            k = min(previous, n // 2)
        else:
            k = room_count(n, c, rooms=rooms, target_size=target_size, min_size=self.min_size, max_size=self.max_size)
        slots = [[sum(1 for j in range(k) if (j + r) % c == x) for x in range(c)] for r in rows]
        sequences = self.sequences(rows, slots)
        met = defaultdict(set, {p: set(q) for p, q in self.met.items()})
        result = []
        for i, r in enumerate(rows):
            cohorts: dict[int, list[int]] = {x: [p for p in ids if sequences[p][i] == x] for x in range(c)}
            for x in range(c):
                if len(cohorts[x]) == 1:  # still alone: join another case, one they do not meet otherwise if any
                    p = cohorts[x][0]
                    elsewhere = set(sequences[p]) | {cases.index(y) for y in self.seen[p] if y in cases}
                    target = min(
                        (y for y in range(c) if cohorts[y] and y != x),
                        key=lambda y, p=p: (y in elsewhere, len(cohorts[y]) / max(slots[i][y], 1)),
                        default=None,
                    )
                    if target is not None:
                        cohorts[target].append(cohorts[x].pop())
            groups = {x: 1 for x in range(c) if cohorts[x]}

            while sum(groups.values()) < k and len(cohorts[x := _widest(groups, cohorts)]) // (groups[x] + 1) >= 2:
                groups[x] += 1
            # Unless the rooms were counted by the caller, add rooms while a case's groups are too large.
            while (
                rooms is None
                and len(cohorts[x := _widest(groups, cohorts)]) / groups[x] > self.max_size
                and len(cohorts[x]) // (groups[x] + 1) >= max(self.min_size, 2)
            ):
                groups[x] += 1
            parts = {
                x: _split(cohorts[x], room_sizes(len(cohorts[x]), g), keys=keys, met=met, rng=self.rng)
                for x, g in groups.items()
            }
            # Interleave the cases as plan_rotation does: room j is on case (j + r) % C while that lasts.
            order = sorted(parts, key=lambda x: (x - r) % c)
            ordered = [
                (x, part)
                for level in itertools.zip_longest(*(parts[x] for x in order))
                for x, part in zip(order, level, strict=True)
                if part is not None
            ]
            _record(met, (part for _x, part in ordered))
            result.append(tuple(Room(j, cases[x], tuple(sorted(part))) for j, (x, part) in enumerate(ordered)))
        return result

    def sequences(self, rows: list[int], slots: list[list[int]]) -> dict[int, list[int]]:
        """Everyone's cases (indices) for the later rounds: unseen ones, filling the cases' rooms evenly.

        People with the fewest cases left choose first; each takes the order that
        keeps the people per room of every case lowest, preferring the rounds
        planned before. Then anyone left alone on a case is given company by
        swapping two rounds of their own sequence or of someone else's.
        """
        cases, keys, c = self.plan.cases, self.keys, len(self.plan.cases)
        load = [[0] * c for _ in rows]
        alike: Counter = Counter()
        sequences: dict[int, list[int]] = {}
        for p in sorted(self.ids, key=lambda p: (len(set(cases) - self.seen[p]), keys[p])):
            seen = {cases.index(x) for x in self.seen[p] if x in cases}
            unseen = [x for x in range(c) if x not in seen]
            value = keys[p][0] if keys[p] else ""
            planned = [
                cases.index(room.case) if (room := self.plan.room_of(p, r)) and room.case in cases else -1 for r in rows
            ]

            def cost(i: int, x: int, seen=seen, value=value, planned=planned) -> float:
                g = slots[i][x]
                spread = (load[i][x] + 1) / g if g else 1000 + load[i][x]
                keep = -0.01 if planned[i] == x else 0
                return spread + keep + (10**6 if x in seen else 0) + 0.1 * alike[i, x, value] / max(g, 1)

            picks = _best_injection(len(rows), unseen if len(unseen) >= len(rows) else range(c), cost)
            if picks is None:  # more rounds than cases left: repeat the least crowded
                picks = [min(range(c), key=lambda x, i=i: cost(i, x)) for i in range(len(rows))]
            sequences[p] = picks
            for i, x in enumerate(picks):
                load[i][x] += 1
                alike[i, x, value] += 1
        _keep_company(sequences, load, {p: {cases.index(x) for x in self.seen[p] if x in cases} for p in self.ids})
        return sequences

    def fixed_groups(self) -> list[tuple[Room, ...]]:
        """The later rounds with the groups kept: newcomers join, groups on one route are evened out or merged."""
        plan, start, keys = self.plan, self.start, self.keys
        cases, present = plan.cases, set(self.ids)
        last = plan.rounds[start - 1]
        groups = {room.index: [p for p in room.members if p in present] for room in last}
        route = {}
        for room in last:
            position = cases.index(room.case) if room.case in cases else room.index
            route[room.index] = tuple(
                _or(_case_at(plan.rounds[r], room.index), cases[(position + r - start + 1) % len(cases)])
                for r in range(start, len(plan.rounds))
            )
        placed = {p for members in groups.values() for p in members}
        for p in [p for p in self.ids if p not in placed]:
            index = min(
                groups,
                key=lambda j: (
                    not groups[j],
                    len(groups[j]),
                    sum(1 for x in route[j] if x in self.seen[p]),
                    sum(1 for q in groups[j] for a, b in zip(keys[q], keys[p], strict=True) if a and a == b),
                    j,
                ),
            )
            groups[index].append(p)
        next_index = max(groups, default=-1) + 1
        for path in dict.fromkeys(route.values()):
            family = [j for j in groups if route[j] == path]
            total = sum(len(groups[j]) for j in family)
            if not total:
                continue
            want = sum(1 for j in family if groups[j])
            while want > 1 and (
                total // want < 2 or (total / want < self.min_size and total / (want - 1) <= self.max_size)
            ):
                want -= 1
            while total / want > self.max_size and total // (want + 1) >= max(self.min_size, 2):
                groups[next_index], route[next_index] = [], path
                family.append(next_index)
                next_index += 1
                want += 1
            keep = sorted(family, key=lambda j: (-len(groups[j]), j))[:want]
            spill = [p for j in family if j not in keep for p in groups.pop(j)]
            for p in spill:
                groups[min(keep, key=lambda j: (len(groups[j]), j))].append(p)
            while True:
                big = max(keep, key=lambda j: (len(groups[j]), -j))
                small = min(keep, key=lambda j: (len(groups[j]), j))
                if len(groups[big]) - len(groups[small]) <= 1:
                    break
                mover = max(
                    groups[big],
                    key=lambda p: (
                        sum(1 for q in groups[big] for a, b in zip(keys[q], keys[p], strict=True) if a and a == b)
                        - sum(1 for q in groups[small] for a, b in zip(keys[q], keys[p], strict=True) if a and a == b),
                        -p,
                    ),
                )
                groups[big].remove(mover)
                groups[small].append(mover)
        for j in [j for j in groups if len(groups[j]) == 1]:
            others = [i for i in groups if i != j and groups[i]]
            if others:
                p = groups[j].pop()
                target = min(others, key=lambda i: (sum(1 for x in route[i] if x in self.seen[p]), len(groups[i]), i))
                groups[target].append(p)
        return [
            tuple(Room(j, route[j][i], tuple(sorted(groups[j]))) for j in sorted(groups) if groups[j])
            for i in range(len(plan.rounds) - start)
        ]
