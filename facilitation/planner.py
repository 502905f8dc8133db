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
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

MODES = ("A", "B")
MIX_ATTRIBUTES = ("organisation", "department", "role_group")
# Residents and elected officials spread first: role groups are the usual minorities in a workshop.
DEFAULT_MIX_BY = ("role_group", "organisation", "department")
STAY_WITH = ("case", "group")

_PAIR_WEIGHT = 1000  # one repeated meeting outweighs any attribute mixing
_SWAP_PASSES = 4
_ATTEMPTS, _ATTEMPT_LIMIT = 8, 120  # fresh starts for plans of up to this many people
_ALL_PERMUTATIONS_UP_TO, _CANDIDATES = 5, 120  # 5! = 120 candidate sequences; as many for more cases
_INF = float("inf")


class PlanError(ValueError):
    """The groups cannot be formed; the message is plain English for developers."""


@dataclass(frozen=True)
class Person:
    """A participant to place; empty attributes are simply not mixed."""

    id: int
    organisation: str = ""
    department: str = ""
    role_group: str = ""


@dataclass(frozen=True)
class Room:
    """One room in one round."""

    index: int
    case: int
    members: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """Every round's rooms; the options that made it travel along for ``rebalance`` and late joiners."""

    mode: str
    cases: tuple[int, ...]
    rounds: tuple[tuple[Room, ...], ...]
    remix: bool | None = None  # None: read from the rooms (``fixed_groups``)
    min_size: int = 4
    max_size: int = 7
    mix_by: tuple[str, ...] = DEFAULT_MIX_BY
    seed: int = 0

    def repeated_pairs(self) -> int:
        """Pairs of people together in more than one round, each counted (times together - 1)."""
        together = Counter(pair for rooms in self.rounds for room in rooms for pair in _pairs(room.members))
        return sum(times - 1 for times in together.values() if times > 1)

    def room_of(self, person_id: int, round_index: int) -> Room | None:
        """The room the person is in during the round, or None."""
        return self._where.get((person_id, round_index))

    def sequence(self, person_id: int) -> tuple[int | None, ...]:
        """The case the person is on in each round (None where they are in no room)."""
        return tuple(room.case if (room := self.room_of(person_id, r)) else None for r in range(len(self.rounds)))

    def people(self) -> tuple[int, ...]:
        """Everyone in any room of any round, sorted."""
        return tuple(sorted({person for rooms in self.rounds for room in rooms for person in room.members}))

    @cached_property
    def _where(self) -> dict[tuple[int, int], Room]:
        return {(p, r): room for r, rooms in enumerate(self.rounds) for room in rooms for p in room.members}

    @property
    def fixed_groups(self) -> bool:
        """True when the groups stay together: as set, or (remix unknown) when nearly everyone keeps their room slot.

        "Nearly" (90 %) so that a few people moved by hand do not turn a plan of fixed groups into a re-mixed one.
        """
        if self.remix is not None:
            return not self.remix
        slots = [{p: room.index for room in rooms for p in room.members} for rooms in self.rounds]
        for before, after in itertools.pairwise(slots):
            common = [p for p in after if p in before]
            if sum(1 for p in common if before[p] == after[p]) < 0.9 * len(common):
                return False
        return len(slots) > 1

    def as_dict(self) -> dict:
        """A JSON-ready form of the plan; ``Plan.from_dict`` reads it back."""
        return {
            "mode": self.mode,
            "cases": list(self.cases),
            "rounds": [[[room.index, room.case, list(room.members)] for room in rooms] for rooms in self.rounds],
            "remix": self.remix,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "mix_by": list(self.mix_by),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        """The plan from ``as_dict`` output."""
        rounds = tuple(tuple(Room(i, c, tuple(m)) for i, c, m in rooms) for rooms in data["rounds"])
        return cls(
            mode=data["mode"],
            cases=tuple(data["cases"]),
            rounds=rounds,
            remix=data.get("remix"),
            min_size=data.get("min_size", 4),
            max_size=data.get("max_size", 7),
            mix_by=tuple(data.get("mix_by", DEFAULT_MIX_BY)),
            seed=data.get("seed", 0),
        )


def _pairs(members: Iterable[int]) -> Iterable[tuple[int, int]]:
    return itertools.combinations(sorted(members), 2)


# --- sizes ---------------------------------------------------------------------------------------


def room_sizes(n: int, rooms: int) -> list[int]:
    """Sizes of ``rooms`` rooms for ``n`` people, differing by at most one, larger ones first."""
    base, extra = divmod(n, rooms)
    return [base + (1 if j < extra else 0) for j in range(rooms)]


def room_count(
    n: int,
    n_cases: int,
    *,
    rooms: int | None = None,
    target_size: int | None = None,
    min_size: int = 4,
    max_size: int = 7,
) -> int:
    """How many rooms per round for ``n`` people.

    An explicit ``rooms`` wins (sizes may then leave the bounds), capped so that
    nobody is alone. A ``target_size`` picks the count whose average size is
    nearest to it, within the bounds when possible. Otherwise: within the
    bounds, a multiple of the number of cases when one fits, average size
    nearest the middle of the bounds. Bounds no count can meet: the count
    that misses them least (for 5 people with minimum 4, one room of 5).
    """
    if n < 2:
        raise PlanError("At least two people are needed to form a group.")
    if min_size < 1 or max_size < min_size:
        raise PlanError("The group size bounds must satisfy 1 <= min_size <= max_size.")
    upper = max(1, n // 2)
    if rooms is not None:
        if rooms < 1:
            raise PlanError("There must be at least one room.")
        return min(rooms, upper)
    counts = range(1, upper + 1)

    def miss(k: int) -> int:
        return max(0, min_size - n // k) + max(0, -(-n // k) - max_size)

    feasible = [k for k in counts if miss(k) == 0]
    if target_size is not None:
        if target_size < 2:
            raise PlanError("The target group size must be at least 2.")
        return min(feasible or counts, key=lambda k: (abs(n / k - target_size), k % n_cases != 0, -k))
    middle = (min_size + max_size) / 2
    if not feasible:
        return min(counts, key=lambda k: (miss(k), abs(n / k - middle), -k))
    aligned = [k for k in feasible if k % n_cases == 0]
    return min(aligned or feasible, key=lambda k: (abs(n / k - middle), -k))


# --- splitting one cohort into rooms -------------------------------------------------------------


def _split(
    members: Sequence[int],
    sizes: Sequence[int],
    *,
    keys: dict[int, tuple[str, ...]],
    met: dict[int, set[int]],
    rng: random.Random,
) -> list[list[int]]:
    """Split ``members`` into rooms of exactly ``sizes``, avoiding earlier meetings and mixing attributes.

    People are placed one value of the first mix attribute at a time, largest
    first; each value gets ``floor`` or ``ceil(k / rooms)`` places per room, the
    extra places going to the rooms with most space left, which keeps every
    room exactly fillable. Swaps afterwards lower repeated meetings while
    keeping every value at most ``ceil(k / rooms)`` per room.
    """
    g = len(sizes)
    if g == 1:
        return [list(members)]
    cohort = set(members)
    width = len(next(iter(keys.values()), ()))
    weights = [width - i for i in range(width)]  # secondary attributes, earlier ones weigh more
    partners = {p: [q for q in met.get(p, ()) if q in cohort] for p in members}
    conf = {p: [0] * g for p in members}  # people already met in each room
    attr = [[Counter() for _ in range(width)] for _ in range(g)]
    rooms: list[list[int]] = [[] for _ in range(g)]
    room_of: dict[int, int] = {}
    free = list(sizes)
    tiebreak = list(range(g))
    rng.shuffle(tiebreak)

    def attr_cost(p: int, r: int) -> int:
        return sum(weights[i] * attr[r][i][v] for i, v in enumerate(keys[p]) if i and v)

    def place(p: int, r: int) -> None:
        rooms[r].append(p)
        room_of[p] = r
        free[r] -= 1
        for i, v in enumerate(keys[p]):
            attr[r][i][v] += 1
        for q in partners[p]:
            conf[q][r] += 1

    blocks: dict[str, list[int]] = defaultdict(list)
    for p in members:
        blocks[keys[p][0] if width else ""].append(p)
    for value in sorted(blocks, key=lambda v: (-len(blocks[v]), v)):
        block = sorted(blocks[value], key=lambda p: -len(partners[p]))  # stable: keeps the shuffled order
        base, rem = divmod(len(block), g)
        after = [free[r] - base for r in range(g)]
        top = max(after)
        high = [a == top for a in after]
        need_high = min(rem, sum(high))
        allow_low = rem - need_high
        used_high = used_low = 0
        taken = [0] * g
        for p in block:
            best, best_key = -1, None
            for r in range(g):
                if taken[r] > base:
                    continue
                if taken[r] == base and (used_high >= need_high if high[r] else used_low >= allow_low):
                    continue
                key = (_PAIR_WEIGHT * conf[p][r] + attr_cost(p, r), -free[r], tiebreak[r])
                if best_key is None or key < best_key:
                    best, best_key = r, key
            assert best >= 0  # the allowance always adds up to the block
            if taken[best] == base:
                if high[best]:
                    used_high += 1
                else:
                    used_low += 1
            taken[best] += 1
            place(p, best)

    if any(partners.values()):
        _improve(rooms, room_of, conf, attr, partners, keys, weights, blocks, met)
    return rooms


def _improve(
    rooms: list[list[int]],
    room_of: dict[int, int],
    conf: dict[int, list[int]],
    attr: list[list[Counter]],
    partners: dict[int, list[int]],
    keys: dict[int, tuple[str, ...]],
    weights: list[int],
    blocks: dict[str, list[int]],
    met: dict[int, set[int]],
) -> None:
    """Swap pairs of people between rooms while that lowers repeated meetings (then attribute clumping)."""
    g = len(rooms)
    cap = {v: -(-len(ps) // g) for v, ps in blocks.items()}
    primary = {p: (keys[p][0] if keys[p] else "") for p in room_of}

    def attr_delta(p: int, q: int, a: int, b: int) -> int:
        total = 0
        for i in range(1, len(weights)):
            pv, qv = keys[p][i], keys[q][i]
            if pv == qv:
                continue
            if pv:
                total += weights[i] * (attr[b][i][pv] - (attr[a][i][pv] - 1))
            if qv:
                total += weights[i] * (attr[a][i][qv] - (attr[b][i][qv] - 1))
        return total

    for _ in range(_SWAP_PASSES):
        improved = False
        for p in [p for p in room_of if conf[p][room_of[p]]]:
            a = room_of[p]
            if not conf[p][a]:
                continue
            best_q, best_delta = None, 0
            for b in range(g):
                if b == a:
                    continue
                for q in rooms[b]:
                    pv, qv = primary[p], primary[q]
                    if pv != qv and (attr[b][0][pv] + 1 > cap[pv] or attr[a][0][qv] + 1 > cap[qv]):
                        continue
                    both = 1 if q in met.get(p, ()) else 0
                    pairs = conf[p][b] - both - conf[p][a] + conf[q][a] - both - conf[q][b]
                    delta = _PAIR_WEIGHT * pairs + attr_delta(p, q, a, b)
                    if delta < best_delta:
                        best_q, best_delta = q, delta
            if best_q is None:
                continue
            q, b = best_q, room_of[best_q]
            rooms[a][rooms[a].index(p)] = q
            rooms[b][rooms[b].index(q)] = p
            room_of[p], room_of[q] = b, a
            for who, old, new in ((p, a, b), (q, b, a)):
                for i, v in enumerate(keys[who]):
                    attr[old][i][v] -= 1
                    attr[new][i][v] += 1
                for x in partners[who]:
                    conf[x][old] -= 1
                    conf[x][new] += 1
            improved = True
        if not improved:
            return


# --- case sequences ------------------------------------------------------------------------------


def _candidate_sequences(c: int, rng: random.Random) -> list[tuple[int, ...]]:
    """Every permutation for few cases; else Latin-square rows plus random permutations, as varied as affordable."""
    if c <= _ALL_PERMUTATIONS_UP_TO:
        return list(itertools.permutations(range(c)))
    units = [m for m in range(1, c) if math.gcd(m, c) == 1]
    candidates = dict.fromkeys(tuple((m * r + d) % c for r in range(c)) for m in units for d in range(c))
    while len(candidates) < _CANDIDATES:
        candidates[tuple(rng.sample(range(c), c))] = None
    return list(candidates)


def _matching(allowed: list[list[bool]]) -> tuple[int, ...] | None:
    """A perfect matching rounds -> cases using only allowed cells (Kuhn's augmenting paths)."""
    c = len(allowed)
    owner = [-1] * c

    def augment(r: int, seen: list[bool]) -> bool:
        for k in range(c):
            if allowed[r][k] and not seen[k]:
                seen[k] = True
                if owner[k] < 0 or augment(owner[k], seen):
                    owner[k] = r
                    return True
        return False

    if not all(augment(r, [False] * c) for r in range(c)):
        return None
    result = [0] * c
    for k, r in enumerate(owner):
        result[r] = k
    return tuple(result)


def _decompose(counts: list[list[int]], rng: random.Random) -> list[tuple[int, ...]]:
    """Split a round x case head-count matrix (all line sums equal) into that many case sequences.

    Any permutation inside the matrix's support keeps the rest decomposable
    (Birkhoff–König), so the greedy never gets stuck; it takes the least-used
    sequence first to keep them varied.
    """
    c = len(counts)
    remaining = [row[:] for row in counts]
    candidates = _candidate_sequences(c, rng)
    usage: Counter = Counter()
    result = []
    for _ in range(sum(counts[0])):
        best, best_key = None, None
        for position, seq in enumerate(candidates):
            low = min(remaining[r][seq[r]] for r in range(c))
            if low > 0:
                key = (usage[seq], -low, position)
                if best_key is None or key < best_key:
                    best, best_key = seq, key
        if best is None:
            for threshold in sorted({v for row in remaining for v in row if v > 0}, reverse=True):
                best = _matching([[v >= threshold for v in row] for row in remaining])
                if best:
                    break
        assert best is not None  # equal line sums always hold a perfect matching
        usage[best] += 1
        for r in range(c):
            remaining[r][best[r]] -= 1
        result.append(best)
    return result


def _deal_sequences(
    first_rooms: list[list[int]],
    first_case: list[int],
    sequences: list[tuple[int, ...]],
    keys: dict[int, tuple[str, ...]],
    rng: random.Random,
) -> dict[int, tuple[int, ...]]:
    """Give everyone a sequence starting with their round-0 case: roommates and look-alikes get different ones."""
    pool: dict[int, Counter] = defaultdict(Counter)
    for seq in sequences:
        pool[seq[0]][seq] += 1
    total = {case: Counter(counter) for case, counter in pool.items()}
    holders: Counter = Counter()
    in_room: Counter = Counter()
    order = [(p, j) for j, room in enumerate(first_rooms) for p in room]
    rng.shuffle(order)
    order.sort(key=lambda item: keys[item[0]])
    result = {}
    for p, j in order:
        case = first_case[j]
        options = [seq for seq, left in pool[case].items() if left]
        seq = min(
            options,
            key=lambda s: (
                in_room[j, s],
                sum(holders[i, v, s] for i, v in enumerate(keys[p]) if v) / total[case][s],
                -pool[case][s] / total[case][s],
                s,
            ),
        )
        pool[case][seq] -= 1
        in_room[j, seq] += 1
        for i, v in enumerate(keys[p]):
            holders[i, v, seq] += 1
        result[p] = seq
    return result


# --- planning ------------------------------------------------------------------------------------


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


# --- changes during the workshop -----------------------------------------------------------------


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


# --- leaders -------------------------------------------------------------------------------------


def leaders_for(plan: Plan, leaders: Sequence[int], *, stay_with: str = "case") -> tuple[tuple[int | None, ...], ...]:
    """Which leader runs each room, per round in the plan's room order; None where there are too few leaders.

    ``"group"``: leader ``i`` stays with room index ``i`` in every round.
    ``"case"``: a leader stays with one case (mode B: their station); a case
    needing several parallel rooms gets several leaders, dealt round-robin
    over the cases that still need one.
    """
    if stay_with not in STAY_WITH:
        raise PlanError(f"Leaders stay with 'case' or 'group', not {stay_with!r}.")
    leaders = list(leaders)
    if stay_with == "group":
        return tuple(
            tuple(leaders[room.index] if room.index < len(leaders) else None for room in rooms) for rooms in plan.rounds
        )
    need: Counter = Counter()
    for rooms in plan.rounds:
        for case, count in Counter(room.case for room in rooms).items():
            need[case] = max(need[case], count)
    order = [case for case in plan.cases if case in need] + [case for case in need if case not in plan.cases]
    by_case: dict[int | None, list[int]] = defaultdict(list)
    supply = iter(leaders)
    for level in range(max(need.values(), default=0)):
        for case in order:
            if need[case] > level and (leader := next(supply, None)) is not None:
                by_case[case].append(leader)
    result = []
    for rooms in plan.rounds:
        rank = {
            room.index: i
            for case in need
            for i, room in enumerate(sorted((x for x in rooms if x.case == case), key=lambda x: x.index))
        }
        result.append(
            tuple(
                by_case[room.case][rank[room.index]] if rank[room.index] < len(by_case[room.case]) else None
                for room in rooms
            )
        )
    return tuple(result)


# --- baselines for comparison --------------------------------------------------------------------


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
