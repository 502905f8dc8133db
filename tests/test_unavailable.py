"""While the database is away every request gets a short 503 in the user's language, never a traceback."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import path

pytestmark = pytest.mark.django_db


def _database_down(request):
    raise OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed')


def _connection_closed(request):
    raise InterfaceError("connection already closed")


def _other_failure(request):
    raise ValueError("a bug")


def _fine(request):
    return HttpResponse("ok")


urlpatterns = [
    path("down/", _database_down),
    path("closed/", _connection_closed),
    path("bug/", _other_failure),
    path("fine/", _fine),
]
handler500 = "config.errors.server_error"


@pytest.fixture
def failing_client(client, settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


def test_database_outage_answers_a_friendly_finnish_503(failing_client):
    response = failing_client.get("/down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert '<html lang="fi">' in body
    assert "Palvelu on hetken poissa käytöstä" in body
    assert "Traceback" not in body and "OperationalError" not in body and "5432" not in body


def test_the_language_cookie_chooses_the_503_language(failing_client, settings):
    failing_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    body = failing_client.get("/closed/").content.decode()
    assert '<html lang="sv">' in body
    assert "Tjänsten är tillfälligt otillgänglig" in body


def test_scripts_get_the_503_as_json(failing_client, settings):
    failing_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = failing_client.post("/down/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json() == {
        "error": "The service is briefly unavailable. Please try again in a moment; nothing you saved is lost.",
        "retry": True,
    }


def test_other_failures_stay_500(failing_client):
    response = failing_client.get("/bug/")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_a_real_lost_connection_answers_503_on_a_real_page(client, settings, monkeypatch):
    """The session and the user are read from the database in middleware, before any view runs."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    settings.DEBUG = False
    client.raise_request_exception = False
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32

    def refuse(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 503
