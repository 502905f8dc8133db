"""Which group leader runs which room in each round."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from facilitation.planner.model import STAY_WITH, Plan, PlanError


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
