"""Which pages may open the live WebSocket: only this site's own.

Channels' ``AllowedHostsOriginValidator`` reads ``ALLOWED_HOSTS`` once, at start, and lets every
origin in, even a socket without an Origin header, as soon as ``ALLOWED_HOSTS`` holds ``*``. Browsers
always send an Origin with a WebSocket handshake, so a missing one is refused here whatever the
settings say; with a wildcard the Origin must name the host the socket connects to.
"""

from __future__ import annotations

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


class SameSiteOriginValidator:
    """ASGI middleware: a WebSocket from a page of an allowed host (or, with ``ALLOWED_HOSTS = ["*"]``,
    of the host it connects to) passes; anything else, a missing Origin included, is denied."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        hosts = [host for host in settings.ALLOWED_HOSTS if host != "*"]
        if "*" in settings.ALLOWED_HOSTS:
            host = (_header(scope, b"host") or "").rsplit(":", 1)[0]
            hosts += [host] if host else []
        if not origin or not hosts:
            return await WebsocketDenier()(scope, receive, send)
        return await OriginValidator(self.application, hosts)(scope, receive, send)
