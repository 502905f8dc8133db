"""Small-group rounds routes (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_rounds as rounds

urlpatterns: list = [
    path("w/<int:workshop_id>/rounds/", rounds.rounds, name="rounds"),
    path("w/<int:workshop_id>/rounds/settings/", rounds.rounds_settings, name="rounds_settings"),
    path("w/<int:workshop_id>/rounds/plan/", rounds.rounds_plan, name="rounds_plan"),
    path("w/<int:workshop_id>/rounds/rebalance/", rounds.rounds_rebalance, name="rounds_rebalance"),
    path("w/<int:workshop_id>/rounds/move/", rounds.rounds_move, name="rounds_move"),
]
