"""Reads of the moderation page: the newest items a facilitator or presenter may hide."""

from __future__ import annotations

from facilitation.models import Comment, Idea
from facilitation.permissions import LiveViewer

LIST_LIMIT = 300  # the newest items; a flood is recent


def moderation_items(viewer: LiveViewer) -> tuple[list[Comment], list[Idea]]:
    """The newest visible comments (and, for facilitators, ideas) the viewer may hide; three queries."""
    comments = Comment.objects.filter(workshop=viewer.workshop, deleted_at__isnull=True, hidden_at__isnull=True)
    if not viewer.is_staff:
        comments = comments.filter(case_id__in=viewer.presented_case_ids)
    comments = list(
        comments.select_related("author_participant", "author_user").order_by("-created_at", "-id")[:LIST_LIMIT]
    )
    ideas = []
    if viewer.is_staff:
        ideas = list(
            Idea.objects.filter(workshop=viewer.workshop, hidden_at__isnull=True)
            .select_related("author_participant", "author_user")
            .order_by("-created_at", "-id")[:LIST_LIMIT]
        )
    return comments, ideas
