"""Reads for the live pages, with their query count fixed however many comments there are."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation import selectors_live
from facilitation.models import (
    PRESENCE_WINDOW,
    Comment,
    Event,
    Idea,
    LiveState,
    Phase,
    Presence,
    Prompt,
    Reaction,
    Room,
    RoomMember,
    Round,
    room_thread_key,
)
from facilitation.permissions import LiveViewer
from facilitation.realtime import event_for_client
from facilitation.selectors_feedback import survey_view
from facilitation.selectors_ideas import ideas_view
from facilitation.selectors_voting import voting_view
from workshops.models import Participant, Workshop

EVENTS_PAGE = 500
THREAD_LATEST = 25  # top-level comments a thread shows at first; "Show earlier comments" doubles it
THREAD_MAX = 800  # the most a page renders of one thread, however often people ask for earlier ones
COMMENT_EVENT_KINDS = {"comment.created", "comment.edited", "comment.shown", "reaction"}
IDEA_EVENT_KINDS = {"idea.created", "idea.edited", "idea.shown"}


@dataclass
class Thread:
    """The comments on one case or one prompt of a phase, as this viewer may see them."""

    key: str
    phase: Phase
    prompt: object | None
    comments: list[Comment] = field(default_factory=list)
    has_older: bool = False  # earlier top-level comments exist than the page shows

    @property
    def title(self) -> str:
        """In the language active when it is read: one page can be rendered in each language."""
        return thread_title(self.phase, self.prompt)


@dataclass
class LivePage:
    live: LiveState
    phase: Phase | None
    phases: list[Phase]
    threads: list[Thread]
    rounds: object | None = None  # RoundView in the small-group rounds phase
    summaries: list | None = None  # the groups' summaries by case, at the wrap-up
    ideas: object | None = None  # selectors_ideas.IdeasView in an idea collection
    voting: object | None = None  # selectors_voting.VotingView in a prioritisation
    survey: object | None = None  # selectors_feedback.SurveyView in the feedback phase
    limit: int = THREAD_LATEST  # top-level comments shown per thread

    @property
    def more_limit(self) -> int:
        """How many the "Show earlier comments" link asks for."""
        return min(self.limit * 2, THREAD_MAX)

    @classmethod
    def bar_only(cls, live: LiveState, limit: int = THREAD_LATEST) -> LivePage:
        """A page whose own render shows only the live bar (timer, broadcast): the room overview, and a live page
        whose panel comes from the shared copy."""
        return cls(live=live, phase=None, phases=[], threads=[], limit=limit)


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


def thread_limit(value) -> int:
    """The number of top-level comments per thread a page asked for (``?show=``), within bounds."""
    try:
        wanted = int(value)
    except (TypeError, ValueError):
        return THREAD_LATEST
    return max(THREAD_LATEST, min(wanted, THREAD_MAX))


def _comment_tree(
    viewer: LiveViewer, phase: Phase, where: Q, limit: int = THREAD_LATEST
) -> tuple[list[Comment], set[tuple]]:
    """The latest ``limit`` top-level comments matching ``where`` per thread (prompt or room) with one level of
    replies, as the viewer may see them, oldest first: two queries however many comments there are.

    Also returns the threads (``(prompt_id, room_id)``) that have earlier comments than those shown.
    """
    replies = _annotated(_visible(Comment.objects.filter(deleted_at__isnull=True), viewer, phase), viewer)
    live_replies = _visible(Comment.objects.filter(parent=OuterRef("pk"), deleted_at__isnull=True), viewer, phase)
    shown = _visible(Comment.objects.filter(where, parent__isnull=True), viewer, phase).filter(
        Q(deleted_at__isnull=True) | Exists(live_replies)
    )
    # One more than shown per thread tells whether earlier ones exist.
    latest = (
        shown.annotate(
            recent=Window(
                RowNumber(),
                partition_by=[F("prompt_id"), F("room_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(recent__lte=limit + 1)
        .values("pk")
    )
    fetched = list(
        _annotated(Comment.objects.filter(pk__in=Subquery(latest)), viewer)
        .prefetch_related(Prefetch("replies", queryset=replies.order_by("created_at", "id"), to_attr="shown_replies"))
        .order_by("created_at", "id")
    )
    per_thread: dict[tuple, list[Comment]] = {}
    for comment in fetched:
        per_thread.setdefault((comment.prompt_id, comment.room_id), []).append(comment)
    older = {key for key, comments in per_thread.items() if len(comments) > limit}
    top = []
    for key, comments in per_thread.items():
        top.extend(comments[1:] if key in older else comments)
    top.sort(key=lambda comment: (comment.created_at, comment.pk))
    for comment in top:
        comment.phase = phase
        _mark(comment, viewer)
        for reply in comment.shown_replies:
            _mark(reply, viewer)
    return top, older


def threads_for(viewer: LiveViewer, phase: Phase | None, limit: int = THREAD_LATEST) -> list[Thread]:
    """The phase's threads with their latest ``limit`` comments and one level of replies: three queries in all."""
    if phase is None or not phase.has_threads:
        return []
    prompts = list(phase.prompts.all())
    threads = {
        prompt.pk if prompt else None: Thread(
            key=f"p{phase.pk}-q{prompt.pk if prompt else 0}",
            phase=phase,
            prompt=prompt,
        )
        for prompt in (prompts or [None])
    }
    comments, older = _comment_tree(viewer, phase, Q(phase=phase, room__isnull=True), limit)
    for comment in comments:
        thread = threads.get(comment.prompt_id) or next(iter(threads.values()))
        thread.comments.append(comment)
    for prompt_id, _room_id in older:
        thread = threads.get(prompt_id) or next(iter(threads.values()))
        thread.has_older = True
    return list(threads.values())


