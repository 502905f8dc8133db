"""Routes of the ideas part of the live workshop (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_ideas

urlpatterns: list = [
    path("w/<int:workshop_id>/ideas/new/", views_ideas.idea_new, name="idea_new"),
    path("w/<int:workshop_id>/ideas/merge/", views_ideas.idea_merge, name="idea_merge"),
    path("w/<int:workshop_id>/ideas/<int:idea_id>/hide/", views_ideas.idea_hide, name="idea_hide"),
    path("w/<int:workshop_id>/ideas/<int:idea_id>/edit/", views_ideas.idea_edit, name="idea_edit"),
    path("w/<int:workshop_id>/ideas/<int:idea_id>/merge/", views_ideas.idea_merge, name="idea_merge_one"),
    path("w/<int:workshop_id>/team/", views_ideas.team_size, name="team_size"),
]
