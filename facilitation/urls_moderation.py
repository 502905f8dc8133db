from __future__ import annotations

from django.urls import path

from facilitation import views_moderation

urlpatterns = [
    path("w/<int:workshop_id>/moderation/", views_moderation.moderation, name="moderation"),
    path("w/<int:workshop_id>/moderation/hide/", views_moderation.hide_many, name="hide_many"),
]
