"""Template helpers for data protection: how many deletion requests wait on a workshop."""

from __future__ import annotations

from django import template

from privacy.models import DeletionRequest

register = template.Library()


@register.simple_tag
def open_deletion_requests(workshop) -> int:
    """The workshop's deletion requests nobody has handled yet (one query)."""
    return DeletionRequest.objects.filter(workshop=workshop, handled_at__isnull=True).count()
