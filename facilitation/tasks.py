"""Background work of the live workshop: the batched ranking push, the rooms' panels when a round starts."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from facilitation import realtime
from facilitation.models import Phase
from facilitation.selectors_voting import ranking_for, ranking_payload
from facilitation.services.voting import ranking_gate_key
from workshops.models import Workshop

RANKING_CACHE_SECONDS = 2


def ranking_cache_key(phase_id: int) -> str:
    """Where the latest ranking payload of a phase is kept for pages that poll instead of listening."""
    return f"kehittamo:ranking-payload:{phase_id}"


@shared_task(name="facilitation.ranking_publish", ignore_result=True)
def ranking_publish(phase_id: int) -> None:
    """Compute the phase's ranking and push it as the ephemeral event ``ranking``.

    To the facilitators; to everyone while the phase's results are open. Lifts the
    gate of ``services.ranking_changed`` first, so a vote arriving while this runs
    schedules the next push. Writes nothing to the database and never schedules
    itself, so an eager run cannot recurse.
    """
    cache.delete(ranking_gate_key(phase_id))
    phase = Phase.objects.filter(pk=phase_id, kind=Phase.Kind.PRIORITISATION).first()
    if phase is None:
        return
    payload = ranking_payload(ranking_for(phase))
    cache.set(ranking_cache_key(phase_id), payload, RANKING_CACHE_SECONDS)
    realtime.publish_ephemeral(
        workshop_id=phase.workshop_id, kind="ranking", payload=payload, staff_only=phase.results_open_at is None
    )


@shared_task(name="facilitation.round_panels_publish", ignore_result=True)
def round_panels_publish(workshop_id: int, number: int) -> None:
    """Push each room of round ``number``, just started, the panel its members' pages show
    (``realtime.round_panels``). Writes nothing."""
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    if workshop is not None:
        realtime.round_panels(workshop, number)
