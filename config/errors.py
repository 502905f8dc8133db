"""Friendly error pages in the user's language, rendered with the site layout."""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


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


def page_not_found(request, exception=None):
    return _page(request, 404, _("Page not found"), _("The page does not exist, or you do not have access to it."))


def server_error(request):
    # Rendered without a request context: the failure may be in the database or middleware.
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render())


def too_many_requests(request, exception=None):
    """Friendly 429 page; allauth's rate limits and our own throttles use it."""
    return _page(
        request,
        429,
        _("Too many attempts"),
        _("Please wait a moment and try again. Nothing you have already saved was lost."),
    )
