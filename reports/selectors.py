"""Reads for the results report: participation, comment counts, categories, summaries and the timeline.

The report is built with a fixed number of queries however many comments,
categories, rooms or rounds a workshop has. Every figure leaves out deleted
and hidden comments, so the organisers and the participants see the same
numbers; the organisers also get the count of hidden comments on its own.
Nothing here carries an author: examples are text only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber, TruncMinute
from django.utils.translation import gettext as _

from facilitation.models import Comment, Reaction, Room
from facilitation.selectors import summaries_by_case
from reports.models import Category, CommentCategory, ReportShare
from reports.selectors_feedback import feedback_report
from reports.selectors_ideas import idea_report
from workshops.models import Case, Participant, Workshop

HELSINKI = ZoneInfo(settings.TIME_ZONE)
EXAMPLES_PER_CATEGORY = 3
TIMELINE_STEP_MINUTES = 10
# Beyond a day of ten-minute steps (a workshop reopened later) only the steps with comments are listed.
TIMELINE_MAX_STEPS = 144
REPORT_OPEN_STATUSES = frozenset({Workshop.Status.CLOSED, Workshop.Status.ARCHIVED})


@dataclass(frozen=True)
class Bar:
    """One bar of a chart and one row of its table."""

    label: str
    value: int
    colour: str = ""  # a category's own colour; empty for the default


@dataclass(frozen=True)
class Participation:
    invited: int
    joined: int
    active: int
    comments: int
    hidden: int  # shown to the organisers only
    anonymous: int


@dataclass
class CategoryResult:
    name: str
    colour: str
    description: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass
class Report:
    workshop: Workshop
    participation: Participation
    by_case: list[Bar]
    by_round: list[Bar]
    by_room: list[Bar]
    categories: list[CategoryResult]
    summaries: list[tuple]
    timeline: list[Bar]
    timeline_from: datetime | None = None
    timeline_to: datetime | None = None
    ideas: list = field(default_factory=list)  # reports.selectors_ideas.idea_report: one entry per idea question
    feedback: object | None = None  # reports.selectors_feedback.feedback_report

    @property
    def has_rounds(self) -> bool:
        return bool(self.by_round)

    @property
    def by_category(self) -> list[Bar]:
        return [Bar(category.name, category.count, category.colour) for category in self.categories]


def report_is_open(workshop: Workshop) -> bool:
    """The workshop is over, so its contact persons (and, if shared, its participants) may see the report."""
    return workshop.status in REPORT_OPEN_STATUSES


def _shown(prefix: str = "") -> Q:
    """Comments that count in the report: neither deleted nor hidden."""
    return Q(**{f"{prefix}deleted_at__isnull": True, f"{prefix}hidden_at__isnull": True})


def _participation(workshop: Workshop) -> Participation:
    """Two queries: the people, then the comments."""
    wrote = Comment.objects.filter(author_participant=OuterRef("pk"), deleted_at__isnull=True)
    people = (
        Participant.objects.filter(workshop=workshop)
        .annotate(wrote=Exists(wrote))
        .aggregate(
            invited=Count("pk", filter=Q(invitation_status=Participant.InvitationStatus.SENT)),
            joined=Count("pk", filter=Q(first_joined_at__isnull=False)),
            active=Count("pk", filter=Q(wrote=True)),
        )
    )
    comments = Comment.objects.filter(workshop=workshop, deleted_at__isnull=True).aggregate(
        shown=Count("pk", filter=Q(hidden_at__isnull=True)),
        hidden=Count("pk", filter=Q(hidden_at__isnull=False)),
        anonymous=Count("pk", filter=Q(hidden_at__isnull=True, anonymous=True)),
    )
    return Participation(
        invited=people["invited"],
        joined=people["joined"],
        active=people["active"],
        comments=comments["shown"],
        hidden=comments["hidden"],
        anonymous=comments["anonymous"],
    )


def _by_case(workshop: Workshop) -> list[Bar]:
    """Two queries: every case (also those nobody commented on), then the comments without a case."""
    cases = Case.objects.filter(workshop=workshop).annotate(n=Count("comments", filter=_shown("comments__")))
    bars = [Bar(case.title, case.n) for case in cases.order_by("position", "id")]
    without = Comment.objects.filter(_shown(), workshop=workshop, case__isnull=True).count()
    if without:
        bars.append(Bar(_("Without a case"), without))
    return bars


def _rooms(workshop: Workshop) -> list[Room]:
    """One query: the rooms of the rounds that were held (or have notes), with their note counts."""
    return list(
        Room.objects.filter(round__workshop=workshop)
        .select_related("round", "case")
        .annotate(n=Count("comments", filter=_shown("comments__")))
        .filter(Q(round__started_at__isnull=False) | Q(n__gt=0))
        .order_by("round__number", "index")
    )


def _room_label(room: Room) -> str:
    label = _("Round %(number)s, room %(label)s") % {"number": room.round.number, "label": room.label}
    return f"{label}: {room.case.title}" if room.case else label


def _by_round(rooms: list[Room]) -> list[Bar]:
    totals: dict[int, int] = {}
    for room in rooms:
        totals[room.round.number] = totals.get(room.round.number, 0) + room.n
    return [Bar(_("Round %(number)s") % {"number": number}, value) for number, value in totals.items()]


def _categories(workshop: Workshop) -> list[CategoryResult]:
    """Two queries: the categories with their counts, then up to three examples each.

    The examples are the comments most agreed with, then the earliest; text only, never the author.
    """
    categories = list(
        Category.objects.filter(workshop=workshop)
        .annotate(n=Count("taggings", filter=_shown("taggings__comment__")))
        .order_by("-n", "name")
    )
    reactions = (
        Reaction.objects.filter(comment=OuterRef("comment_id"))
        .order_by()
        .values("comment")
        .annotate(total=Count("pk"))
        .values("total")
    )
    examples = (
        CommentCategory.objects.filter(_shown("comment__"), category__workshop=workshop)
        .annotate(reactions=Coalesce(Subquery(reactions), 0))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("category_id")],
                order_by=[F("reactions").desc(), F("comment__created_at").asc(), F("comment_id").asc()],
            )
        )
        .filter(rank__lte=EXAMPLES_PER_CATEGORY)
        .order_by("category_id", "rank")
        .values_list("category_id", "comment__text")
    )
    texts: dict[int, list[str]] = {}
    for category_id, text in examples:
        texts.setdefault(category_id, []).append(text)
    return [
        CategoryResult(
            name=category.name,
            colour=category.colour,
            description=category.description,
            count=category.n,
            examples=texts.get(category.pk, []),
        )
        for category in categories
    ]


def _step_start(moment: datetime) -> datetime:
    local = moment.astimezone(HELSINKI)
    return local.replace(minute=local.minute - local.minute % TIMELINE_STEP_MINUTES, second=0, microsecond=0)


def _timeline(workshop: Workshop) -> tuple[list[Bar], datetime | None, datetime | None]:
    """One query: comments per minute (at most one row per minute of activity), summed into ten-minute steps."""
    minutes = (
        Comment.objects.filter(_shown(), workshop=workshop)
        .annotate(minute=TruncMinute("created_at", tzinfo=HELSINKI))
        .order_by()
        .values("minute")
        .annotate(n=Count("pk"))
        .values_list("minute", "n")
    )
    steps: dict[datetime, int] = {}
    for minute, n in minutes:
        start = _step_start(minute)
        steps[start] = steps.get(start, 0) + n
    if not steps:
        return [], None, None
    first, last = min(steps), max(steps)
    step = timedelta(minutes=TIMELINE_STEP_MINUTES)
    starts = sorted(steps)
    if (last - first) / step < TIMELINE_MAX_STEPS:
        # Wall-clock arithmetic in Helsinki; a workshop does not span a change of daylight saving time.
        starts = [first + step * index for index in range(int((last - first) / step) + 1)]
    bars = [Bar(_step_label(start, start + step), steps.get(start, 0)) for start in starts]
    return bars, first, last + step


def _step_label(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def _held_summaries(workshop: Workshop) -> list[tuple]:
    """One query: the rooms' summaries side by side per case, leaving out rounds that were never held."""
    held = []
    for case, rooms in summaries_by_case(workshop):
        rooms = [room for room in rooms if room.round.started_at or room.summary]
        if rooms:
            held.append((case, rooms))
    return held


def workshop_report(workshop: Workshop) -> Report:
    """Everything the report shows, in nine queries whatever the amount of data."""
    rooms = _rooms(workshop)
    timeline, timeline_from, timeline_to = _timeline(workshop)
    return Report(
        workshop=workshop,
        participation=_participation(workshop),
        by_case=_by_case(workshop),
        by_round=_by_round(rooms),
        by_room=[Bar(_room_label(room), room.n) for room in rooms],
        categories=_categories(workshop),
        summaries=_held_summaries(workshop),
        timeline=timeline,
        timeline_from=timeline_from,
        timeline_to=timeline_to,
        ideas=idea_report(workshop),
        feedback=feedback_report(workshop),
    )


def report_share_of(workshop: Workshop) -> ReportShare | None:
    return ReportShare.objects.filter(workshop=workshop).first()


def shared_workshop(token: str) -> Workshop | None:
    """The workshop whose report is shared with this token: only while sharing is on and the workshop is over."""
    share = (
        ReportShare.objects.select_related("workshop__organisation")
        .filter(token=token, enabled=True, workshop__status__in=REPORT_OPEN_STATUSES)
        .first()
    )
    return share.workshop if share else None
