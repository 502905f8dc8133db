from __future__ import annotations

from django.urls import path

from facilitation import (
    urls_agenda,
    urls_bigscreen,
    urls_feedback,
    urls_ideas,
    urls_join,
    urls_moderation,
    urls_rounds,
    urls_voting,
    views,
)

app_name = "facilitation"

urlpatterns = [
    path("w/<int:workshop_id>/live/", views.live, name="live"),
    path("w/<int:workshop_id>/live/panel/", views.panel, name="panel"),
    path("w/<int:workshop_id>/live/threads/<int:phase_id>/", views.threads, name="threads"),
    path("w/<int:workshop_id>/live/events/", views.events, name="events"),
    path("w/<int:workshop_id>/comments/", views.comment_new, name="comment_new"),
    path("w/<int:workshop_id>/comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path("w/<int:workshop_id>/comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("w/<int:workshop_id>/comments/<int:comment_id>/hide/", views.comment_hide, name="comment_hide"),
    path("w/<int:workshop_id>/comments/<int:comment_id>/react/", views.comment_react, name="comment_react"),
    path("w/<int:workshop_id>/control/", views.control, name="control"),
    path("w/<int:workshop_id>/control/<str:action>/", views.control_action, name="control_action"),
    path("w/<int:workshop_id>/rooms/live/", views.rooms_live, name="rooms_live"),
    path("w/<int:workshop_id>/rooms/<int:room_id>/summary/", views.room_summary, name="room_summary"),
    path("w/<int:workshop_id>/rooms/<int:room_id>/help/", views.room_help, name="room_help"),
    path("w/<int:workshop_id>/summaries/", views.summaries, name="summaries"),
    *urls_agenda.urlpatterns,
    *urls_join.urlpatterns,
    *urls_rounds.urlpatterns,
    *urls_ideas.urlpatterns,
    *urls_voting.urlpatterns,
    *urls_feedback.urlpatterns,
    *urls_bigscreen.urlpatterns,
    *urls_moderation.urlpatterns,
]
