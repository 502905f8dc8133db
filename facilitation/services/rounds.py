"""Small-group rounds: store the rotation plan, start and close rounds, move people, place late joiners.

The plan itself comes from the pure ``facilitation.planner``; these services
turn it into rounds, rooms and members in the database, and keep the rounds
already run exactly as they were.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import planner, realtime
from facilitation.models import Event, LiveState, Phase, Room, RoomMember, Rotation, Round
from facilitation.permissions import LiveViewer, in_room
from facilitation.services.common import LiveError, _require_live
from facilitation.services.live import timer_start
from workshops.models import Participant, Workshop

logger = logging.getLogger(__name__)
ROUND_PANELS_MAX_WAIT = 15  # seconds a room's members' pages wait for their pushed panel at most


def rotation_settings(workshop: Workshop) -> Rotation:
    """The workshop's rotation settings; a Parastaminen B workshop starts with rotating stations."""
    mode = Rotation.Mode.STATIONS if workshop.format == Workshop.Format.PARASTAMINEN_B else Rotation.Mode.GROUPS
    rotation, _created = Rotation.objects.get_or_create(workshop=workshop, defaults={"mode": mode})
    return rotation


@transaction.atomic
def rotation_update(*, workshop: Workshop, data: dict) -> Rotation:
    """Save how the rounds rotate; the plan is made again with ``rounds_plan``."""
    rotation = rotation_settings(workshop)
    for name, value in data.items():
        setattr(rotation, name, value)
    rotation.full_clean()
    rotation.save()
    cases = tuple(workshop.cases.order_by("position", "pk").values_list("pk", flat=True))
    for room in Room.objects.filter(round__workshop=workshop):
        link = _link(rotation.room_links, planner.Room(room.index, room.case_id, ()), cases, rotation.mode)
        if room.meeting_url != link:
            Room.objects.filter(pk=room.pk).update(meeting_url=link)
    return rotation


def _person(participant: Participant) -> planner.Person:
    return planner.Person(
        id=participant.pk,
        organisation=participant.organisation_name,
        department=participant.department,
        role_group=participant.role_group,
    )


def _present_people(workshop: Workshop) -> list[planner.Person]:
    """Participants to place: those who have joined once the workshop runs, everyone invited before."""
    people = Participant.objects.filter(workshop=workshop, role=Participant.Role.PARTICIPANT).order_by("pk")
    if workshop.status == Workshop.Status.LIVE and people.filter(first_joined_at__isnull=False).exists():
        people = people.filter(first_joined_at__isnull=False)
    return [_person(participant) for participant in people]


