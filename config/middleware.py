"""Access log written by the application, so paths are redacted like every other line."""

from __future__ import annotations

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

logger = logging.getLogger("kehittamo.access")


class RequestLogMiddleware:
    """Log method, path, status and duration of every request (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.monotonic()
        response = self.get_response(request)
        self._log(request, response, started)
        return response

    async def _acall(self, request):
        started = time.monotonic()
        response = await self.get_response(request)
        self._log(request, response, started)
        return response

    @staticmethod
    def _log(request, response, started: float) -> None:
        if request.path.startswith("/static/"):
            return
        logger.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.monotonic() - started) * 1000),
                }
            },
        )


# Powerful browser features the app never uses are switched off for every page and file; the big screen's
# fullscreen button keeps the default (this origin only).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()"


class PermissionsPolicyMiddleware:
    """Add the ``Permissions-Policy`` header to every response, static files included (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    async def _acall(self, request):
        response = await self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class AccessEndedMiddleware:
    """A guest whose link was revoked or whose data was erased gets the page that says so, also with DEBUG
    on (Django's debug 404 would otherwise replace it during development)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from config.errors import access_ended
        from workshops.permissions import GuestAccessEnded

        if isinstance(exception, GuestAccessEnded):
            return access_ended(request)
        return None
