"""Every contribution of a workshop as flat rows: the one source for the workbook, the CSV and re-import.

A row is a comment, a reply, a reflection answer, a room note or a room's
summary, with all its context. Rows are read in chunks, so memory stays flat
however large the workshop is. Anonymous rows never carry their author.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from facilitation.models import Comment, Phase, Reaction, Room
from reports.models import Category, CommentCategory
from workshops.models import Participant

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


def _local(moment):
    """An aware time as Europe/Helsinki wall-clock time, which Excel stores as a real date."""
    return moment.astimezone(HELSINKI).replace(tzinfo=None) if moment else None


def _comments(workshop, case_id: int | None = None):
    queryset = Comment.objects.filter(workshop=workshop, deleted_at__isnull=True).order_by("created_at", "pk")
    if case_id is not None:
        queryset = queryset.filter(case_id=case_id)
    return queryset


# What a comment row is made of: plain values, no model instances (100,000 of those cost time and memory).
_COMMENT_FIELDS = (
    "pk",
    "case_id",
    "room_id",
    "parent_id",
    "phase__kind",
    "phase__title",
    "case__title",
    "prompt__text",
    "round__number",
    "room__index",
    "room__leader__name",
    "anonymous",
    "author_participant_id",
    "author_participant__name",
    "author_participant__organisation_name",
    "author_participant__department",
    "author_participant__role_group",
    "author_user__name",
    "hidden_at",
    "language",
    "created_at",
    "text",
)


def _room_label(index: int) -> str:
    return Room(index=index).label


class _CommentRows:
    """Turns ``_COMMENT_FIELDS`` tuples into rows; translated labels are looked up once, not per row."""

    def __init__(self, workshop):
        self.workshop = workshop.title
        self.date = workshop.starts_at.astimezone(HELSINKI).date() if workshop.starts_at else None
        self.kinds = {
            "room": str(_("Room note")),
            "reply": str(_("Reply")),
            "reflection": str(_("Reflection")),
            "comment": str(_("Comment")),
        }
        self.anonymous = str(_("anonymous"))
        self.yes = str(_("yes"))
        self.role_groups = {value: str(label) for value, label in Participant.RoleGroup.choices}
        self.room_labels: dict[int, str] = {}

    def room_label(self, index: int) -> str:
        label = self.room_labels.get(index)
        if label is None:
            label = self.room_labels[index] = _room_label(index)
        return label

    def row(self, values: tuple, agree: int, good_point: int, categories: str) -> dict:
        (
            pk,
            _case_id,
            room_id,
            parent_id,
            phase_kind,
            phase_title,
            case_title,
            prompt_text,
            round_number,
            room_index,
            leader_name,
            anonymous,
            participant_id,
            name,
            organisation,
            department,
            role_group,
            user_name,
            hidden_at,
            language,
            created_at,
            text,
        ) = values
        if room_id:
            kind = self.kinds["room"]
        elif parent_id:
            kind = self.kinds["reply"]
        elif phase_kind == Phase.Kind.REFLECTION:
            kind = self.kinds["reflection"]
        else:
            kind = self.kinds["comment"]
        if anonymous:
            author, organisation, department, role_group = self.anonymous, "", "", ""
        elif participant_id is not None:
            author = name
            role_group = self.role_groups.get(role_group, role_group) if role_group else ""
        else:
            author, organisation, department, role_group = user_name or "", "", "", ""
        return {
            "id": comment_row_id(pk),
            "kind": kind,
            "workshop": self.workshop,
            "date": self.date,
            "phase": phase_title,
            "case": case_title or "",
            "prompt": prompt_text or "",
            "round": round_number,
            "room": self.room_label(room_index) if room_id else "",
            "leader": (leader_name or "") if room_id else "",
            "author": str(author),
            "organisation": str(organisation),
            "department": str(department),
            "role_group": str(role_group),
            "parent": comment_row_id(parent_id) if parent_id else "",
            "agree": agree,
            "good_point": good_point,
            "hidden": self.yes if hidden_at else "",
            "language": language,
            "created": _local(created_at),
            "text": text,
            "category": categories,
            "notes": "",
        }


def _chunk_extras(ids: list[int]) -> tuple[dict, dict]:
    """Reaction counts and category names of one chunk of comments: two queries per chunk, not per row."""
    reactions: dict[int, dict[str, int]] = {}
    counts = (
        Reaction.objects.filter(comment_id__in=ids).values_list("comment_id", "kind").annotate(n=Count("pk")).order_by()
    )
    for comment_id, kind, n in counts:
        reactions.setdefault(comment_id, {})[kind] = n
    names: dict[int, list[str]] = {}
    taggings = (
        CommentCategory.objects.filter(comment_id__in=ids)
        .order_by("category__name", "pk")
        .values_list("comment_id", "category__name")
    )
    for comment_id, name in taggings:
        names.setdefault(comment_id, []).append(name)
    return reactions, {key: f"{CATEGORY_SEPARATOR} ".join(value) for key, value in names.items()}


def _comment_rows(workshop, case_id: int | None = None) -> Iterator[tuple[int | None, dict]]:
    """(case id, row) of every comment, in time order; read in chunks with a constant number of queries each."""
    maker = _CommentRows(workshop)
    cursor = _comments(workshop, case_id).values_list(*_COMMENT_FIELDS).iterator(chunk_size=CHUNK)
    agree, good_point = Reaction.Kind.AGREE, Reaction.Kind.GOOD_POINT
    while True:
        chunk = list(islice(cursor, CHUNK))
        if not chunk:
            return
        reactions, categories = _chunk_extras([values[0] for values in chunk])
        empty: dict[str, int] = {}
        for values in chunk:
            counts = reactions.get(values[0], empty)
            yield (
                values[1],
                maker.row(values, counts.get(agree, 0), counts.get(good_point, 0), categories.get(values[0], "")),
            )


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
    for _case_id, row in contribution_rows_by_case(workshop, case_id):
        yield row


def contribution_rows_by_case(workshop, case_id: int | None = None) -> Iterator[tuple[int | None, dict]]:
    """As ``contribution_rows``, each row with its case's id (None: no case), so one read can fill every sheet."""
    yield from _comment_rows(workshop, case_id)
    for room in _summaries(workshop, case_id).iterator(chunk_size=CHUNK):
        yield room.case_id, summary_row(room, workshop)


def codebook(workshop) -> list[Category]:
    return list(Category.objects.filter(workshop=workshop).order_by("name"))
