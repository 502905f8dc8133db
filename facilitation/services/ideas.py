"""Writes of the ideas part of a live workshop: ideas, their moderation and merging, and team sizes.

An idea is written only in the running idea-collection phase; a retried POST
(same ``client_id``) returns the stored idea. Facilitators hide, edit and
merge ideas. Every change is pushed after commit: to everyone while the
phase's ideas are public, otherwise to the facilitators and the author.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from facilitation import realtime
from facilitation.models import Event, Idea, LiveState, Phase
from facilitation.permissions import LiveViewer
from facilitation.selectors_ideas import people_count, with_merged_count
from facilitation.services.common import OPEN_STATUSES, LiveError, _require_live
from workshops.models import Participant, Workshop

__all__ = [
    "TEAM_SIZE_MAX",
    "idea_create",
    "idea_hide",
    "idea_merge",
    "idea_moderate",
    "idea_payload",
    "idea_unhide",
    "participant_team_size_set",
    "team_size_set",
]

TEAM_SIZE_MAX = 50
COUNTERS = ("shown", "wins", "losses", "skips")


# --- broadcasting ------------------------------------------------------------------------
def _audiences(idea: Idea) -> list[dict]:
    """Everyone while ideas are public; otherwise the facilitators and the author's own screens."""
    if idea.phase.ideas_public:
        return [{"audience": Event.Audience.ALL}]
    audiences = [{"audience": Event.Audience.STAFF}]
    if idea.author_participant_id or idea.author_user_id:
        audiences.append(
            {
                "audience": Event.Audience.PERSON,
                "participant_id": idea.author_participant_id,
                "user_id": idea.author_user_id,
            }
        )
    return audiences


def _publish(idea: Idea, kind: str, payload: dict) -> None:
    for audience in _audiences(idea):
        realtime.publish(workshop_id=idea.workshop_id, kind=kind, payload=payload, **audience)


def idea_payload(idea: Idea, *, part: str = "idea") -> dict:
    """Where the idea belongs and its HTML as any viewer may see it; never who wrote an anonymous one."""
    template = "facilitation/partials/idea.html" + ("" if part == "idea" else f"#{part}")
    return {
        "id": idea.pk,
        "phase": idea.phase_id,
        "dom_id": f"idea-{idea.pk}",
        "thread": f"i{idea.phase_id}",
        "i18n": realtime._rendered(template, {"idea": idea, "push": True}),
    }


# --- checks ----------------------------------------------------------------------------------
def clean_idea_text(text: str, limit: int) -> str:
    """The idea's text without surrounding space; refused when empty or over the phase's limit."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise LiveError(_("Write your idea first."))
    if len(text) > limit:
        over = len(text) - limit
        raise LiveError(
            ngettext(
                "Your idea is %(length)d characters long; the limit is %(limit)d. Shorten it by %(over)d character.",
                "Your idea is %(length)d characters long; the limit is %(limit)d. Shorten it by %(over)d characters.",
                over,
            )
            % {"length": len(text), "limit": limit, "over": over}
        )
    return text


def _collecting_phase(viewer: LiveViewer, phase_id: int) -> Phase:
    """The phase, if it is this workshop's idea collection and the workshop is on it right now."""
    phase = Phase.objects.filter(pk=phase_id, workshop=viewer.workshop).first()
    if phase is None or phase.kind != Phase.Kind.IDEAS:
        raise LiveError(_("This part of the workshop does not collect ideas."))
    current = LiveState.objects.filter(pk=viewer.workshop.pk).values_list("current_phase_id", flat=True).first()
    if current != phase.pk:
        raise LiveError(_("The idea collection has ended; the workshop has moved on."))
    return phase


def _require_moderator(viewer: LiveViewer) -> None:
    if not viewer.is_staff:
        raise PermissionDenied(_("Only the facilitators can change other people's ideas."))


