"""Routes of this part of the live workshop (included by facilitation/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
