from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_dependency(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert set(data["checks"]) == {"database", "channel_layer", "broker"}
    assert all(check["ok"] for check in data["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_channel_layer_is_down(client, monkeypatch):
    class BrokenLayer:
        async def new_channel(self, prefix="x"):
            raise ConnectionError("redis unreachable")

    monkeypatch.setattr("config.health.get_channel_layer", lambda: BrokenLayer())
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "fail"
    assert data["checks"]["channel_layer"] == {"ok": False, "error": "ConnectionError"}
    assert data["checks"]["database"]["ok"] is True


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken():
        raise OSError("database unreachable")

    monkeypatch.setattr("config.health._check_database", broken)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