def _idea_for_moderator(viewer: LiveViewer, idea_id: int, *, lock: bool = True) -> Idea:
    _require_moderator(viewer)
    _require_live(viewer.workshop)
    ideas = Idea.objects.select_related("phase", "author_participant", "author_user")
    if lock:
        ideas = ideas.select_for_update(of=("self",))
    idea = ideas.filter(pk=idea_id, workshop=viewer.workshop).first()
    if idea is None:
        raise LiveError(_("The idea is no longer there."))
    return idea


# --- writing ------------------------------------------------------------------------------
def idea_create(
    *,
    viewer: LiveViewer,
    phase_id: int,
    text: str,
    anonymous: bool,
    can_run: bool,
    client_id: uuid.UUID,
    language: str,
) -> tuple[Idea, bool]:
    """Store an idea once per ``client_id``; returns (idea, created).

    Only in a live workshop, in its current idea-collection phase, within the
    phase's length limit. Broadcasts ``idea.created`` after commit (to
    everyone, or to the facilitators and the author when ideas are private).
    """
    existing = Idea.objects.select_related("phase").filter(client_id=client_id).first()
    if existing is not None:
        own = existing.is_by(participant=viewer.participant, user=viewer.user)
        if own and existing.workshop_id == viewer.workshop.pk:
            return existing, False
        raise LiveError(_("This idea could not be saved. Please reload the page."))
    _require_live(viewer.workshop)
    phase = _collecting_phase(viewer, phase_id)
    idea = Idea(
        client_id=client_id,
        workshop=viewer.workshop,
        phase=phase,
        text=clean_idea_text(text, phase.idea_max_length),
        author_participant=viewer.participant,
        author_user=viewer.user if viewer.writes_as_user else None,
        anonymous=bool(anonymous),
        can_run=bool(can_run) and phase.offers_to_run,
        language=language,
    )
    try:
        with transaction.atomic():
            idea.save()
            idea.merged_count = 0
            _publish(idea, "idea.created", idea_payload(idea))
    except IntegrityError:
        # The same client id arrived twice at once; the other request stored it.
        existing = Idea.objects.select_related("phase").filter(client_id=client_id).first()
        if existing is None or not existing.is_by(participant=viewer.participant, user=viewer.user):
            raise
        return existing, False
    return idea, True


@transaction.atomic
def idea_hide(*, viewer: LiveViewer, idea_id: int) -> Idea:
    """A facilitator hides an idea from the participants; broadcasts ``idea.hidden`` (ids only)."""
    idea = _idea_for_moderator(viewer, idea_id)
    if idea.hidden_at is None:
        idea.hidden_at = timezone.now()
        idea.save(update_fields=["hidden_at"])
        _publish(idea, "idea.hidden", {"id": idea.pk, "phase": idea.phase_id, "dom_id": f"idea-{idea.pk}"})
    return idea


@transaction.atomic
def idea_unhide(*, viewer: LiveViewer, idea_id: int) -> Idea:
    """Show a hidden idea again; broadcasts ``idea.shown`` with its HTML (a merged idea stays out of sight)."""
    idea = _idea_for_moderator(viewer, idea_id)
    if idea.hidden_at is not None:
        idea.hidden_at = None
        idea.save(update_fields=["hidden_at"])
        if idea.merged_into_id is None:
            _publish(idea, "idea.shown", idea_payload(with_merged_count(idea)))
    return idea


@transaction.atomic
def idea_moderate(*, viewer: LiveViewer, idea_id: int, text: str) -> Idea:
    """A facilitator corrects an idea's text (typos); it is then marked "edited by moderator".

    Broadcasts ``idea.edited`` with the idea's new main part.
    """
    idea = _idea_for_moderator(viewer, idea_id)
    new_text = clean_idea_text(text, idea.phase.idea_max_length)
    if new_text != idea.text:
        idea.text = new_text
        idea.moderated_at = timezone.now()
        idea.save(update_fields=["text", "moderated_at"])
        if idea.hidden_at is None and idea.merged_into_id is None:
            _publish(idea, "idea.edited", idea_payload(with_merged_count(idea), part="main"))
    return idea


