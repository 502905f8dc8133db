"""Agenda editor routes (included by facilitation/urls.py)."""

from __future__ import annotations

from django.urls import path

from facilitation import views_agenda as agenda

urlpatterns: list = [
    path("w/<int:workshop_id>/agenda/", agenda.agenda, name="agenda"),
    path("w/<int:workshop_id>/agenda/new/", agenda.phase_new, name="phase_new"),
    path("w/<int:workshop_id>/agenda/default/", agenda.agenda_default, name="agenda_default"),
    path("w/<int:workshop_id>/agenda/<int:phase_id>/edit/", agenda.phase_edit, name="phase_edit"),
    path("w/<int:workshop_id>/agenda/<int:phase_id>/delete/", agenda.phase_delete, name="phase_delete"),
    path("w/<int:workshop_id>/agenda/<int:phase_id>/move/", agenda.phase_move, name="phase_move"),
]
