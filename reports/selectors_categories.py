"""Reads for the category pages: the codebook with counts, and the tagging list with its filters.

Every function runs a fixed number of queries, however many comments or categories there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from facilitation.models import Comment, Room, Round
from reports.models import Category, CommentCategory
from workshops.models import Case

TAGGING_PER_PAGE = 50


def categories_with_counts(workshop) -> list[Category]:
    """The workshop's categories in name order, each with ``comment_count`` (comments not deleted)."""
    return list(
        Category.objects.filter(workshop=workshop).annotate(
            comment_count=Count("taggings", filter=Q(taggings__comment__deleted_at__isnull=True))
        )
    )


def category_of(workshop, category_id: int) -> Category | None:
    """One category of the workshop with its ``comment_count``; None for a missing one or another workshop's."""
    return (
        Category.objects.filter(workshop=workshop, pk=category_id)
        .annotate(comment_count=Count("taggings", filter=Q(taggings__comment__deleted_at__isnull=True)))
        .first()
    )


@dataclass(frozen=True)
class TaggingFilters:
    case: int | None = None
    room: int | None = None
    round: int | None = None
    category: int | None = None
    untagged: bool = False


@dataclass
class TaggingOptions:
    """What the filters and the bulk form offer, and the workshop's totals."""

    cases: list[Case]
    rounds: list[Round]
    rooms: list[Room]
    categories: list[Category]
    total: int
    untagged: int


def _untagged() -> Exists:
    return ~Exists(CommentCategory.objects.filter(comment_id=OuterRef("pk")))


def _comments(workshop) -> QuerySet[Comment]:
    return Comment.objects.filter(workshop=workshop, deleted_at__isnull=True)


def tagging_options(workshop) -> TaggingOptions:
    """Cases, rounds, rooms and categories (with counts) of the workshop, and how many comments are untagged."""
    totals = _comments(workshop).aggregate(total=Count("pk"), untagged=Count("pk", filter=Q(_untagged())))
    return TaggingOptions(
        cases=list(Case.objects.filter(workshop=workshop).order_by("position", "pk")),
        rounds=list(Round.objects.filter(workshop=workshop).order_by("number")),
        rooms=list(
            Room.objects.filter(round__workshop=workshop).select_related("round").order_by("round__number", "index")
        ),
        categories=categories_with_counts(workshop),
        total=totals["total"],
        untagged=totals["untagged"],
    )


def tagging_comments(workshop, filters: TaggingFilters) -> QuerySet[Comment]:
    """The workshop's comments (not deleted, hidden ones included) matching the filters, oldest first,
    with their context and categories loaded in two queries per page."""
    comments = (
        _comments(workshop)
        .select_related("phase", "case", "round", "room__round", "author_participant", "author_user")
        .prefetch_related(
            Prefetch(
                "taggings",
                queryset=CommentCategory.objects.select_related("category").order_by("category__name", "pk"),
            )
        )
        .order_by("created_at", "pk")
    )
    if filters.case is not None:
        comments = comments.filter(case_id=filters.case)
    if filters.round is not None:
        comments = comments.filter(round_id=filters.round)
    if filters.room is not None:
        comments = comments.filter(room_id=filters.room)
    if filters.category is not None:
        comments = comments.filter(taggings__category_id=filters.category)
    if filters.untagged:
        comments = comments.filter(_untagged())
    return comments


def tagging_page(workshop, filters: TaggingFilters, page_number, *, per_page: int = TAGGING_PER_PAGE) -> Page:
    """One page of :func:`tagging_comments`; each comment gets ``categories`` (a list) and ``category_ids`` (a set)."""
    page = Paginator(tagging_comments(workshop, filters), per_page).get_page(page_number)
    for comment in page.object_list:
        comment.categories = [tagging.category for tagging in comment.taggings.all()]
        comment.category_ids = {category.pk for category in comment.categories}
    return page
