"""Hiding many comments and ideas at once, when a flood gets through."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from facilitation import realtime
from facilitation.models import Comment, Idea
from facilitation.permissions import LiveViewer


@dataclass(frozen=True)
class Hidden:
    comment_ids: list[int]
    idea_ids: list[int]

    @property
    def count(self) -> int:
        return len(self.comment_ids) + len(self.idea_ids)


@transaction.atomic
def items_hide(*, viewer: LiveViewer, comment_ids: list[int], idea_ids: list[int]) -> Hidden:
    """Hide the chosen comments and ideas the viewer may moderate; broadcasts one ``items.hidden`` (ids only).

    The rules of the single hides: a facilitator hides any comment or idea, a case's presenter the
    comments on their case. Ids of other workshops, of deleted or already hidden items, and items the
    viewer may not moderate are left alone. One event carries every id, so a hundred hidden comments
    are one push to each screen, not a hundred.
    """
    now = timezone.now()
    comments = Comment.objects.select_for_update().filter(
        pk__in=comment_ids, workshop=viewer.workshop, deleted_at__isnull=True, hidden_at__isnull=True
    )
    hidden_comments = [pk for pk, case_id in comments.values_list("pk", "case_id") if viewer.can_moderate(case_id)]
    Comment.objects.filter(pk__in=hidden_comments).update(hidden_at=now)
    hidden_ideas: list[dict] = []
    if viewer.is_staff:
        ideas = Idea.objects.select_for_update().filter(
            pk__in=idea_ids, workshop=viewer.workshop, hidden_at__isnull=True
        )
        hidden_ideas = [
            {"id": pk, "phase": phase_id, "dom_id": f"idea-{pk}"}
            for pk, phase_id in ideas.values_list("pk", "phase_id")
        ]
        Idea.objects.filter(pk__in=[idea["id"] for idea in hidden_ideas]).update(hidden_at=now)
    if hidden_comments or hidden_ideas:
        realtime.publish(
            workshop_id=viewer.workshop.pk,
            kind="items.hidden",
            payload={"comments": sorted(hidden_comments), "ideas": hidden_ideas},
        )
    return Hidden(sorted(hidden_comments), sorted(idea["id"] for idea in hidden_ideas))
