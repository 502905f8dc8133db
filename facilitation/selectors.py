"""Reads for the live pages, with their query count fixed however many comments there are."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from facilitation.models import Comment, Event, LiveState, Phase, Prompt, Reaction
from facilitation.permissions import LiveViewer
from facilitation.realtime import event_for_client

EVENTS_PAGE = 500
COMMENT_EVENT_KINDS = {"comment.created", "comment.edited", "comment.shown", "reaction"}


@dataclass
class Thread:
    """The comments on one case or one prompt of a phase, as this viewer may see them."""

    key: str
    phase: Phase
    prompt: object | None
    title: str
    comments: list[Comment] = field(default_factory=list)


@dataclass
class LivePage:
    live: LiveState
    phase: Phase | None
    phases: list[Phase]
    threads: list[Thread]


def _own(viewer: LiveViewer) -> Q:
    if viewer.participant is not None:
        return Q(author_participant=viewer.participant)
    return Q(author_user=viewer.user)


def _visible(queryset: QuerySet, viewer: LiveViewer, phase: Phase) -> QuerySet:
    if not viewer.is_staff:
        queryset = queryset.filter(hidden_at__isnull=True)
    if phase.is_private:
        queryset = queryset.filter(_own(viewer))
    return queryset


def _annotated(queryset: QuerySet, viewer: LiveViewer) -> QuerySet:
    who = {"participant": viewer.participant} if viewer.participant else {"user": viewer.user}
    return queryset.select_related("author_participant", "author_user").annotate(
        agree_count=Count("reactions", filter=Q(reactions__kind=Reaction.Kind.AGREE)),
        good_point_count=Count("reactions", filter=Q(reactions__kind=Reaction.Kind.GOOD_POINT)),
        my_reaction=Subquery(Reaction.objects.filter(comment=OuterRef("pk"), **who).values("kind")[:1]),
    )


def _mark(comment: Comment, viewer: LiveViewer) -> None:
    comment.mine = comment.is_by(participant=viewer.participant, user=viewer.user)
    comment.can_moderate = viewer.can_moderate(comment.case_id)


def thread_title(phase: Phase, prompt) -> str:
    if prompt is not None:
        return prompt.text
    if phase.kind == Phase.Kind.PRESENTATION:
        return _("Observations and questions on the case")
    return _("Comments")


def threads_for(viewer: LiveViewer, phase: Phase | None) -> list[Thread]:
    """The phase's threads with comments and one level of replies: three queries in all."""
    if phase is None or not phase.has_threads:
        return []
    prompts = list(phase.prompts.all())
    threads = {
        prompt.pk if prompt else None: Thread(
            key=f"p{phase.pk}-q{prompt.pk if prompt else 0}",
            phase=phase,
            prompt=prompt,
            title=thread_title(phase, prompt),
        )
        for prompt in (prompts or [None])
    }
    replies = _annotated(_visible(Comment.objects.filter(deleted_at__isnull=True), viewer, phase), viewer)
    live_replies = _visible(Comment.objects.filter(parent=OuterRef("pk"), deleted_at__isnull=True), viewer, phase)
    top = (
        _annotated(_visible(Comment.objects.filter(phase=phase, parent__isnull=True), viewer, phase), viewer)
        .filter(Q(deleted_at__isnull=True) | Exists(live_replies))
        .prefetch_related(Prefetch("replies", queryset=replies.order_by("created_at", "id"), to_attr="shown_replies"))
        .order_by("created_at", "id")
    )
    for comment in top:
        comment.phase = phase
        _mark(comment, viewer)
        for reply in comment.shown_replies:
            _mark(reply, viewer)
        thread = threads.get(comment.prompt_id) or next(iter(threads.values()))
        thread.comments.append(comment)
    return list(threads.values())


def live_page(viewer: LiveViewer, phase: Phase | None = None) -> LivePage:
    """Everything the live page shows: state, agenda, the current (or given) phase and its threads."""
    live, _created = LiveState.objects.select_related("current_phase__case").get_or_create(workshop=viewer.workshop)
    phases = list(viewer.workshop.phases.select_related("case").order_by("position", "id"))
    shown = phase or live.current_phase
    if shown is not None:
        shown = next((p for p in phases if p.pk == shown.pk), shown)
    return LivePage(live=live, phase=shown, phases=phases, threads=threads_for(viewer, shown))


def agenda_phases(workshop) -> QuerySet[Phase]:
    """The workshop's phases in order, with their case and prompts: three queries for any number of phases."""
    prompts = Prompt.objects.order_by("position", "id")
    return (
        Phase.objects.filter(workshop=workshop)
        .select_related("case")
        .prefetch_related(Prefetch("prompts", queryset=prompts))
        .order_by("position", "id")
    )


def phase_of_workshop(viewer: LiveViewer, phase_id: int) -> Phase | None:
    return Phase.objects.select_related("case").filter(pk=phase_id, workshop=viewer.workshop).first()


def _audience(viewer: LiveViewer) -> Q:
    audience = Q(audience=Event.Audience.ALL)
    if viewer.is_staff:
        audience |= Q(audience=Event.Audience.STAFF)
    if viewer.participant is not None:
        audience |= Q(audience=Event.Audience.PERSON, participant=viewer.participant)
    elif viewer.user is not None:
        audience |= Q(audience=Event.Audience.PERSON, user=viewer.user, participant__isnull=True)
    return audience


def events_after(viewer: LiveViewer, after_id: int) -> tuple[list[dict], bool]:
    """The events this viewer may receive after ``after_id``, and whether more are waiting.

    Content of comments hidden since (for non-facilitators) or deleted since is left out.
    """
    rows = list(
        Event.objects.filter(_audience(viewer), workshop=viewer.workshop, id__gt=after_id)
        .order_by("id")
        .values("id", "kind", "payload")[: EVENTS_PAGE + 1]
    )
    more = len(rows) > EVENTS_PAGE
    rows = rows[:EVENTS_PAGE]
    comment_ids = {row["payload"].get("id") for row in rows if row["kind"] in COMMENT_EVENT_KINDS}
    withdrawn: set[int] = set()
    if comment_ids:
        gone = (
            Q(deleted_at__isnull=False) if viewer.is_staff else Q(deleted_at__isnull=False) | Q(hidden_at__isnull=False)
        )
        withdrawn = set(Comment.objects.filter(gone, pk__in=comment_ids).values_list("pk", flat=True))
    events = [
        event_for_client({"id": row["id"], "kind": row["kind"], "data": row["payload"]}, viewer.language)
        for row in rows
        if not (row["kind"] in COMMENT_EVENT_KINDS and row["payload"].get("id") in withdrawn)
    ]
    return events, more


def last_event_id(viewer: LiveViewer) -> int:
    """Where a freshly rendered page starts listening: the newest event it may see."""
    return (
        Event.objects.filter(_audience(viewer), workshop=viewer.workshop)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )
