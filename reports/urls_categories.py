"""Routes of this part of the reports (included by reports/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