# Phases whose panel holds something of the viewer's own: their room, their ideas and pairs, their survey.
OWN_PANEL_KINDS = {Phase.Kind.ROUNDS, Phase.Kind.IDEAS, Phase.Kind.PRIORITISATION, Phase.Kind.FEEDBACK}


def sees_shared_panel(viewer: LiveViewer) -> bool:
    """A plain participant: not staff, not the organisation's contact person, not a case's presenter."""
    return not (viewer.participant is None or viewer.is_staff or viewer.is_contact_person or viewer.presented_case_ids)


def _live_state(workshop) -> LiveState:
    """The workshop's timer, broadcast and current phase with its case: one query."""
    state = LiveState.objects.select_related("current_phase__case").filter(pk=workshop.pk).first()
    return state or LiveState(workshop=workshop)  # not started yet: nothing to store


@dataclass
class LiveRead:
    """What a live page reads of the workshop's state before it renders (``live_read``)."""

    state: LiveState  # timer, broadcast and current phase (with its case)
    last_event: int  # the newest event the viewer may see: where the page starts listening
    unplaced: bool = False  # a participant arriving in the rounds with no room in any round (``late_joiner_place``)
    shared: bool = False  # read for a panel shared with others (the fields below are filled in)
    panel_room: int | None = None  # the room whose copy a plain member shares in the running round
    newest_all: int = 0  # the newest event for everyone
    newest_room: int = 0  # the newest event for ``panel_room``


def live_read(viewer: LiveViewer, *, shared: bool = False) -> LiveRead:
    """The workshop's state, the newest event the viewer may see, whether a participant arriving in the rounds
    still needs a room and, with ``shared`` (for a plain participant), what names the panel's shared copy (see
    ``shared_panel_key``). Two queries: the state with its phase, and the rest in one (``selectors_live``, SQL
    written out: these were four queries, whose composing cost a live page most of its CPU)."""
    workshop = viewer.workshop
    participant = viewer.participant
    state = _live_state(workshop)
    if participant is None or viewer.is_staff:
        return LiveRead(state=state, last_event=last_event_id(viewer))
    shared = shared and sees_shared_panel(viewer)
    found = selectors_live.participant_read(workshop.pk, participant.pk, shared=shared)
    phase = state.current_phase
    in_rounds = phase is not None and phase.kind == Phase.Kind.ROUNDS
    arriving = in_rounds and participant.role == participant.Role.PARTICIPANT
    return LiveRead(
        state=state,
        last_event=found.newest_seen,
        unplaced=arriving and found.has_rounds and not found.placed,
        shared=shared,
        panel_room=found.panel_room,
        newest_all=found.newest_all,
        newest_room=found.newest_room,
    )


