"""Who has the live page open right now, and how many have written in the current phase."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from facilitation import realtime
from facilitation.models import Comment, LiveState, Presence
from facilitation.permissions import LiveViewer
from facilitation.services.common import (
    PRESENCE_WINDOW,
)
from workshops.models import Participant, Workshop


# --- presence ----------------------------------------------------------------------
def presence_touch(*, key: str, viewer: LiveViewer) -> None:
    """Record that this connection is open now; counted for ``PRESENCE_WINDOW``."""
    Presence.objects.update_or_create(
        key=key,
        defaults={
            "workshop": viewer.workshop,
            "participant": viewer.participant,
            "user": viewer.user if viewer.participant is None else None,
            "seen_at": timezone.now(),
        },
    )
    if viewer.participant is not None:
        type(viewer.participant).objects.filter(pk=viewer.participant.pk).update(last_seen_at=timezone.now())


def presence_refresh(seen: dict[str, int | None]) -> None:
    """Heartbeats of many connections at once: ``{presence key: participant id or None}``.

    Two UPDATEs however many sockets beat meanwhile (the consumers batch them, see ``consumers``); a
    connection that closed in between has no row left to refresh.
    """
    if not seen:
        return
    now = timezone.now()
    Presence.objects.filter(key__in=list(seen)).update(seen_at=now)
    participant_ids = {participant_id for participant_id in seen.values() if participant_id is not None}
    if participant_ids:
        Participant.objects.filter(pk__in=participant_ids).update(last_seen_at=now)


def presence_arrive(arrived: dict[str, tuple[int, int | None, int | None]]) -> None:
    """Connections opened meanwhile, at once: ``{presence key: (workshop id, participant id, user id)}``.

    One INSERT (a key already there is refreshed) and one UPDATE however many sockets opened: a thousand
    pages back from a network blip are not four thousand row writes in the sockets' way.
    """
    if not arrived:
        return
    from accounts.models import User

    # A socket whose workshop, participant or user was deleted before this write (an erasure, say) has
    # nothing left to count: its row would break the whole batch's INSERT, so it is left out.
    workshops = set(Workshop.objects.filter(pk__in={w for w, _p, _u in arrived.values()}).values_list("pk", flat=True))
    guests = {p for _w, p, _u in arrived.values() if p is not None}
    guests = set(Participant.objects.filter(pk__in=guests).values_list("pk", flat=True)) if guests else set()
    users = {u for _w, p, u in arrived.values() if p is None and u is not None}
    users = set(User.objects.filter(pk__in=users).values_list("pk", flat=True)) if users else set()
    now = timezone.now()
    rows = [
        Presence(
            key=key,
            workshop_id=workshop_id,
            participant_id=participant_id,
            user_id=user_id if participant_id is None else None,
            seen_at=now,
        )
        for key, (workshop_id, participant_id, user_id) in arrived.items()
        if workshop_id in workshops
        and (participant_id in guests if participant_id is not None else user_id is None or user_id in users)
    ]
    Presence.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["key"], update_fields=["workshop", "participant", "user", "seen_at"]
    )
    if guests:
        Participant.objects.filter(pk__in=guests).update(last_seen_at=now)


def presence_depart(keys) -> None:
    """Connections closed meanwhile, at once: one DELETE."""
    keys = list(keys)
    if keys:
        Presence.objects.filter(key__in=keys).delete()


def connected_count(workshop_id: int) -> int:
    """Participants with an open page right now (facilitators are not counted)."""
    since = timezone.now() - PRESENCE_WINDOW
    return (
        Presence.objects.filter(workshop_id=workshop_id, seen_at__gte=since, participant__isnull=False)
        .values("participant")
        .distinct()
        .count()
    )


def writers_count(phase_id: int | None) -> int:
    """People who have written something in this phase."""
    if phase_id is None:
        return 0
    counts = Comment.objects.filter(phase_id=phase_id, deleted_at__isnull=True).aggregate(
        guests=Count("author_participant", distinct=True), users=Count("author_user", distinct=True)
    )
    return counts["guests"] + counts["users"]


def live_stats(workshop_id: int) -> dict:
    phase_id = LiveState.objects.filter(pk=workshop_id).values_list("current_phase_id", flat=True).first()
    return {"connected": connected_count(workshop_id), "writers": writers_count(phase_id)}


def stats_publish(*, workshop: Workshop) -> None:
    """Push the connected and writers counts to the facilitators' screens after commit (not recorded).

    Coalesced: see ``stats_changed``.
    """
    workshop_id = workshop.pk
    transaction.on_commit(lambda: stats_changed(workshop_id=workshop_id))


def stats_changed(*, workshop_id: int) -> None:
    """The counts changed outside any transaction (a socket came or went): push them to the facilitators.

    Safe to call from async code (it only schedules). In a process that serves sockets at most about
    one push per workshop per second goes out, and the last one reads the counts after the change, so
    a reconnect storm of 1,000 sockets makes a couple of pushes that end on the right numbers.
    """
    realtime.publish_coalesced(
        workshop_id=workshop_id, kind="stats", payload=lambda: live_stats(workshop_id), staff_only=True
    )
