from __future__ import annotations

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.privacy_notice, name="notice"),
    path("accessibility/", views.accessibility_statement, name="accessibility"),
    path("w/<int:workshop_id>/my-data/", views.my_data, name="my_data"),
    path("w/<int:workshop_id>/my-data/download/", views.my_data_export, name="my_data_export"),
    path("w/<int:workshop_id>/my-data/delete/", views.my_data_delete, name="my_data_delete"),
    path("w/<int:workshop_id>/privacy/", views.workshop_privacy, name="workshop"),
    path("w/<int:workshop_id>/privacy/erase/", views.workshop_erase, name="workshop_erase"),
    path(
        "w/<int:workshop_id>/privacy/participants/<int:participant_id>/erase/",
        views.participant_erase,
        name="participant_erase",
    ),
    path(
        "w/<int:workshop_id>/privacy/participants/<int:participant_id>/export/<slug:kind>/",
        views.participant_export,
        name="participant_export",
    ),
]
