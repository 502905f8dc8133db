"""Reads for the small-group rounds page: the plan as a grid, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import Count, Q

from facilitation.models import Room, RoomMember, Rotation, Round
from workshops.models import Participant, Workshop


@dataclass
class GridMember:
    participant_id: int
    name: str
    organisation: str
    department: str
    role_group: str
    gone: bool

    @property
    def details(self) -> list[str]:
        """Organisation, department and role group, the ones that are known."""
        return [part for part in (self.organisation, self.department, self.role_group) if part]


@dataclass
class GridRoom:
    index: int
    label: str
    case_title: str
    leader_name: str
    meeting_url: str
    members: list[GridMember] = field(default_factory=list)

    @property
    def present_count(self) -> int:
        return sum(not member.gone for member in self.members)


@dataclass
class GridRound:
    number: int
    started: bool
    closed: bool
    rooms: list[GridRoom] = field(default_factory=list)
    repeated_pairs: int = 0

    @property
    def running(self) -> bool:
        return self.started and not self.closed


@dataclass
class RoundsPage:
    rotation: Rotation
    rounds: list[GridRound]
    case_count: int
    participant_count: int

    @property
    def any_started(self) -> bool:
        return any(round_.started for round_ in self.rounds)


def rotation_of(workshop: Workshop) -> Rotation:
    """The workshop's rotation settings, or the defaults (unsaved) if none were saved yet."""
    saved = Rotation.objects.filter(workshop=workshop).first()
    if saved is not None:
        return saved
    stations = workshop.format == Workshop.Format.PARASTAMINEN_B
    return Rotation(workshop=workshop, mode=Rotation.Mode.STATIONS if stations else Rotation.Mode.GROUPS)


def repeated_pairs(rounds: list[list[list[int]]]) -> list[int]:
    """Per round, how many pairs of people in the same room already shared a room in an earlier round.

    ``rounds`` is rounds → rooms → the ids of the people present.
    """
    met: set[tuple[int, int]] = set()
    counts = []
    for rooms in rounds:
        pairs = {pair for members in rooms for pair in combinations(sorted(members), 2)}
        counts.append(len(pairs & met))
        met |= pairs
    return counts


def rounds_grid(workshop: Workshop) -> list[GridRound]:
    """Rounds → rooms (case, leader, link) → members (who they are, whether gone); three queries."""
    rounds = [
        GridRound(number=row.number, started=row.started_at is not None, closed=row.closed_at is not None)
        for row in Round.objects.filter(workshop=workshop).order_by("number")
    ]
    if not rounds:
        return []
    by_number = {round_.number: round_ for round_ in rounds}
    rooms: dict[int, GridRoom] = {}
    for room in (
        Room.objects.filter(round__workshop=workshop)
        .select_related("round", "case", "leader")
        .order_by("round__number", "index")
    ):
        grid_room = GridRoom(
            index=room.index,
            label=room.label,
            case_title=room.case.title if room.case else "",
            leader_name=room.leader.name if room.leader else "",
            meeting_url=room.meeting_url,
        )
        rooms[room.pk] = grid_room
        by_number[room.round.number].rooms.append(grid_room)
    role_groups = dict(Participant.RoleGroup.choices)
    for member in (
        RoomMember.objects.filter(round__workshop=workshop)
        .select_related("participant")
        .order_by("participant__name", "participant_id")
    ):
        person = member.participant
        rooms[member.room_id].members.append(
            GridMember(
                participant_id=person.pk,
                name=person.name,
                organisation=person.organisation_name,
                department=person.department,
                role_group=str(role_groups.get(person.role_group, "")),
                gone=member.left_at is not None,
            )
        )
    present = [
        [[member.participant_id for member in room.members if not member.gone] for room in round_.rooms]
        for round_ in rounds
    ]
    for round_, count in zip(rounds, repeated_pairs(present), strict=True):
        round_.repeated_pairs = count
    return rounds


def repeated_pairs_by_round(workshop: Workshop) -> dict[int, int]:
    """Round number → repeated-pair count, for answering a move without rendering the page; two queries."""
    numbers = list(Round.objects.filter(workshop=workshop).order_by("number").values_list("number", flat=True))
    rooms: dict[int, dict[int, list[int]]] = {number: defaultdict(list) for number in numbers}
    members = RoomMember.objects.filter(round__workshop=workshop, left_at__isnull=True).values_list(
        "round__number", "room_id", "participant_id"
    )
    for number, room_id, participant_id in members:
        rooms[number][room_id].append(participant_id)
    counts = repeated_pairs([list(rooms[number].values()) for number in numbers])
    return dict(zip(numbers, counts, strict=True))


def rounds_page(workshop: Workshop) -> RoundsPage:
    """Everything the rounds page shows: settings, the grid, and what planning needs; six queries."""
    counts = Workshop.objects.filter(pk=workshop.pk).aggregate(
        cases=Count("cases", distinct=True),
        participants=Count("participants", filter=Q(participants__role=Participant.Role.PARTICIPANT), distinct=True),
    )
    return RoundsPage(
        rotation=rotation_of(workshop),
        rounds=rounds_grid(workshop),
        case_count=counts["cases"],
        participant_count=counts["participants"],
    )
