"""Routes of the big-screen results view (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_bigscreen

urlpatterns: list = [
    path("w/<int:workshop_id>/bigscreen/", views_bigscreen.bigscreen, name="bigscreen"),
    path("w/<int:workshop_id>/bigscreen/data.json", views_bigscreen.bigscreen_data_json, name="bigscreen_data"),
]
