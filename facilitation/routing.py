"""WebSocket routes. The live workshop's consumers are added here as they are built."""

from __future__ import annotations

websocket_urlpatterns: list = []
