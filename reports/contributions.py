"""Every contribution of a workshop as flat rows: the one source for the workbook, the CSV and re-import.

A row is a comment, a reply, a reflection answer, a room note or a room's
summary, with all its context. Rows are read in chunks, so memory stays flat
however large the workshop is. Anonymous rows never carry their author.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext_lazy as _

from facilitation.models import Comment, Phase, Reaction, Room
from reports.models import Category, CommentCategory

CHUNK = 2000
HELSINKI = ZoneInfo(settings.TIME_ZONE)
COMMENT_PREFIX = "C"
SUMMARY_PREFIX = "S"
CATEGORY_SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    key: str
    header: object  # lazily translated
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("id", _("Id"), 10),
    Column("kind", _("Type"), 16),
    Column("workshop", _("Workshop"), 24),
    Column("date", _("Date"), 12),
    Column("phase", _("Phase"), 24),
    Column("case", _("Case"), 24),
    Column("prompt", _("Prompt"), 28),
    Column("round", _("Round"), 8),
    Column("room", _("Room"), 8),
    Column("leader", _("Group leader"), 20),
    Column("author", _("Author"), 20),
    Column("organisation", _("Organisation"), 20),
    Column("department", _("Department"), 18),
    Column("role_group", _("Role group"), 16),
    Column("parent", _("Reply to"), 10),
    Column("agree", _("Agree"), 8),
    Column("good_point", _("Good point"), 10),
    Column("hidden", _("Hidden"), 8),
    Column("language", _("Language"), 8),
    Column("created", _("Created"), 18),
    Column("text", _("Text"), 60),
    Column("category", _("Category"), 22),
    Column("notes", _("Notes"), 30),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def comment_row_id(comment_id: int) -> str:
    return f"{COMMENT_PREFIX}{comment_id}"


def summary_row_id(room_id: int) -> str:
    return f"{SUMMARY_PREFIX}{room_id}"


def _kind(comment: Comment) -> object:
    if comment.room_id:
        return _("Room note")
    if comment.parent_id:
        return _("Reply")
    if comment.phase.kind == Phase.Kind.REFLECTION:
        return _("Reflection")
    return _("Comment")


def _local(moment):
    """An aware time as Europe/Helsinki wall-clock time, which Excel stores as a real date."""
    return moment.astimezone(HELSINKI).replace(tzinfo=None) if moment else None


def _comments(workshop, case_id: int | None = None):
    queryset = (
        Comment.objects.filter(workshop=workshop, deleted_at__isnull=True)
        .select_related("phase", "case", "prompt", "round", "room__leader", "author_participant", "author_user")
        .annotate(
            agree=Count("reactions", filter=Q(reactions__kind=Reaction.Kind.AGREE)),
            good_point=Count("reactions", filter=Q(reactions__kind=Reaction.Kind.GOOD_POINT)),
        )
        .prefetch_related(
            Prefetch("taggings", queryset=CommentCategory.objects.select_related("category").order_by("category__name"))
        )
        .order_by("created_at", "pk")
    )
    if case_id is not None:
        queryset = queryset.filter(case_id=case_id)
    return queryset


def _author(comment: Comment) -> dict:
    if comment.anonymous:
        return {"author": _("anonymous"), "organisation": "", "department": "", "role_group": ""}
    person = comment.author_participant
    if person is not None:
        return {
            "author": person.name,
            "organisation": person.organisation_name,
            "department": person.department,
            "role_group": person.get_role_group_display() if person.role_group else "",
        }
    user = comment.author_user
    return {"author": (user.name or "") if user else "", "organisation": "", "department": "", "role_group": ""}


def comment_row(comment: Comment, workshop) -> dict:
    room = comment.room
    return {
        "id": comment_row_id(comment.pk),
        "kind": str(_kind(comment)),
        "workshop": workshop.title,
        "date": workshop.starts_at.astimezone(HELSINKI).date() if workshop.starts_at else None,
        "phase": comment.phase.title,
        "case": comment.case.title if comment.case else "",
        "prompt": comment.prompt.text if comment.prompt else "",
        "round": comment.round.number if comment.round else None,
        "room": room.label if room else "",
        "leader": room.leader.name if room and room.leader else "",
        **{key: str(value) for key, value in _author(comment).items()},
        "parent": comment_row_id(comment.parent_id) if comment.parent_id else "",
        "agree": comment.agree,
        "good_point": comment.good_point,
        "hidden": str(_("yes")) if comment.hidden_at else "",
        "language": comment.language,
        "created": _local(comment.created_at),
        "text": comment.text,
        "category": f"{CATEGORY_SEPARATOR} ".join(tagging.category.name for tagging in comment.taggings.all()),
        "notes": "",
    }


def _summaries(workshop, case_id: int | None = None):
    rooms = (
        Room.objects.filter(round__workshop=workshop)
        .exclude(summary="")
        .select_related("round", "case", "leader")
        .order_by("round__number", "index")
    )
    if case_id is not None:
        rooms = rooms.filter(case_id=case_id)
    return rooms


def summary_row(room: Room, workshop) -> dict:
    return {
        "id": summary_row_id(room.pk),
        "kind": str(_("Room summary")),
        "workshop": workshop.title,
        "date": workshop.starts_at.astimezone(HELSINKI).date() if workshop.starts_at else None,
        "phase": "",
        "case": room.case.title if room.case else "",
        "prompt": "",
        "round": room.round.number,
        "room": room.label,
        "leader": room.leader.name if room.leader else "",
        "author": room.leader.name if room.leader else "",
        "organisation": "",
        "department": "",
        "role_group": "",
        "parent": "",
        "agree": None,
        "good_point": None,
        "hidden": "",
        "language": workshop.language,
        "created": _local(room.summary_updated_at),
        "text": room.summary,
        "category": "",
        "notes": "",
    }


def contribution_count(workshop, case_id: int | None = None) -> int:
    return _comments(workshop, case_id).count() + _summaries(workshop, case_id).count()


def contribution_rows(workshop, case_id: int | None = None) -> Iterator[dict]:
    """All rows in time order of writing: comments first, then the rooms' summaries; read in chunks."""
    for comment in _comments(workshop, case_id).iterator(chunk_size=CHUNK):
        yield comment_row(comment, workshop)
    for room in _summaries(workshop, case_id).iterator(chunk_size=CHUNK):
        yield summary_row(room, workshop)


def codebook(workshop) -> list[Category]:
    return list(Category.objects.filter(workshop=workshop).order_by("name"))
