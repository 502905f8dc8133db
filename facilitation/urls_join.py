"""Join-code routes (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_join

urlpatterns: list = [
    path("join/", views_join.join_code, name="join_code"),
    path("c/<str:code>/", views_join.join_code, name="join_code_prefilled"),
    path("w/<int:workshop_id>/join-code/", views_join.join_screen, name="join_screen"),
    path("w/<int:workshop_id>/join-code/qr.svg", views_join.join_qr, name="join_qr"),
    path("w/<int:workshop_id>/join-code/toggle/", views_join.join_code_toggle, name="join_code_toggle"),
]
