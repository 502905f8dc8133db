"""Running the workshop: start, phases, timer, broadcast, reveal, join code, closing, joining by code."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import realtime
from facilitation.models import Ballot, Comment, Duel, Event, Idea, LiveState, Phase, Presence
from facilitation.services.agenda import agenda_create_default
from facilitation.services.common import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    OPEN_STATUSES,
    LiveError,
    _locked_live,
    _require_live,
)
from workshops.models import Participant, Workshop
from workshops.services import workshop_transition


@transaction.atomic
def live_start(*, workshop: Workshop, by) -> LiveState:
    """Open the workshop: status "live", the agenda's first phase on everyone's screen.

    Broadcasts ``phase`` and ``timer`` after commit.
    """
    if workshop.status != Workshop.Status.LIVE:
        if workshop.status not in OPEN_STATUSES | {Workshop.Status.CLOSED}:
            raise LiveError(_("Only a planned workshop can be started."))
        workshop_transition(workshop=workshop, to_status=Workshop.Status.LIVE, by=by)
    agenda_create_default(workshop=workshop)
    live = _locked_live(workshop)
    if live.started_at is None:
        live.started_at = timezone.now()
    if live.current_phase is None:
        live.current_phase = workshop.phases.order_by("position", "id").first()
    live.save()
    realtime.publish_phase(live)
    return live


@transaction.atomic
def phase_go(*, workshop: Workshop, phase: Phase | None = None, offset: int = 0) -> LiveState:
    """Show ``phase`` (or the one ``offset`` steps away) to everyone; the timer is reset to the phase's plan.

    Broadcasts ``phase`` and ``timer`` after commit.
    """
    _require_live(workshop)
    live = _locked_live(workshop)
    phases = list(workshop.phases.order_by("position", "id"))
    if phase is None:
        if not phases:
            raise LiveError(_("The agenda is empty."))
        current = next((i for i, p in enumerate(phases) if p.pk == live.current_phase_id), -1)
        target = current + offset
        if not 0 <= target < len(phases):
            raise LiveError(_("There is no phase in that direction."))
        phase = phases[target]
    elif phase.workshop_id != workshop.pk:
        raise LiveError(_("That phase belongs to another workshop."))
    live.current_phase = phase
    live.timer_deadline = None
    live.timer_remaining = None
    live.save()
    realtime.publish_phase(live)
    return live


def _publish_timer(live: LiveState) -> None:
    realtime.publish(workshop_id=live.pk, kind="timer", payload=realtime.timer_payload(live))


@transaction.atomic
def timer_start(*, workshop: Workshop, seconds: int) -> LiveState:
    """Count down ``seconds`` from now; clients count locally to the pushed deadline."""
    _require_live(workshop)
    if not 1 <= seconds <= 6 * 3600:
        raise LiveError(_("Give the timer between 1 second and 6 hours."))
    live = _locked_live(workshop)
    live.timer_deadline = timezone.now() + timedelta(seconds=seconds)
    live.timer_remaining = None
    live.save()
    _publish_timer(live)
    return live


@transaction.atomic
def timer_pause(*, workshop: Workshop) -> LiveState:
    """Stop the clock and keep the seconds left; broadcasts ``timer``."""
    _require_live(workshop)
    live = _locked_live(workshop)
    if live.timer_deadline is not None:
        live.timer_remaining = live.seconds_left()
        live.timer_deadline = None
        live.save()
        _publish_timer(live)
    return live


@transaction.atomic
def timer_resume(*, workshop: Workshop) -> LiveState:
    """Continue a paused timer; broadcasts ``timer``."""
    _require_live(workshop)
    live = _locked_live(workshop)
    if live.timer_deadline is None and live.timer_remaining:
        live.timer_deadline = timezone.now() + timedelta(seconds=live.timer_remaining)
        live.timer_remaining = None
        live.save()
        _publish_timer(live)
    return live


@transaction.atomic
def timer_extend(*, workshop: Workshop, seconds: int) -> LiveState:
    """Add time to the timer (starts one if none is set); broadcasts ``timer``."""
    _require_live(workshop)
    if not 1 <= seconds <= 3600:
        raise LiveError(_("Extend by between 1 second and an hour."))
    live = _locked_live(workshop)
    now = timezone.now()
    if live.timer_deadline is not None:
        live.timer_deadline = max(live.timer_deadline, now) + timedelta(seconds=seconds)
    elif live.timer_remaining is not None:
        live.timer_remaining += seconds
    else:
        live.timer_deadline = now + timedelta(seconds=seconds)
    live.save()
    _publish_timer(live)
    return live


@transaction.atomic
def timer_clear(*, workshop: Workshop) -> LiveState:
    """Take the timer off the screens; broadcasts ``timer``."""
    _require_live(workshop)
    live = _locked_live(workshop)
    live.timer_deadline = None
    live.timer_remaining = None
    live.save()
    _publish_timer(live)
    return live


@transaction.atomic
def broadcast_send(*, workshop: Workshop, text: str) -> LiveState:
    """Show a message prominently on every screen; an empty text takes it away. Broadcasts ``broadcast``."""
    _require_live(workshop)
    text = " ".join(text.split())
    if len(text) > 500:
        raise LiveError(_("Keep the message under 500 characters."))
    live = _locked_live(workshop)
    live.broadcast_text = text
    live.broadcast_at = timezone.now() if text else None
    live.save()
    at = live.broadcast_at.isoformat() if live.broadcast_at else None
    realtime.publish(workshop_id=workshop.pk, kind="broadcast", payload={"text": text, "at": at})
    return live


@transaction.atomic
def phase_reveal(*, phase: Phase) -> Phase:
    """Show everyone the answers written in a "write first, reveal later" phase; broadcasts ``thread.reload``."""
    if phase.revealed_at is None:
        phase.revealed_at = timezone.now()
        phase.save(update_fields=["revealed_at"])
        realtime.publish(workshop_id=phase.workshop_id, kind="thread.reload", payload={"phase": phase.pk})
    return phase


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


@transaction.atomic
def join_code_set(*, workshop: Workshop, enabled: bool, renew: bool = False) -> LiveState:
    """Switch the open join code on or off; a code is made the first time (or on ``renew``)."""
    live = _locked_live(workshop)
    if enabled and (live.join_code is None or renew):
        for _attempt in range(20):
            code = _new_join_code()
            if not LiveState.objects.filter(join_code=code).exists():
                live.join_code = code
                break
    live.join_code_enabled = enabled
    live.save()
    return live


@transaction.atomic
def live_close(*, workshop: Workshop, by) -> Workshop:
    """End the workshop for everyone; anonymous comments lose their link to the author for good.

    Pushes ``workshop.closed`` after commit.
    """
    _require_live(workshop)
    workshop_transition(workshop=workshop, to_status=Workshop.Status.CLOSED, by=by)
    realtime.publish_ephemeral(workshop_id=workshop.pk, kind="workshop.closed", payload={})
    return workshop


def workshop_forget_live_links(*, workshop_id: int) -> None:
    """Run when a workshop closes: forget who wrote anonymous comments and ideas, who voted how, events, presence."""
    Comment.objects.filter(workshop_id=workshop_id, anonymous=True).update(author_participant=None, author_user=None)
    Idea.objects.filter(workshop_id=workshop_id, anonymous=True).update(author_participant=None, author_user=None)
    Duel.objects.filter(phase__workshop_id=workshop_id, choice="").delete()
    Duel.objects.filter(phase__workshop_id=workshop_id).update(voter_participant=None, voter_user=None)
    Ballot.objects.filter(phase__workshop_id=workshop_id).update(voter_participant=None, voter_user=None)
    Event.objects.filter(workshop_id=workshop_id).delete()
    Presence.objects.filter(workshop_id=workshop_id).delete()
    LiveState.objects.filter(pk=workshop_id).update(timer_deadline=None, timer_remaining=None, broadcast_text="")


# --- joining with the open code ------------------------------------------------------
def join_code_normalise(code: str) -> str:
    """People type codes in lower case, with spaces or dashes: keep only the letters and digits, upper-cased."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:12]


def live_for_join_code(code: str) -> LiveState | None:
    """The workshop behind an open, switched-on join code that still takes people in."""
    code = join_code_normalise(code)
    if len(code) != JOIN_CODE_LENGTH:
        return None
    return (
        LiveState.objects.select_related("workshop")
        .filter(join_code=code, join_code_enabled=True)
        .exclude(workshop__status__in=[Workshop.Status.CLOSED, Workshop.Status.ARCHIVED, Workshop.Status.CANCELLED])
        .exclude(workshop__status__in=[Workshop.Status.REQUESTED, Workshop.Status.DECLINED])
        .first()
    )


@transaction.atomic
def participant_join_by_code(*, live: LiveState, name: str) -> Participant:
    """A guest joins an open event with the code and a display name; a new participant each time."""
    name = " ".join((name or "").split())
    if not name:
        raise LiveError(_("Write the name you want the others to see."))
    if len(name) > 80:
        raise LiveError(_("Keep the name under 80 characters."))
    now = timezone.now()
    return Participant.objects.create(
        workshop=live.workshop, name=name, role=Participant.Role.PARTICIPANT, first_joined_at=now, last_seen_at=now
    )
