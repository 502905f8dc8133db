"""Splitting one cohort into rooms, and the case sequences people follow when groups remix."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

_PAIR_WEIGHT = 1000  # one repeated meeting outweighs any attribute mixing
_SWAP_PASSES = 4
_ALL_PERMUTATIONS_UP_TO, _CANDIDATES = 5, 120  # 5! = 120 candidate sequences; as many for more cases


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
