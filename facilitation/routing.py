from __future__ import annotations

from django.urls import path

from facilitation.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/w/<int:workshop_id>/", LiveConsumer.as_asgi()),
]