def shared_panel_key(viewer: LiveViewer, limit: int, language: str, read: LiveRead | None = None) -> str | None:
    """The cache key of the current phase's panel as every plain participant sees it, or None when this
    viewer's panel is their own: staff, a case's presenter, someone who asked for earlier comments, a room's
    leader, someone without a room in the running round, a phase with ideas, votes or the survey, answers still
    private. No query with ``read``, the ``live_read(viewer, shared=True)`` the caller has made; one without.

    The key carries the newest event the copy's viewers see: a comment, an edit, a hidden comment, a reaction,
    a call for help or a phase change makes a new key.
    """
    if not sees_shared_panel(viewer) or limit != THREAD_LATEST:
        return None
    if read is None or not read.shared:
        read = live_read(viewer, shared=True)
    phase = read.state.current_phase
    kind = phase and phase.kind
    room_id, newest = 0, read.newest_all
    if kind == Phase.Kind.ROUNDS:
        if read.panel_room is None:
            return None
        room_id, newest = read.panel_room, max(read.newest_all, read.newest_room)
    elif kind in OWN_PANEL_KINDS or (phase is not None and phase.private_first and phase.revealed_at is None):
        return None
    return f"live-panel:{viewer.workshop.pk}:{phase.pk if phase else 0}:{room_id}:{newest}:{language}"


def _as_anyone(comments: list[Comment]) -> None:
    """Forget whose page this is: no comment is "mine", no reaction pressed (the page marks its own)."""
    for comment in comments:
        for shown in (comment, *comment.shown_replies):
            shown.mine = False
            shown.my_reaction = None


def own_marks(viewer: LiveViewer, phase_id: int | None) -> tuple[set[int], dict[int, str]]:
    """The viewer's comments and reactions in the phase ``phase_id`` (the current one), to mark a shared copy of
    its panel as their own render would be marked (``_mark`` and ``_annotated``): one query
    (``selectors_live.marks``)."""
    if phase_id is None or viewer.participant is None:  # before the first phase: nothing to mark
        return set(), {}
    user = viewer.user if viewer.user is not None and viewer.user.is_authenticated else None
    return selectors_live.marks(viewer.workshop.pk, phase_id, viewer.participant.pk, user and user.pk)


def live_page(
    viewer: LiveViewer,
    phase: Phase | None = None,
    limit: int = THREAD_LATEST,
    *,
    shared: bool = False,
    state: LiveState | None = None,
) -> LivePage:
    """Everything the live page shows: state, agenda, the current (or given) phase and its threads (the latest
    ``limit`` top-level comments of each). ``shared``: as any plain participant sees it (see
    ``shared_panel_key``). ``state``: the workshop's LiveState, when the caller has read it (``live_read``)."""
    live = state or _live_state(viewer.workshop)
    phases = list(viewer.workshop.phases.select_related("case").order_by("position", "id"))
    shown = phase or live.current_phase
    if shown is not None:
        shown = next((p for p in phases if p.pk == shown.pk), shown)
        if shown.has_threads or shown.kind == Phase.Kind.ROUNDS:
            prefetch_related_objects([shown], "prompts")  # the threads and the rounds panel read them
    page = LivePage(live=live, phase=shown, phases=phases, threads=threads_for(viewer, shown, limit), limit=limit)
    if shared:
        _as_anyone([comment for thread in page.threads for comment in thread.comments])
    if shown is not None and shown.kind == Phase.Kind.ROUNDS:
        page.rounds = round_view(viewer, shown, limit)
        if shared and page.rounds.mine is not None:
            _as_anyone(page.rounds.mine.comments)
    elif shown is not None and shown.kind == Phase.Kind.WRAP_UP:
        page.summaries = summaries_by_case(viewer.workshop)
    elif shown is not None and shown.kind == Phase.Kind.IDEAS:
        page.ideas = ideas_view(viewer, shown)
    elif shown is not None and shown.kind == Phase.Kind.PRIORITISATION:
        page.voting = voting_view(viewer, shown)
    elif shown is not None and shown.kind == Phase.Kind.FEEDBACK:
        page.survey = survey_view(viewer)
    return page


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


