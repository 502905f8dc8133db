"""Every write of the live workshop: agenda, live controls, comments, reactions, presence.

Each service runs in one transaction and broadcasts through ``realtime`` after
commit. Errors people can fix come back as ``LiveError`` with a message in
their language.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from facilitation import realtime
from facilitation.models import COMMENT_MAX_LENGTH, Comment, Event, LiveState, Phase, Presence, Prompt, Reaction
from facilitation.permissions import LiveViewer
from workshops.models import Case, Participant, Workshop
from workshops.services import workshop_transition

PRESENCE_WINDOW = timedelta(seconds=75)
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
JOIN_CODE_LENGTH = 6
OPEN_STATUSES = {Workshop.Status.PLANNED, Workshop.Status.INVITATIONS_SENT}

REFLECTION_PROMPTS = [
    gettext_lazy("What did I learn?"),
    gettext_lazy("What could be useful in my own work?"),
]


class LiveError(ValueError):
    """Something the person can correct; ``str()`` is the message to show them."""


# --- agenda ----------------------------------------------------------------------
def _renumber(workshop: Workshop) -> None:
    for index, phase in enumerate(Phase.objects.filter(workshop=workshop).order_by("position", "id"), start=1):
        if phase.position != index:
            Phase.objects.filter(pk=phase.pk).update(position=index)


def _set_prompts(phase: Phase, prompts: list[str]) -> None:
    """Save the phase's questions; a question that already has answers is never dropped or swapped.

    Unchanged questions are found by their text (so removing or reordering
    lines keeps answers with their question); the remaining new lines take over
    the remaining old questions in order, which is how a reworded question
    keeps its answers.
    """
    prompts = [" ".join(text.split()) for text in prompts if text.strip()]
    existing = list(phase.prompts.annotate(answers=Count("comments")).order_by("position", "id"))
    by_text = {prompt.text: prompt for prompt in existing}
    chosen: list[Prompt | None] = []
    for text in prompts:
        match = by_text.pop(text, None)
        chosen.append(match)
    taken = {prompt.pk for prompt in chosen if prompt is not None}
    leftovers = [prompt for prompt in existing if prompt.pk not in taken]
    for index, prompt in enumerate(chosen):
        if prompt is None and leftovers:
            chosen[index] = leftovers.pop(0)
    for prompt in leftovers:
        if prompt.answers:
            message = _("The prompt “%(prompt)s” already has answers and cannot be removed.")
            raise LiveError(message % {"prompt": prompt})
    for prompt in leftovers:
        prompt.delete()
    for index, (text, prompt) in enumerate(zip(prompts, chosen, strict=True), start=1):
        if prompt is None:
            Prompt.objects.create(phase=phase, position=index, text=text)
        elif prompt.text != text or prompt.position != index:
            Prompt.objects.filter(pk=prompt.pk).update(text=text, position=index)


@transaction.atomic
def phase_create(
    *,
    workshop: Workshop,
    kind: str,
    title: str,
    duration_minutes: int,
    instructions: str = "",
    case: Case | None = None,
    private_first: bool = False,
    prompts: list[str] | None = None,
) -> Phase:
    """Add a phase at the end of the agenda."""
    last = Phase.objects.filter(workshop=workshop).aggregate(last=Max("position"))["last"] or 0
    phase = Phase.objects.create(
        workshop=workshop,
        position=last + 1,
        kind=kind,
        title=title,
        duration_minutes=duration_minutes,
        instructions=instructions,
        case=case,
        private_first=private_first,
    )
    _set_prompts(phase, prompts or [])
    return phase


@transaction.atomic
def phase_update(*, phase: Phase, data: dict, prompts: list[str] | None = None) -> Phase:
    """Save edited fields and prompts of a phase; prompts with answers are kept."""
    for name, value in data.items():
        setattr(phase, name, value)
    phase.full_clean()
    phase.save()
    if prompts is not None:
        _set_prompts(phase, prompts)
    return phase


@transaction.atomic
def phase_delete(*, phase: Phase) -> None:
    """Remove a phase nobody has written in and that is not running now."""
    if phase.comments.exists():
        raise LiveError(_("People have already written in this phase, so it cannot be removed."))
    if LiveState.objects.filter(current_phase=phase).exists():
        raise LiveError(_("This phase is running now; move to another phase first."))
    workshop = phase.workshop
    phase.delete()
    _renumber(workshop)


@transaction.atomic
def phase_move(*, phase: Phase, offset: int) -> None:
    """Move a phase one step earlier (-1) or later (+1) in the agenda."""
    phases = list(Phase.objects.select_for_update().filter(workshop_id=phase.workshop_id).order_by("position", "id"))
    index = next(i for i, other in enumerate(phases) if other.pk == phase.pk)
    target = index + offset
    if 0 <= target < len(phases):
        phases[index], phases[target] = phases[target], phases[index]
    for position, other in enumerate(phases, start=1):
        if other.position != position:
            Phase.objects.filter(pk=other.pk).update(position=position)


@transaction.atomic
def agenda_create_default(*, workshop: Workshop) -> list[Phase]:
    """The format's default agenda in the workshop's language, if it has none yet.

    Parastaminen: introduction, then each case presented and followed by an
    individual reflection (what did I learn? what could be useful in my own
    work?), the small-group rounds, wrap-up and feedback.
    """
    Workshop.objects.select_for_update().get(pk=workshop.pk)
    if Phase.objects.filter(workshop=workshop).exists():
        return list(workshop.phases.all())
    F = Workshop.Format
    K = Phase.Kind
    with translation.override(workshop.language):
        plan: list[dict] = [
            {"kind": K.INTRO, "title": _("Welcome and introduction"), "duration_minutes": 10},
        ]
        for case in workshop.cases.order_by("position", "id"):
            plan.append(
                {
                    "kind": K.PRESENTATION,
                    "title": _("Case: %(title)s") % {"title": case.title},
                    "duration_minutes": 15,
                    "case": case,
                    "instructions": _("Write down observations and questions on the case while you listen."),
                }
            )
            if workshop.format != F.LARGE_EVENT:
                plan.append(
                    {
                        "kind": K.REFLECTION,
                        "title": _("Reflection: %(title)s") % {"title": case.title},
                        "duration_minutes": 5,
                        "case": case,
                        "instructions": _("Answer on your own first; short notes are enough."),
                        "prompts": [str(prompt) for prompt in REFLECTION_PROMPTS],
                    }
                )
        if workshop.format == F.LARGE_EVENT:
            plan.append({"kind": K.DISCUSSION, "title": _("Ideas and discussion"), "duration_minutes": 30})
        else:
            plan.append({"kind": K.ROUNDS, "title": _("Small-group rounds"), "duration_minutes": 45})
        plan.append({"kind": K.WRAP_UP, "title": _("Wrap-up"), "duration_minutes": 15})
        plan.append({"kind": K.FEEDBACK, "title": _("Feedback"), "duration_minutes": 5})
    return [phase_create(workshop=workshop, **item) for item in plan]


# --- live controls -----------------------------------------------------------------
def live_state(workshop: Workshop) -> LiveState:
    live, _created = LiveState.objects.get_or_create(workshop=workshop)
    return live


def _locked_live(workshop: Workshop) -> LiveState:
    live_state(workshop)
    return LiveState.objects.select_for_update(of=("self",)).select_related("current_phase").get(pk=workshop.pk)


def _require_live(workshop: Workshop) -> None:
    if workshop.status != Workshop.Status.LIVE:
        raise LiveError(_("The workshop is not running right now."))


def _publish_phase(live: LiveState) -> None:
    phase = live.current_phase
    realtime.publish(
        workshop_id=live.pk,
        kind="phase",
        payload={"phase": phase.pk if phase else None, "title": phase.title if phase else ""},
    )
    realtime.publish(workshop_id=live.pk, kind="timer", payload=realtime.timer_payload(live))


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
    _publish_phase(live)
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
    _publish_phase(live)
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
    """Run when a workshop closes: remove who wrote each anonymous comment, the event log and presence."""
    Comment.objects.filter(workshop_id=workshop_id, anonymous=True).update(author_participant=None, author_user=None)
    Event.objects.filter(workshop_id=workshop_id).delete()
    Presence.objects.filter(workshop_id=workshop_id).delete()
    LiveState.objects.filter(pk=workshop_id).update(timer_deadline=None, timer_remaining=None, broadcast_text="")


# --- comments ----------------------------------------------------------------------
def _clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise LiveError(_("Write something first."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise LiveError(
            _("The text is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(text), "limit": COMMENT_MAX_LENGTH}
        )
    return text


def _author_filter(viewer: LiveViewer) -> Q:
    if viewer.participant is not None:
        return Q(author_participant=viewer.participant)
    return Q(author_user=viewer.user)


def _is_own(comment: Comment, viewer: LiveViewer) -> bool:
    return comment.is_by(participant=viewer.participant, user=viewer.user)


def _comment_for_author(viewer: LiveViewer, comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_related("phase", "author_participant", "author_user")
        .filter(_author_filter(viewer), pk=comment_id, workshop=viewer.workshop, deleted_at__isnull=True)
        .first()
    )
    if comment is None:
        raise LiveError(_("You can only change your own comments."))
    return comment


def _with_counts(comment: Comment) -> Comment:
    counts = dict(comment.reactions.values_list("kind").annotate(n=Count("id")))
    comment.agree_count = counts.get(Reaction.Kind.AGREE, 0)
    comment.good_point_count = counts.get(Reaction.Kind.GOOD_POINT, 0)
    return comment


def comment_create(
    *,
    viewer: LiveViewer,
    phase_id: int,
    prompt_id: int | None,
    parent_id: int | None,
    text: str,
    anonymous: bool,
    client_id: uuid.UUID,
    language: str,
) -> tuple[Comment, bool]:
    """Store a comment once per ``client_id``; returns (comment, created).

    A retried POST returns the comment it already made. Broadcasts
    ``comment.created`` after commit, to everyone or, in a private phase, to
    the author only; the author's own screens also get ``comment.mine``.
    """
    text = _clean_text(text)
    existing = (
        Comment.objects.select_related("phase", "author_participant", "author_user").filter(client_id=client_id).first()
    )
    if existing is not None:
        if existing.workshop_id == viewer.workshop.pk and _is_own(existing, viewer):
            return existing, False
        raise LiveError(_("This comment could not be saved. Please reload the page."))
    _require_live(viewer.workshop)
    phase = Phase.objects.filter(pk=phase_id, workshop=viewer.workshop).first()
    if phase is None or not phase.has_threads:
        raise LiveError(_("This part of the workshop does not collect comments."))
    prompt_ids = list(phase.prompts.values_list("pk", flat=True))
    if prompt_ids and prompt_id not in prompt_ids:
        raise LiveError(_("Choose the question you are answering."))
    if not prompt_ids:
        prompt_id = None
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(
            pk=parent_id, phase=phase, prompt_id=prompt_id, parent__isnull=True, hidden_at__isnull=True
        ).first()
        if parent is None or (phase.is_private and not _is_own(parent, viewer)):
            raise LiveError(_("The comment you are replying to is no longer there."))
    comment = Comment(
        client_id=client_id,
        workshop=viewer.workshop,
        phase=phase,
        case_id=phase.case_id,
        prompt_id=prompt_id,
        parent=parent,
        author_participant=viewer.participant,
        author_user=viewer.user if viewer.writes_as_user else None,
        anonymous=bool(anonymous),
        text=text,
        language=language,
    )
    try:
        with transaction.atomic():
            comment.save()
            comment.agree_count = comment.good_point_count = 0
            realtime.publish(
                workshop_id=viewer.workshop.pk,
                kind="comment.created",
                payload=realtime.comment_payload(comment),
                **realtime.comment_audience(comment),
            )
            realtime.publish_ephemeral(
                workshop_id=viewer.workshop.pk, kind="comment.mine", payload={"id": comment.pk}, person=viewer
            )
            stats_publish(workshop=viewer.workshop)
    except IntegrityError:
        # The same client id arrived twice at once; the other request stored it.
        existing = Comment.objects.select_related("phase").filter(client_id=client_id).first()
        if existing is None or not _is_own(existing, viewer):
            raise
        return existing, False
    return comment, True


@transaction.atomic
def comment_update(*, viewer: LiveViewer, comment_id: int, text: str) -> Comment:
    """The author edits their comment while the workshop runs; broadcasts ``comment.edited``."""
    _require_live(viewer.workshop)
    comment = _comment_for_author(viewer, comment_id)
    comment.text = _clean_text(text)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["text", "edited_at"])
    if comment.hidden_at is None:
        realtime.publish(
            workshop_id=comment.workshop_id,
            kind="comment.edited",
            payload=realtime.comment_payload(_with_counts(comment), part="main"),
            **realtime.comment_audience(comment),
        )
    return comment


@transaction.atomic
def comment_delete(*, viewer: LiveViewer, comment_id: int) -> Comment:
    """The author removes their comment; its text is erased, replies to it stay.

    Broadcasts ``comment.deleted``.
    """
    _require_live(viewer.workshop)
    comment = _comment_for_author(viewer, comment_id)
    comment.text = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["text", "deleted_at"])
    Reaction.objects.filter(comment=comment).delete()
    comment.agree_count = comment.good_point_count = 0
    realtime.publish(
        workshop_id=comment.workshop_id,
        kind="comment.deleted",
        payload=realtime.comment_payload(comment, part="main"),
        **realtime.comment_audience(comment),
    )
    return comment


def _comment_for_moderator(viewer: LiveViewer, comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_related("phase", "author_participant", "author_user")
        .filter(pk=comment_id, workshop=viewer.workshop, deleted_at__isnull=True)
        .first()
    )
    if comment is None:
        raise LiveError(_("The comment is no longer there."))
    if not viewer.can_moderate(comment.case_id):
        raise LiveError(_("Only the facilitator or the case's presenter can hide comments."))
    return comment


@transaction.atomic
def comment_hide(*, viewer: LiveViewer, comment_id: int) -> Comment:
    """Hide an inappropriate comment from everyone; broadcasts ``comment.hidden`` (the id only)."""
    comment = _comment_for_moderator(viewer, comment_id)
    if comment.hidden_at is None:
        comment.hidden_at = timezone.now()
        comment.save(update_fields=["hidden_at"])
        realtime.publish(workshop_id=comment.workshop_id, kind="comment.hidden", payload={"id": comment.pk})
    return comment


@transaction.atomic
def comment_unhide(*, viewer: LiveViewer, comment_id: int) -> Comment:
    """Show a hidden comment again; broadcasts ``comment.shown`` with its HTML."""
    comment = _comment_for_moderator(viewer, comment_id)
    if comment.hidden_at is not None:
        comment.hidden_at = None
        comment.save(update_fields=["hidden_at"])
        realtime.publish(
            workshop_id=comment.workshop_id,
            kind="comment.shown",
            payload=realtime.comment_payload(_with_counts(comment)),
            **realtime.comment_audience(comment),
        )
    return comment


@transaction.atomic
def reaction_toggle(*, viewer: LiveViewer, comment_id: int, kind: str) -> tuple[Comment, str | None]:
    """React once per comment: the same kind again takes it back, another kind replaces it.

    Returns the comment and the viewer's reaction now; broadcasts ``reaction`` with the counts.
    """
    if kind not in Reaction.Kind.values:
        raise LiveError(_("Unknown reaction."))
    comment = (
        Comment.objects.select_related("phase")
        .filter(pk=comment_id, workshop=viewer.workshop, deleted_at__isnull=True, hidden_at__isnull=True)
        .first()
    )
    if comment is None or (comment.phase.is_private and not _is_own(comment, viewer)):
        raise LiveError(_("The comment is no longer there."))
    _require_live(viewer.workshop)
    who = {"participant": viewer.participant} if viewer.participant else {"user": viewer.user}
    current = Reaction.objects.select_for_update().filter(comment=comment, **who).first()
    mine: str | None = kind
    if current is None:
        Reaction.objects.create(comment=comment, kind=kind, **who)
    elif current.kind == kind:
        current.delete()
        mine = None
    else:
        current.kind = kind
        current.save(update_fields=["kind"])
    _with_counts(comment)
    realtime.publish(
        workshop_id=comment.workshop_id,
        kind="reaction",
        payload={"id": comment.pk, "counts": {"agree": comment.agree_count, "good_point": comment.good_point_count}},
        **realtime.comment_audience(comment),
    )
    return comment, mine


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


def presence_leave(*, key: str) -> None:
    Presence.objects.filter(key=key).delete()


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
    """Push the connected and writers counts to the facilitators' screens (not recorded)."""

    def push() -> None:
        realtime.publish_ephemeral(
            workshop_id=workshop.pk, kind="stats", payload=live_stats(workshop.pk), staff_only=True
        )

    transaction.on_commit(push)


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
