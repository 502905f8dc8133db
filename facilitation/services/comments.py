"""Comments, replies, edits, deletions, hiding and reactions, each stored once and pushed after commit."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import realtime
from facilitation.models import COMMENT_MAX_LENGTH, Comment, Phase, Prompt, Reaction, Room
from facilitation.permissions import LiveViewer, in_room
from facilitation.services.common import (
    LiveError,
    _require_live,
)
from facilitation.services.presence import stats_publish


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


def _room_for_writer(viewer: LiveViewer, room_id: int) -> Room:
    """The room whose notes the viewer may write: its members and leader, and facilitators, once it has started."""
    room = Room.objects.select_related("round").filter(pk=room_id, round__workshop=viewer.workshop).first()
    if room is None or room.round.started_at is None:
        raise LiveError(_("This room is not open."))
    if not in_room(viewer, room):
        raise LiveError(_("You are in another room in this round."))
    return room


def _phase_and_prompt(viewer: LiveViewer, phase_id: int, prompt_id: int | None, *, in_room: bool):
    """The phase a comment belongs to and its prompt, checked against the agenda and the workshop's status.

    Whether the phase has prompts and whether ``prompt_id`` is one of them come with the phase, in one query,
    and so do the new comment's id (``next_comment_id``; None on SQLite, see ``realtime.create_with_event``)
    and the workshop's status as it is now: a socket's viewer was read when it connected, perhaps before the
    workshop started or after it closed.
    """
    prompts = Prompt.objects.filter(phase=OuterRef("pk"))
    given = Exists(prompts.filter(pk=prompt_id)) if prompt_id is not None else Value(False)
    phases = Phase.objects.filter(workshop=viewer.workshop).annotate(
        has_prompts=Exists(prompts),
        prompt_given=given,
        next_comment_id=realtime.next_id(Comment),
        workshop_status=F("workshop__status"),
    )
    phase = phases.filter(pk=phase_id).first()
    if in_room and (phase is None or phase.kind != Phase.Kind.ROUNDS):
        # A room's notes belong to the small-group rounds, whichever phase the page last showed.
        phase = phases.filter(kind=Phase.Kind.ROUNDS).order_by("position").first()
    # Without a phase (none given, or another workshop's) the viewer's own status says it; the comment is refused.
    _require_live(viewer.workshop, phase.workshop_status if phase is not None else None)
    if in_room:
        if phase is None:
            raise LiveError(_("The agenda has no small-group rounds."))
        return phase, prompt_id if phase.prompt_given else None
    if phase is None or not phase.has_threads:
        raise LiveError(_("This part of the workshop does not collect comments."))
    if phase.has_prompts and not phase.prompt_given:
        raise LiveError(_("Choose the question you are answering."))
    return phase, prompt_id if phase.has_prompts else None


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
    room_id: int | None = None,
) -> tuple[Comment, bool]:
    """Store a comment once per ``client_id``; returns (comment, created).

    A retried POST returns the comment it already made. Broadcasts
    ``comment.created`` after commit, to everyone, to the room (a small
    group's notes, with ``room_id``) or, in a private phase, to the author
    only; the author's own screens also get ``comment.mine``.
    """
    text = _clean_text(text)
    # A retried POST is rare: it is looked up only when this one cannot be stored (the unique client id
    # refuses the copy, or the workshop moved on since the first try), not on every comment's way in.
    try:
        phase, prompt_id = _phase_and_prompt(viewer, phase_id, prompt_id, in_room=room_id is not None)
        room = _room_for_writer(viewer, room_id) if room_id is not None else None
        parent = None
        if parent_id is not None:
            parent = Comment.objects.filter(
                pk=parent_id, phase=phase, prompt_id=prompt_id, room=room, parent__isnull=True, hidden_at__isnull=True
            ).first()
            if parent is None or (phase.is_private and not _is_own(parent, viewer)):
                raise LiveError(_("The comment you are replying to is no longer there."))
    except LiveError:
        if (existing := _stored(viewer, client_id)) is not None:
            return existing, False
        raise
    comment = Comment(
        pk=phase.next_comment_id,
        client_id=client_id,
        workshop=viewer.workshop,
        phase=phase,
        case_id=room.case_id if room else phase.case_id,
        prompt_id=prompt_id,
        round_id=room.round_id if room else None,
        room=room,
        parent=parent,
        author_participant=viewer.participant,
        author_user=viewer.user if viewer.writes_as_user else None,
        anonymous=bool(anonymous),
        text=text,
        language=language,
    )
    comment.agree_count = comment.good_point_count = 0
    try:
        event = realtime.create_with_event(
            comment,
            workshop_id=viewer.workshop.pk,
            kind="comment.created",
            payload=lambda: realtime.comment_payload(comment),
            **realtime.comment_audience(comment),
        )
    except IntegrityError:
        # The client id is taken: a retry of a stored comment (or the same POST twice at once).
        existing = _stored(viewer, client_id)
        if existing is None:
            raise
        return existing, False
    realtime.publish_ephemeral(
        workshop_id=viewer.workshop.pk, kind="comment.mine", payload={"id": comment.pk}, person=viewer
    )
    stats_publish(workshop=viewer.workshop)
    comment.pushed = event.payload  # the author's answer carries what was pushed instead of rendering again
    return comment, True


def _stored(viewer: LiveViewer, client_id: uuid.UUID) -> Comment | None:
    """The comment already stored under ``client_id`` if it is the viewer's own; another's id is refused."""
    existing = (
        Comment.objects.select_related("phase", "author_participant", "author_user").filter(client_id=client_id).first()
    )
    if existing is None:
        return None
    if existing.workshop_id == viewer.workshop.pk and _is_own(existing, viewer):
        return existing
    raise LiveError(_("This comment could not be saved. Please reload the page."))


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
            payload=realtime.comment_payload(_with_counts(comment)),
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
        payload=realtime.comment_payload(comment),
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
    if comment.room_id and not viewer.is_staff:
        _room_for_writer(viewer, comment.room_id)
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
