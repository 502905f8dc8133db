"""Routes of this part of the reports (included by reports/urls.py)."""

from __future__ import annotations

from django.urls import path

from reports import views_export

urlpatterns: list = [
    path("w/<int:workshop_id>/export/", views_export.export, name="export"),
    path("w/<int:workshop_id>/export/start/", views_export.export_start, name="export_start"),
    path("w/<int:workshop_id>/export/<int:export_id>/progress/", views_export.export_progress, name="export_progress"),
    path("w/<int:workshop_id>/export/<int:export_id>/download/", views_export.export_download, name="export_download"),
    path("w/<int:workshop_id>/export/contributions.csv", views_export.export_csv, name="export_csv"),
]
