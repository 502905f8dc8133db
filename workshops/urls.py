from __future__ import annotations

from django.urls import path

from workshops import views

app_name = "workshops"

urlpatterns = [
    path("j/<str:token>/", views.join, name="join"),
    path("w/<int:workshop_id>/", views.lobby, name="lobby"),
]