@transaction.atomic
def idea_merge(*, viewer: LiveViewer, idea_id: int, into_id: int) -> Idea:
    """Merge a duplicate into another idea of the same phase; returns the surviving idea.

    The duplicate's counters move to the survivor and ideas merged earlier
    into the duplicate now point to the survivor, so a chain never forms.
    Cannot be undone. Broadcasts ``idea.merged`` with the survivor's new
    main part.
    """
    _require_moderator(viewer)
    _require_live(viewer.workshop)
    if idea_id == into_id:
        raise LiveError(_("An idea cannot be merged into itself."))
    locked = {
        idea.pk: idea
        for idea in Idea.objects.select_for_update(of=("self",))
        .select_related("phase", "author_participant", "author_user")
        .filter(pk__in=[idea_id, into_id], workshop=viewer.workshop)
        .order_by("pk")  # the same lock order everywhere: two merges cannot deadlock
    }
    idea, into = locked.get(idea_id), locked.get(into_id)
    if idea is None or into is None:
        raise LiveError(_("The idea is no longer there."))
    if idea.phase_id != into.phase_id:
        raise LiveError(_("Ideas can only be merged within the same idea collection."))
    if idea.merged_into_id is not None:
        raise LiveError(_("This idea has already been merged into another one."))
    if into.merged_into_id is not None:
        raise LiveError(_("That idea has itself been merged into another one; choose the one it was merged into."))
    if into.hidden_at is not None:
        raise LiveError(_("That idea is hidden; show it again before merging ideas into it."))
    moved = {name: getattr(idea, name) for name in COUNTERS}
    Idea.objects.filter(pk=into.pk).update(**{name: F(name) + value for name, value in moved.items()})
    Idea.objects.filter(pk=idea.pk).update(merged_into=into, **dict.fromkeys(COUNTERS, 0))
    Idea.objects.filter(merged_into=idea).update(merged_into=into)
    into.refresh_from_db(fields=[*COUNTERS])
    with_merged_count(into)
    idea.merged_into = into
    payload = {
        **idea_payload(into, part="main"),
        "id": idea.pk,
        "dom_id": f"idea-{idea.pk}",
        "into": into.pk,
        "into_dom_id": f"idea-{into.pk}",
    }
    # Both authors' screens follow when ideas are private; the same event for everyone otherwise.
    audiences = _audiences(idea)
    for extra in _audiences(into):
        if extra not in audiences:
            audiences.append(extra)
    for audience in audiences:
        realtime.publish(workshop_id=idea.workshop_id, kind="idea.merged", payload=payload, **audience)
    return into


# --- teams at one screen --------------------------------------------------------------------
def participant_team_size_set(*, participant: Participant, size) -> Participant:
    """Store how many people share this participant's screen (1–50), e.g. when they join with the code.

    Broadcasts ``team.size`` (the new total of people) to the facilitators.
    """
    if participant.workshop.status not in {Workshop.Status.LIVE, *OPEN_STATUSES}:
        raise LiveError(_("The workshop is not running right now."))
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise LiveError(_("Give the number of people as a whole number from 1 to 50.")) from None
    if not 1 <= size <= TEAM_SIZE_MAX:
        raise LiveError(_("Give the number of people as a whole number from 1 to 50."))
    with transaction.atomic():
        Participant.objects.filter(pk=participant.pk).update(team_size=size)
        participant.team_size = size
        realtime.publish_ephemeral(
            workshop_id=participant.workshop_id,
            kind="team.size",
            payload={"people": people_count(participant.workshop)},
            staff_only=True,
        )
    return participant


def team_size_set(*, viewer: LiveViewer, size) -> Participant:
    """A participant in the live page says how many people share their screen; see ``participant_team_size_set``."""
    if viewer.participant is None:
        raise LiveError(_("Only participants can say how many people are on their screen."))
    return participant_team_size_set(participant=viewer.participant, size=size)
