"""The planner's vocabulary: people, rooms, plans, and how many rooms of which size."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

MODES = ("A", "B")
MIX_ATTRIBUTES = ("organisation", "department", "role_group")
# Residents and elected officials spread first: role groups are the usual minorities in a workshop.
DEFAULT_MIX_BY = ("role_group", "organisation", "department")
STAY_WITH = ("case", "group")


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
