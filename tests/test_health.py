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


@pytest.mark.django_db(transaction=True)
def test_the_database_check_gives_its_pooled_connection_back(client, monkeypatch):
    """The check runs in a worker thread that no request cycle cleans up after. It kept that thread's
    connection checked out: sixty calls ran the pool dry, and then the check itself and every socket
    failed (found by tests/security/test_fuzz.py)."""
    from django.db import connections

    from config import health

    if connections["default"].vendor == "sqlite":
        pytest.skip("SQLite runs it in the one shared thread; no pool")
    used = []
    check = health._check_database

    def watched():
        try:
            return check()
        finally:
            used.append(connections["default"])

    monkeypatch.setattr(health, "_check_database", watched)
    for _ in range(3):
        assert client.get(reverse("healthz")).status_code == 200
    assert len(used) == 3 and all(connection.connection is None for connection in used)
