from __future__ import annotations

from reports import urls_categories, urls_export, urls_report

app_name = "reports"

urlpatterns = [
    *urls_export.urlpatterns,
    *urls_categories.urlpatterns,
    *urls_report.urlpatterns,
]
