"""Friendly error pages in the user's language, rendered with the site layout."""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 10


def _page(request, status: int, title: str, message: str):
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _page(request, 400, _("Something in the request was not right"), _("Please go back and try again."))


def permission_denied(request, exception=None):
    return _page(
        request,
        403,
        _("You do not have access to this page"),
        _("If you think you should, ask the workshop's facilitator."),
    )


def access_ended(request):
    """404 for a browser that was inside this workshop but whose way in no longer holds (link revoked,
    data erased). Only such a browser sees it: it tells nobody else the workshop exists."""
    return _page(
        request,
        404,
        _("Your access to this workshop has ended"),
        _(
            "The link you joined with no longer works: the organisers revoked it, or your personal data was "
            "deleted. If you received a new invitation link, open it; otherwise ask the workshop's facilitator."
        ),
    )


def page_not_found(request, exception=None):
    return _page(request, 404, _("Page not found"), _("The page does not exist, or you do not have access to it."))


def server_error(request):
    # Rendered without a request context: the failure may be in the database or middleware.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return service_unavailable(request)
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render())


def _language_without_database(request) -> str:
    """The cookie's language, else the one the request already chose; never a query (the database is away)."""
    available = dict(settings.LANGUAGES)
    for candidate in (request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME), getattr(request, "LANGUAGE_CODE", None)):
        if candidate in available:
            return candidate
    return settings.LANGUAGE_CODE


def service_unavailable(request):
    """503 while the database cannot be reached: a short page in the user's language (JSON for the page's
    scripts), with ``Retry-After``. Touches neither the database nor the session."""
    with translation.override(_language_without_database(request)):
        message = _("The service is briefly unavailable. Please try again in a moment; nothing you saved is lost.")
        if "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": message, "retry": True}, status=503)
        else:
            html = loader.get_template("503.html").render(
                {"message": message, "language": translation.get_language(), "title": _("Please wait a moment")}
            )
            response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def too_many_requests(request, exception=None):
    """Friendly 429 page; allauth's rate limits and our own throttles use it."""
    return _page(
        request,
        429,
        _("Too many attempts"),
        _("Please wait a moment and try again. Nothing you have already saved was lost."),
    )
