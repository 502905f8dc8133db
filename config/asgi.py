"""ASGI entry point: HTTP through Django, WebSockets through Channels (same origin only)."""

from __future__ import annotations

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does before its handler

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up first)
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.conf import settings  # noqa: E402

from config.http_handler import PooledASGIHandler  # noqa: E402
from config.limits import UNLIMITED_PATHS, HttpConcurrencyLimit  # noqa: E402
from config.websocket import SameSiteOriginValidator  # noqa: E402
from facilitation.routing import websocket_urlpatterns  # noqa: E402


def _warm_up() -> None:
    """Pay at start what the first request in each language would: the URL resolver's reverse table (per
    language), the translation catalogue, the locale's formats and the live panel's templates. The first
    phase change of a process renders the pushed panel in every language, and waited for all of these."""
    from django.template.loader import get_template
    from django.urls import reverse
    from django.utils import formats, translation

    for template in ("facilitation/partials/panel.html", "facilitation/partials/comment.html"):
        get_template(template)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse("home")
            formats.get_format("DATETIME_FORMAT")


_warm_up()

# The cyclic garbage collector, tuned for a server holding 1,000 sockets (docs/performance.md). With the
# defaults a fan-out to 1,000 sockets ran young collections in the middle of its writes, promoted the
# writes' short-lived objects to the oldest generation and so set off a full collection every ~20 s that
# stopped the server for 300-500 ms (the p95 of S2). Young collections now wait for 50,000 allocations,
# by which time a fan-out's objects are freed by reference counting; and everything made while starting
# (Django, URL patterns, templates, translations) is frozen out of the collector's sight for good.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 20)

application = ProtocolTypeRouter(
    {
        "http": HttpConcurrencyLimit(
            PooledASGIHandler(settings.KEHITTAMO_HTTP_CONCURRENCY, reserved_paths=UNLIMITED_PATHS),
            settings.KEHITTAMO_HTTP_CONCURRENCY,
        ),
        # Sessions only: the consumer finds the user from the session in its own worker thread, together
        # with the participant. Channels' AuthMiddlewareStack looks the user up in asgiref's one shared
        # thread for thread-sensitive work, where a thousand reconnecting pages queued behind each other.
        "websocket": SameSiteOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