def _leader_ids(workshop: Workshop) -> list[int]:
    return list(
        Participant.objects.filter(workshop=workshop, role=Participant.Role.GROUP_LEADER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _presenters_by_case(workshop: Workshop) -> dict[int, int]:
    """Each case's presenter among the participants, recognised by the case's presenter e-mail."""
    presenters = {
        participant.email.lower(): participant.pk
        for participant in Participant.objects.filter(workshop=workshop, role=Participant.Role.PRESENTER)
        if participant.email
    }
    return {
        case.pk: presenters[case.presenter_email.lower()]
        for case in workshop.cases.all()
        if case.presenter_email and case.presenter_email.lower() in presenters
    }


def _options(rotation: Rotation) -> dict:
    return {
        "mode": rotation.mode,
        "rooms": rotation.rooms,
        "min_size": rotation.min_size,
        "max_size": rotation.max_size,
        "remix": rotation.remix,
        "seed": rotation.seed,
    }


def _rounds(workshop: Workshop):
    members = RoomMember.objects.filter(left_at__isnull=True).order_by("participant_id")
    return (
        Round.objects.filter(workshop=workshop)
        .order_by("number")
        .prefetch_related(
            Prefetch("rooms", queryset=Room.objects.order_by("index").prefetch_related(Prefetch("members", members)))
        )
    )


def plan_from_db(workshop: Workshop) -> planner.Plan | None:
    """The stored rounds as a planner ``Plan`` (people who left are not in it)."""
    rounds = list(_rounds(workshop))
    if not rounds:
        return None
    rotation = rotation_settings(workshop)
    return planner.Plan(
        mode=rotation.mode,
        remix=rotation.remix,
        min_size=rotation.min_size,
        max_size=rotation.max_size,
        seed=rotation.seed,
        cases=tuple(workshop.cases.order_by("position", "pk").values_list("pk", flat=True)),
        rounds=tuple(
            tuple(
                planner.Room(
                    index=room.index,
                    case=room.case_id,
                    members=tuple(member.participant_id for member in room.members.all()),
                )
                for room in round_.rooms.all()
            )
            for round_ in rounds
        ),
    )


def _link(links: list[str], room: planner.Room, cases: tuple[int, ...], mode: str) -> str:
    """A room's video link: by room letter, or, for rotating stations, by the station's case."""
    position = cases.index(room.case) if mode == Rotation.Mode.STATIONS and room.case in cases else room.index
    return links[position] if position < len(links) else ""


def _store_rounds(workshop: Workshop, plan: planner.Plan, *, from_round: int = 0) -> list[Round]:
    """Write rounds ``from_round`` onwards of ``plan``, replacing what was stored for them."""
    rotation = rotation_settings(workshop)
    leaders = planner.leaders_for(plan, _leader_ids(workshop), stay_with=rotation.leaders_stay)
    links = rotation.room_links
    # Rotating stations: a case's presenter stays at their station and leads it.
    presenters = _presenters_by_case(workshop) if rotation.mode == Rotation.Mode.STATIONS else {}
    Round.objects.filter(workshop=workshop, number__gt=from_round).delete()
    stored = []
    for offset, rooms in enumerate(plan.rounds[from_round:]):
        number = from_round + offset + 1
        round_ = Round.objects.create(workshop=workshop, number=number)
        room_rows = Room.objects.bulk_create(
            Room(
                round=round_,
                index=room.index,
                case_id=room.case,
                leader_id=presenters.get(room.case) or leaders[number - 1][position],
                meeting_url=_link(links, room, plan.cases, rotation.mode),
            )
            for position, room in enumerate(rooms)
        )
        RoomMember.objects.bulk_create(
            RoomMember(round=round_, room=row, participant_id=person)
            for row, room in zip(room_rows, rooms, strict=True)
            for person in room.members
        )
        stored.append(round_)
    return stored


def _started(workshop: Workshop) -> list[Round]:
    return list(Round.objects.filter(workshop=workshop, started_at__isnull=False).order_by("number"))


@transaction.atomic
def rounds_plan(*, workshop: Workshop) -> list[Round]:
    """Plan every round afresh for the people present; only before the first round has started."""
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    if _started(workshop):
        raise LiveError(_("A round has already started; rebalance the remaining rounds instead."))
    cases = list(workshop.cases.order_by("position", "pk").values_list("pk", flat=True))
    if not cases:
        raise LiveError(_("Add the cases first: the rounds rotate through them."))
    people = _present_people(workshop)
    try:
        plan = planner.plan_rotation(people, cases, **_options(rotation_settings(workshop)))
    except planner.PlanError as error:
        raise LiveError(_("The groups cannot be formed: %(reason)s") % {"reason": error}) from error
    rounds = _store_rounds(workshop, plan)
    realtime.resubscribe(workshop_id=workshop.pk)
    realtime.publish(workshop_id=workshop.pk, kind="rounds.planned", payload={}, audience="staff")
    return rounds


def current_round(workshop: Workshop) -> Round | None:
    """The round running now: started and not closed."""
    return (
        Round.objects.filter(workshop=workshop, started_at__isnull=False, closed_at__isnull=True)
        .order_by("-number")
        .first()
    )


@transaction.atomic
def round_start(*, workshop: Workshop, number: int) -> Round:
    """Send everyone to their room for round ``number``; the round's timer starts. Broadcasts ``round``."""
    _require_live(workshop)
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    round_ = Round.objects.filter(workshop=workshop, number=number).first()
    if round_ is None:
        raise LiveError(_("Plan the rounds first."))
    running = current_round(workshop)
    if running is not None and running.pk != round_.pk:
        running.closed_at = timezone.now()
        running.save(update_fields=["closed_at"])
    round_.started_at = round_.started_at or timezone.now()
    round_.closed_at = None
    round_.save(update_fields=["started_at", "closed_at"])
    payload = {"round": number, "open": True}
    in_rounds = LiveState.objects.filter(pk=workshop.pk, current_phase__kind=Phase.Kind.ROUNDS).exists()
    if in_rounds:
        # Each room's panel follows on the socket (``tasks.round_panels_publish``): the pages of the rooms'
        # members wait for it this many seconds before asking for it themselves (a room takes a few ms).
        payload["panels"] = min(ROUND_PANELS_MAX_WAIT, 2 + round_.rooms.count() // 25)
    # Pushed in this order after commit: the round, then its timer (each frame goes to every socket, and
    # the round's is the one people wait for), then the rooms' panels.
    realtime.publish(workshop_id=workshop.pk, kind="round", payload=payload)
    timer_start(workshop=workshop, seconds=rotation_settings(workshop).round_minutes * 60)
    if in_rounds:
        transaction.on_commit(lambda: _schedule_round_panels(workshop.pk, number))
    return round_


def _schedule_round_panels(workshop_id: int, number: int) -> None:
    from facilitation.tasks import round_panels_publish

    try:
        round_panels_publish.delay(workshop_id, number)
    except Exception:  # the broker is down: the round runs, the pages ask for their panels themselves
        logger.warning(
            "Could not schedule the room panels of round %s in workshop %s", number, workshop_id, exc_info=True
        )


@transaction.atomic
def round_close(*, workshop: Workshop) -> Round | None:
    """End the running round for everyone. Broadcasts ``round``."""
    running = current_round(workshop)
    if running is not None:
        running.closed_at = timezone.now()
        running.save(update_fields=["closed_at"])
        payload = {"round": running.number, "open": False}
        live = LiveState.objects.select_related("current_phase__case", "workshop").filter(pk=workshop.pk).first()
        panels = live and realtime.phase_panels(live)
        if panels:
            payload["i18n"] = panels  # what everyone sees between the rounds: pages show it instead of asking
        realtime.publish(workshop_id=workshop.pk, kind="round", payload=payload)
    return running


@transaction.atomic
def member_move(*, workshop: Workshop, participant: Participant, number: int, room_index: int) -> RoomMember:
    """Move a person to another room of a round; what they already wrote stays in the room where they wrote it.

    Broadcasts ``rooms.changed``.
    """
    round_ = Round.objects.filter(workshop=workshop, number=number).first()
    room = Room.objects.filter(round=round_, index=room_index).first() if round_ else None
    if room is None or participant.workshop_id != workshop.pk:
        raise LiveError(_("That room is not in this workshop's plan."))
    left = RoomMember.objects.filter(round=round_, participant=participant).values_list("room_id", flat=True).first()
    membership, _created = RoomMember.objects.update_or_create(
        round=round_, participant=participant, defaults={"room": room, "left_at": None}
    )
    running = round_.started_at is not None and round_.closed_at is None
    realtime.rooms_changed(
        workshop_id=workshop.pk,
        number=number,
        participant_id=participant.pk,
        room_ids=[room_id for room_id in (left, room.pk) if room_id and running],
    )
    return membership


def _first_open_round(workshop: Workshop) -> int:
    """0-based index of the round where changes may start: the running one, or the next not yet run."""
    running = current_round(workshop)
    if running is not None:
        return running.number - 1
    return len(_started(workshop))


@transaction.atomic
def late_joiner_place(*, workshop: Workshop, participant: Participant) -> list[RoomMember]:
    """Put someone who arrived late into the smallest suitable room of the current and later rounds."""
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    plan = plan_from_db(workshop)
    if plan is None or RoomMember.objects.filter(round__workshop=workshop, participant=participant).exists():
        return list(RoomMember.objects.filter(round__workshop=workshop, participant=participant))
    from_round = min(_first_open_round(workshop), len(plan.rounds) - 1)
    placed = planner.place_late_joiner(plan, _person(participant), from_round=from_round)
    memberships = []
    for index in range(from_round, len(placed.rounds)):
        room = placed.room_of(participant.pk, index)
        if room is None:
            continue
        row = Room.objects.select_related("round").get(
            round__workshop=workshop, round__number=index + 1, index=room.index
        )
        memberships.append(RoomMember.objects.create(round=row.round, room=row, participant=participant))
    realtime.rooms_changed(
        workshop_id=workshop.pk,
        number=from_round + 1,
        participant_id=participant.pk,
        room_ids=[m.room_id for m in memberships if m.round.started_at is not None and m.round.closed_at is None],
    )
    return memberships


@transaction.atomic
def participant_leave(*, workshop: Workshop, participant: Participant) -> int:
    """Mark someone as gone from the running and later rounds; they stay visible as gone. Returns rows marked."""
    from_number = _first_open_round(workshop) + 1
    staying = RoomMember.objects.filter(
        round__workshop=workshop, round__number__gte=from_number, participant=participant, left_at__isnull=True
    )
    running_rooms = list(
        staying.filter(round__started_at__isnull=False, round__closed_at__isnull=True).values_list("room_id", flat=True)
    )
    marked = staying.update(left_at=timezone.now())
    if marked:
        realtime.rooms_changed(
            workshop_id=workshop.pk, number=from_number, participant_id=participant.pk, room_ids=running_rooms
        )
    return marked


@transaction.atomic
def rounds_rebalance(*, workshop: Workshop) -> list[Round]:
    """Plan the rounds not yet started again for the people present; the running round is left alone."""
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    plan = plan_from_db(workshop)
    if plan is None:
        raise LiveError(_("Plan the rounds first."))
    running = current_round(workshop)
    keep = running.number if running else len(_started(workshop))
    if keep >= len(plan.rounds):
        raise LiveError(_("No rounds are left to rebalance."))
    present = _present_people(workshop)
    rebalanced = planner.rebalance(plan, present, from_round=keep, **_options(rotation_settings(workshop)))
    rounds = _store_rounds(workshop, rebalanced, from_round=keep)
    realtime.resubscribe(workshop_id=workshop.pk)
    realtime.publish(workshop_id=workshop.pk, kind="rooms.changed", payload={"round": keep + 1})
    return rounds


SUMMARY_MAX_LENGTH = 8000


def _room_of_workshop(viewer: LiveViewer, room_id: int) -> Room:
    room = Room.objects.select_related("round").filter(pk=room_id, round__workshop=viewer.workshop).first()
    if room is None:
        raise LiveError(_("That room is not in this workshop."))
    return room


def _leads(viewer: LiveViewer, room: Room) -> bool:
    return viewer.participant is not None and room.leader_id == viewer.participant.pk


@transaction.atomic
def room_summary_save(*, viewer: LiveViewer, room_id: int, text: str) -> Room:
    """The group leader (or a facilitator) saves the group's summary as they write it.

    Only while the workshop is live, like every other write of its participants: after it closes the
    summaries are results, no longer drafts. Broadcasts ``room.summary`` to the room and the facilitators.
    """
    _require_live(viewer.workshop)
    room = _room_of_workshop(viewer, room_id)
    if not (viewer.is_staff or _leads(viewer, room)):
        raise LiveError(_("Only the room's group leader writes its summary."))
    text = (text or "").replace("\r\n", "\n")
    if len(text) > SUMMARY_MAX_LENGTH:
        raise LiveError(_("Keep the summary under %(limit)d characters.") % {"limit": SUMMARY_MAX_LENGTH})
    room.summary = text
    room.summary_updated_at = timezone.now()
    room.save(update_fields=["summary", "summary_updated_at"])
    realtime.publish(
        workshop_id=room.round.workshop_id,
        kind="room.summary",
        payload={"room": room.pk, "text": text},
        audience=Event.Audience.ROOM,
        room_id=room.pk,
    )
    return room


def _set_help(room: Room, requested_at) -> Room:
    """Record (or clear) a call for the facilitator and tell the room and the facilitators (``room.help``)."""
    room.help_requested_at = requested_at
    room.save(update_fields=["help_requested_at"])
    realtime.publish(
        workshop_id=room.round.workshop_id,
        kind="room.help",
        payload={"room": room.pk, "label": room.label, "round": room.round.number, "open": requested_at is not None},
        audience=Event.Audience.ROOM,
        room_id=room.pk,
    )
    return room


@transaction.atomic
def room_help_request(*, viewer: LiveViewer, room_id: int) -> Room:
    """Someone in the room calls the facilitator; the facilitators' overview shows it at once (``room.help``).

    Only while the workshop is live: before or after it nobody is there to come.
    """
    _require_live(viewer.workshop)
    room = _room_of_workshop(viewer, room_id)
    if not in_room(viewer, room):
        raise LiveError(_("You are in another room in this round."))
    return _set_help(room, timezone.now())


@transaction.atomic
def room_help_clear(*, viewer: LiveViewer, room_id: int) -> Room:
    """A facilitator answers a call; the room sees that help is on its way (``room.help``)."""
    room = _room_of_workshop(viewer, room_id)
    if not viewer.is_staff:
        raise LiveError(_("Only a facilitator can answer a call."))
    return _set_help(room, None)


@transaction.atomic
def room_broadcast(*, workshop: Workshop, room_id: int, text: str) -> Room:
    """A message from the facilitator to one room only (``broadcast`` to that room)."""
    _require_live(workshop)
    room = Room.objects.select_related("round").filter(pk=room_id, round__workshop=workshop).first()
    if room is None:
        raise LiveError(_("That room is not in this workshop."))
    text = " ".join((text or "").split())
    if not text or len(text) > 500:
        raise LiveError(_("Write a message of at most 500 characters."))
    realtime.publish(
        workshop_id=workshop.pk,
        kind="broadcast",
        payload={"text": text, "at": timezone.now().isoformat(), "room": room.pk},
        audience=Event.Audience.ROOM,
        room_id=room.pk,
    )
    return room
