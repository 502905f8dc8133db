from __future__ import annotations

from django.urls import path, re_path

from facilitation.consumers import LiveConsumer, UnknownSocket

websocket_urlpatterns = [
    path("ws/w/<int:workshop_id>/", LiveConsumer.as_asgi()),
    # Any other path (a tampered or guessed one) is refused like a stranger, not answered with a server error.
    re_path(r"", UnknownSocket.as_asgi()),
]