def _viewer_rooms(viewer: LiveViewer) -> QuerySet:
    """The rooms, in any round, whose notes this viewer (a participant) may follow: where they are a member or
    the leader. Their ids, as a query to use inside another."""
    member_of = RoomMember.objects.filter(participant=viewer.participant, left_at__isnull=True).values("room_id")
    led = Room.objects.filter(leader=viewer.participant).values("pk")
    return Room.objects.filter(Q(pk__in=member_of) | Q(pk__in=led), round__workshop=viewer.workshop).values("pk")


def viewer_room_ids(viewer: LiveViewer) -> set[int]:
    """The rooms, in any round, whose notes this viewer may follow: where they are a member or the leader."""
    if viewer.participant is None:
        return set()
    return set(_viewer_rooms(viewer).values_list("pk", flat=True))


def _audience(viewer: LiveViewer) -> Q:
    audience = Q(audience=Event.Audience.ALL)
    if viewer.is_staff:
        audience |= Q(audience__in=[Event.Audience.STAFF, Event.Audience.ROOM])
    elif viewer.participant is not None:
        audience |= Q(audience=Event.Audience.ROOM, room_id__in=_viewer_rooms(viewer))  # in the same query
    if viewer.participant is not None:
        audience |= Q(audience=Event.Audience.PERSON, participant=viewer.participant)
    elif viewer.user is not None:
        audience |= Q(audience=Event.Audience.PERSON, user=viewer.user, participant__isnull=True)
    return audience


def _withdrawn(viewer: LiveViewer, rows: list[dict], kinds: set[str], model) -> set[int]:
    """Ids of the comments or ideas in ``rows`` whose content this viewer may no longer receive."""
    ids = {row["payload"].get("id") for row in rows if row["kind"] in kinds}
    if not ids:
        return set()
    if model is Comment:
        gone = Q(deleted_at__isnull=False)
        if not viewer.is_staff:
            gone |= Q(hidden_at__isnull=False)
    else:
        if viewer.is_staff:
            return set()
        gone = Q(hidden_at__isnull=False) | Q(merged_into__isnull=False)
    return set(model.objects.filter(gone, pk__in=ids).values_list("pk", flat=True))


def events_after(viewer: LiveViewer, after_id: int) -> tuple[list[dict], bool]:
    """The events this viewer may receive after ``after_id``, and whether more are waiting.

    Content of comments hidden since (for non-facilitators) or deleted since is left out, and of ideas
    hidden or merged since (for non-facilitators).
    """
    rows = list(
        Event.objects.filter(_audience(viewer), workshop=viewer.workshop, id__gt=after_id)
        .order_by("id")
        .values("id", "kind", "payload")[: EVENTS_PAGE + 1]
    )
    more = len(rows) > EVENTS_PAGE
    rows = rows[:EVENTS_PAGE]
    withdrawn = _withdrawn(viewer, rows, COMMENT_EVENT_KINDS, Comment)
    withdrawn_ideas = _withdrawn(viewer, rows, IDEA_EVENT_KINDS, Idea)
    events = [
        event_for_client({"id": row["id"], "kind": row["kind"], "data": row["payload"]}, viewer.language)
        for row in rows
        if not (row["kind"] in COMMENT_EVENT_KINDS and row["payload"].get("id") in withdrawn)
        and not (row["kind"] in IDEA_EVENT_KINDS and row["payload"].get("id") in withdrawn_ideas)
    ]
    return events, more


