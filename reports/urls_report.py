"""Routes of this part of the reports (included by reports/urls.py)."""

from __future__ import annotations

from django.urls import path

from reports import views_report

urlpatterns: list = [
    path("w/<int:workshop_id>/report/", views_report.report, name="report"),
    path("w/<int:workshop_id>/report/share/", views_report.report_share, name="report_share"),
    # secrets.token_urlsafe: letters, digits, - and _ (anything else, a NUL byte say, is no token: 404)
    path("r/<slug:token>/", views_report.report_shared, name="report_shared"),
]
