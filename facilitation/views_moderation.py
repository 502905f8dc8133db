"""Hiding many comments and ideas at once: the facilitator's (or a case presenter's) moderation page.

Works without JavaScript: "select all" and "all from this person" are links that tick the boxes,
and hiding asks first on a page of its own, since it changes what everyone sees.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from facilitation import services
from facilitation.permissions import LiveViewer, live_viewer
from facilitation.selectors_moderation import moderation_items
from facilitation.writes import int_or_none


def _moderator(request, workshop_id: int) -> LiveViewer:
    """Facilitators, and presenters for their own case's comments; anyone else who sees the workshop gets 403."""
    viewer = live_viewer(request, workshop_id)
    if not (viewer.is_staff or viewer.presented_case_ids):
        raise PermissionDenied
    return viewer


def _author_key(item) -> str:
    """Who wrote it, as a link parameter; never for an anonymous item (its author stays unknown here too)."""
    if item.anonymous:
        return ""
    if item.author_participant_id:
        return f"p{item.author_participant_id}"
    return f"u{item.author_user_id}" if item.author_user_id else ""


def _author_name(item) -> str:
    if item.author_participant_id:
        return item.author_participant.name
    return str(item.author_user) if item.author_user_id else ""


def _rows(items, kind: str, *, select_all: bool, author: str, chosen: set[str]) -> list[dict]:
    rows = []
    for item in items:
        key = _author_key(item)
        rows.append(
            {
                "kind": kind,
                "item": item,
                "value": str(item.pk),
                "author_key": key,
                "author_name": _author_name(item) if key else "",
                "checked": select_all or (author and key == author) or f"{kind}:{item.pk}" in chosen,
            }
        )
    return rows


@never_cache
@require_GET
def moderation(request, workshop_id: int):
    """The newest comments and ideas with a box each; ``?all=1`` or ``?author=p12`` ticks them."""
    viewer = _moderator(request, workshop_id)
    comments, ideas = moderation_items(viewer)
    select_all = request.GET.get("all") == "1"
    author = request.GET.get("author", "")[:20]
    options = {"select_all": select_all, "author": author, "chosen": set()}
    context = {
        "workshop": viewer.workshop,
        "viewer": viewer,
        "comment_rows": _rows(comments, "comment", **options),
        "idea_rows": _rows(ideas, "idea", **options),
    }
    return render(request, "facilitation/moderation.html", context)


def _ids(values) -> list[int]:
    return [pk for pk in (int_or_none(value) for value in values[:2000]) if pk is not None and 0 < pk < 2**31]


@require_POST
def hide_many(request, workshop_id: int):
    """Hide the ticked items: first a page that asks (with the count), then, with ``confirm``, the hiding."""
    viewer = _moderator(request, workshop_id)
    comment_ids = _ids(request.POST.getlist("comment"))
    idea_ids = _ids(request.POST.getlist("idea")) if viewer.is_staff else []
    if not comment_ids and not idea_ids:
        messages.error(request, _("Tick the items to hide first."))
        return redirect("facilitation:moderation", workshop_id=workshop_id)
    if request.POST.get("confirm") != "yes":
        context = {
            "workshop": viewer.workshop,
            "comment_ids": comment_ids,
            "idea_ids": idea_ids,
            "count": len(comment_ids) + len(idea_ids),
        }
        return render(request, "facilitation/moderation_confirm.html", context)
    hidden = services.items_hide(viewer=viewer, comment_ids=comment_ids, idea_ids=idea_ids)
    messages.success(
        request,
        ngettext(
            "%(count)d item is now hidden from everyone.", "%(count)d items are now hidden from everyone.", hidden.count
        )
        % {"count": hidden.count},
    )
    return redirect("facilitation:moderation", workshop_id=workshop_id)