def catch_up(viewer: LiveViewer, after_id: int, *, status: str | None = None) -> dict:
    """What a page that was away needs: the events after ``after_id`` (a page of them, and whether more
    wait), the workshop's status (read afresh unless given) and, for staff, the presence counts.

    Answered by the events endpoint (polling, or a socket that is not open) and on the socket itself."""
    from facilitation.services.presence import live_stats  # a read, kept beside the writes it counts

    found, more = events_after(viewer, after_id)
    if status is None:
        status = Workshop.objects.filter(pk=viewer.workshop.pk).values_list("status", flat=True).first()
    body = {"events": found, "more": more, "status": status}
    if viewer.is_staff:
        body["stats"] = live_stats(viewer.workshop.pk)
    return body


def last_event_id(viewer: LiveViewer) -> int:
    """Where a freshly rendered page starts listening: the newest event it may see."""
    return (
        Event.objects.filter(_audience(viewer), workshop=viewer.workshop)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


# --- small-group rounds in the live pages ------------------------------------------------
@dataclass
class RoomView:
    """One room of the running round as the live pages show it."""

    room: Room
    members: list = field(default_factory=list)  # RoomMember rows with .participant and .connected
    comments: list[Comment] = field(default_factory=list)
    comment_count: int = 0
    latest: list[Comment] = field(default_factory=list)
    is_leader: bool = False
    has_older: bool = False  # the room has earlier notes than ``comments``

    @property
    def thread_key(self) -> str:
        return room_thread_key(self.room.pk)

    @property
    def connected_count(self) -> int:
        return sum(1 for member in self.members if member.connected and member.left_at is None)

    @property
    def present_count(self) -> int:
        return sum(1 for member in self.members if member.left_at is None)


@dataclass
class RoundView:
    """Where the viewer is in the small-group rounds: which round, which room, what to do there."""

    round: Round | None
    total: int
    mine: RoomView | None = None
    next_round: Round | None = None


def connected_participant_ids(workshop_id: int) -> set[int]:
    since = timezone.now() - PRESENCE_WINDOW
    return set(
        Presence.objects.filter(workshop_id=workshop_id, seen_at__gte=since, participant__isnull=False).values_list(
            "participant_id", flat=True
        )
    )


def _members_present(room: Room, connected: set[int]) -> list[RoomMember]:
    """The room's members (prefetched by ``_room_queryset``), each marked ``connected`` or not."""
    members = list(room.members.all())
    for member in members:
        member.connected = member.participant_id in connected
    return members


def _room_queryset():
    members = RoomMember.objects.select_related("participant").order_by("participant__name", "participant_id")
    return Room.objects.select_related("case", "leader", "round").prefetch_related(Prefetch("members", members))


def workshop_rounds(workshop) -> tuple[list[Round], Round | None]:
    """The workshop's rounds in order, and the running one (started, not closed; one at a time) or None."""
    rounds = list(Round.objects.filter(workshop=workshop).order_by("number"))
    return rounds, next((r for r in rounds if r.started_at and not r.closed_at), None)


def plain_member_per_room(workshop, number: int) -> list[tuple[int, Participant]]:
    """For each room of round ``number``, in order: one present member whose page shows the room's shared panel
    (a plain participant, not the room's leader; see ``sees_shared_panel``). One query."""
    members = (
        RoomMember.objects.filter(
            round__workshop=workshop,
            round__number=number,
            left_at__isnull=True,
            participant__role=Participant.Role.PARTICIPANT,
        )
        .exclude(room__leader=F("participant"))
        .select_related("participant")
        .order_by("room__index", "participant_id")
    )
    chosen: dict[int, Participant] = {}
    for member in members:
        chosen.setdefault(member.room_id, member.participant)
    return list(chosen.items())


def rooms_as_members_see_them(
    viewer: LiveViewer, round_: Round, phase: Phase, limit: int = THREAD_LATEST
) -> dict[int, RoomView]:
    """Every room of ``round_`` as its plain members' shared panel shows it (``round_view``'s room, with its notes
    marked as nobody's), read for all rooms at once; ``viewer``: any plain participant. Six queries."""
    connected = connected_participant_ids(viewer.workshop.pk)
    comments, older = _comment_tree(viewer, phase, Q(room__round=round_), limit)
    _as_anyone(comments)
    notes: dict[int, list[Comment]] = {}
    for comment in comments:
        notes.setdefault(comment.room_id, []).append(comment)
    views = {}
    for room in _room_queryset().filter(round=round_):
        views[room.pk] = RoomView(
            room=room,
            members=_members_present(room, connected),
            comments=notes.get(room.pk, []),
            has_older=any(room_id == room.pk for _prompt, room_id in older),
        )
    return views


def round_view(viewer: LiveViewer, phase: Phase, limit: int = THREAD_LATEST) -> RoundView:
    """The viewer's room in the running round (members, leader, its latest ``limit`` notes), or what comes next."""
    rounds, running = workshop_rounds(viewer.workshop)
    upcoming = next((r for r in rounds if r.started_at is None), None)
    view = RoundView(round=running, total=len(rounds), next_round=upcoming)
    if running is None or viewer.participant is None:
        return view
    room = (
        _room_queryset()
        .filter(round=running)
        .filter(
            Q(members__participant=viewer.participant, members__left_at__isnull=True) | Q(leader=viewer.participant)
        )
        .first()
    )
    if room is None:
        return view
    comments, older = _comment_tree(viewer, phase, Q(room=room), limit)
    view.mine = RoomView(
        room=room,
        members=_members_present(room, connected_participant_ids(viewer.workshop.pk)),
        comments=comments,
        is_leader=room.leader_id == viewer.participant.pk,
        has_older=bool(older),
    )
    return view


LATEST_PER_ROOM = 3


def rooms_overview_key(
    viewer: LiveViewer, round_: Round | None, rounds: list, connected: set[int], language: str, last_event: int
) -> str:
    """What the facilitators' room overview depends on, as a cache key: the newest event they may see
    (``last_event_id``), the rounds, who is connected and the language."""
    people = hashlib.blake2b(",".join(map(str, sorted(connected))).encode(), digest_size=8).hexdigest()
    plan = ",".join(f"{r.pk}:{r.started_at and r.started_at.timestamp()}:{r.closed_at and 1}" for r in rounds)
    return (
        f"rooms-overview:{viewer.workshop.pk}:{round_.pk if round_ else 0}:{last_event}:"
        f"{hashlib.blake2b(plan.encode(), digest_size=8).hexdigest()}:{people}:{language}"
    )


def rooms_overview(workshop, round_: Round | None, connected: set[int] | None = None) -> list[RoomView]:
    """Every room of a round for the facilitators: members and who is connected, counts, latest notes, summary.

    Five queries however many rooms there are (four with ``connected`` given).
    """
    if round_ is None:
        return []
    rooms = list(
        _room_queryset()
        .filter(round=round_)
        .annotate(notes=Count("comments", filter=Q(comments__deleted_at__isnull=True)))
        .order_by("index")
    )
    if connected is None:
        connected = connected_participant_ids(workshop.pk)
    latest = (
        Comment.objects.filter(room__round=round_, deleted_at__isnull=True)
        .select_related("author_participant", "author_user")
        .annotate(rank=Window(RowNumber(), partition_by=[F("room_id")], order_by=F("created_at").desc()))
        .filter(rank__lte=LATEST_PER_ROOM)
        .order_by("room_id", "-created_at")
    )
    by_room: dict[int, list[Comment]] = {}
    for comment in latest:
        by_room.setdefault(comment.room_id, []).append(comment)
    views = []
    for room in rooms:
        members = _members_present(room, connected)
        views.append(RoomView(room=room, members=members, comment_count=room.notes, latest=by_room.get(room.pk, [])))
    return views


def summaries_by_case(workshop) -> list[tuple]:
    """Each case with the summaries its rooms wrote, round by round, for the plenary after the last round."""
    rooms = (
        Room.objects.filter(round__workshop=workshop)
        .select_related("round", "case", "leader")
        .order_by("case__position", "round__number", "index")
    )
    grouped: dict = {}
    for room in rooms:
        grouped.setdefault(room.case, []).append(room)
    return list(grouped.items())
