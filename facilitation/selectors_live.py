"""The hottest reads of the live pages, written in SQL: what a plain participant's page reads of the workshop
before it renders, and which comments and reactions in the current phase are theirs.

Every page load and panel fetch of every participant makes these reads. Built with the ORM, each cost 2-4 ms of
the server's CPU to compose and compile (nested ``Q`` objects and subqueries: ~24,000 Python calls), more than
PostgreSQL took to answer; the same SQL written out costs about 0.2 ms (bench H1, docs/performance.md). The SQL
is plain enough for PostgreSQL and SQLite alike, and the tests compare both reads with the ORM's answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from facilitation.models import Event

# The rooms, in any round of the workshop, whose notes the participant may follow: where they are a member (and
# have not left) or the leader. Parameters: workshop, participant, participant.
_THEIR_ROOMS = """
    SELECT r.id FROM facilitation_room r JOIN facilitation_round o ON o.id = r.round_id
    WHERE o.workshop_id = %s AND (
        r.leader_id = %s
        OR r.id IN (SELECT m.room_id FROM facilitation_roommember m WHERE m.participant_id = %s AND m.left_at IS NULL)
    )"""

# The room ``round_view`` shows the participant in the running round (the lowest-numbered one started and not
# closed), by index: its id, NULL when they lead it. Parameters: participant, workshop, participant, participant.
_PANEL_ROOM = """
    SELECT CASE WHEN r.leader_id = %s THEN NULL ELSE r.id END FROM facilitation_room r
    WHERE r.round_id = (
        SELECT o.id FROM facilitation_round o
        WHERE o.workshop_id = %s AND o.started_at IS NOT NULL AND o.closed_at IS NULL ORDER BY o.number LIMIT 1
    ) AND (
        r.leader_id = %s
        OR EXISTS (
            SELECT 1 FROM facilitation_roommember m
            WHERE m.room_id = r.id AND m.participant_id = %s AND m.left_at IS NULL
        )
    )
    ORDER BY r."index" LIMIT 1"""


@dataclass(frozen=True)
class ParticipantRead:
    """What ``participant_read`` found. Event ids are 0 when there is none."""

    newest_seen: int  # the newest event the participant may receive
    has_rounds: bool  # the workshop has rounds planned
    placed: bool  # the participant has a room in one of them
    panel_room: int | None = None  # with ``shared``: the room whose panel they share (None: they lead it, or none)
    newest_all: int = 0  # with ``shared``: the newest event for everyone
    newest_room: int = 0  # with ``shared``: the newest event for ``panel_room``


def participant_read(workshop_id: int, participant_id: int, *, shared: bool) -> ParticipantRead:
    """For a participant who is not staff: the newest event they may receive (everyone's, their rooms', their
    own), whether they have a room in the workshop's rounds and, with ``shared``, the room whose panel copy they
    share and the newest events it shows. One query."""
    w, p = workshop_id, participant_id
    audience = Event.Audience
    # Composed of this module's constant SQL only; every value is a parameter.
    columns = [
        f"""(SELECT e.id FROM facilitation_event e WHERE e.workshop_id = %s AND (
                e.audience = %s OR (e.audience = %s AND e.participant_id = %s)
                OR (e.audience = %s AND e.room_id IN ({_THEIR_ROOMS}))
            ) ORDER BY e.id DESC LIMIT 1)""",  # noqa: S608  # nosec B608
        "EXISTS (SELECT 1 FROM facilitation_round o WHERE o.workshop_id = %s)",
        """EXISTS (SELECT 1 FROM facilitation_roommember m JOIN facilitation_round o ON o.id = m.round_id
                   WHERE o.workshop_id = %s AND m.participant_id = %s)""",
    ]
    params = [w, audience.ALL, audience.PERSON, p, audience.ROOM, w, p, p, w, w, p]
    if shared:
        columns += [
            f"({_PANEL_ROOM})",
            """(SELECT e.id FROM facilitation_event e WHERE e.workshop_id = %s AND e.audience = %s
                ORDER BY e.id DESC LIMIT 1)""",
            f"""(SELECT e.id FROM facilitation_event e WHERE e.workshop_id = %s AND e.audience = %s
                 AND e.room_id = ({_PANEL_ROOM}) ORDER BY e.id DESC LIMIT 1)""",  # noqa: S608  # nosec B608
        ]
        params += [p, w, p, p, w, audience.ALL, w, audience.ROOM, p, w, p, p]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        newest_seen, has_rounds, placed, *panel = cursor.fetchone()
    panel_room, newest_all, newest_room = panel or (None, 0, 0)
    return ParticipantRead(
        newest_seen=newest_seen or 0,
        has_rounds=bool(has_rounds),  # SQLite answers 0 or 1
        placed=bool(placed),
        panel_room=panel_room,
        newest_all=newest_all or 0,
        newest_room=newest_room or 0,
    )


def marks(workshop_id: int, phase_id: int, participant_id: int, user_id: int | None) -> tuple[set[int], dict[int, str]]:
    """The ids of the comments in the phase written by the participant (or by their signed-in user), and their
    reactions in it (comment id: kind). Two index lookups joined by UNION ALL, so that the time does not grow
    with the phase's comments (``author_user_id = NULL`` matches nothing). One query."""
    sql = """
        SELECT c.id, '' FROM facilitation_comment c
        WHERE c.workshop_id = %s AND c.phase_id = %s AND (c.author_participant_id = %s OR c.author_user_id = %s)
        UNION ALL
        SELECT x.comment_id, x.kind FROM facilitation_reaction x JOIN facilitation_comment c ON c.id = x.comment_id
        WHERE x.participant_id = %s AND c.workshop_id = %s AND c.phase_id = %s"""
    params = [workshop_id, phase_id, participant_id, user_id, participant_id, workshop_id, phase_id]
    mine, reactions = set(), {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, kind in cursor.fetchall():
            if kind:
                reactions[pk] = kind
            else:
                mine.add(pk)
    return mine, reactions
