"""Routes of this part of the reports (included by reports/urls.py): categories, tagging, re-import."""

from __future__ import annotations

from django.urls import path

from reports import views_categories as views

app_name = "reports"

urlpatterns = [
    path("w/<int:workshop_id>/categories/", views.categories, name="categories"),
    path("w/<int:workshop_id>/categories/<int:category_id>/edit/", views.category_edit, name="category_edit"),
    path("w/<int:workshop_id>/categories/<int:category_id>/delete/", views.category_delete, name="category_delete"),
    path("w/<int:workshop_id>/categories/<int:category_id>/merge/", views.category_merge, name="category_merge"),
    path("w/<int:workshop_id>/categories/tag/", views.tagging, name="tagging"),
    path("w/<int:workshop_id>/categories/tag/bulk/", views.tagging_bulk, name="tagging_bulk"),
    path("w/<int:workshop_id>/categories/tag/<int:comment_id>/", views.tagging_comment, name="tagging_comment"),
    path("w/<int:workshop_id>/categories/import/", views.reimport, name="reimport"),
    path("w/<int:workshop_id>/categories/import/apply/", views.reimport_apply, name="reimport_apply"),
]
