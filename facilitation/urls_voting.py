"""Routes of the voting part of the live workshop (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_voting

urlpatterns: list = [
    path("w/<int:workshop_id>/vote/<int:phase_id>/next/", views_voting.vote_next, name="vote_next"),
    path("w/<int:workshop_id>/vote/<int:phase_id>/duel/", views_voting.vote_duel, name="vote_duel"),
    path("w/<int:workshop_id>/vote/<int:phase_id>/dots/", views_voting.vote_dot, name="vote_dot"),
    path("w/<int:workshop_id>/vote/<int:phase_id>/rating/", views_voting.vote_rating, name="vote_rating"),
    path("w/<int:workshop_id>/phases/<int:phase_id>/results/", views_voting.results_toggle, name="results_toggle"),
    path(
        "w/<int:workshop_id>/phases/<int:phase_id>/results/ranking/",
        views_voting.results_ranking,
        name="results_ranking",
    ),
]
