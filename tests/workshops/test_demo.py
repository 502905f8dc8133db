from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from accounts.models import User
from workshops.models import Workshop

pytestmark = pytest.mark.django_db


def _load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_is_idempotent_and_prints_working_join_links(client):
    _load_demo()
    output = _load_demo()
    assert Workshop.objects.count() == 2
    workshop = Workshop.objects.get(title__startswith="Parastaminen")
    assert workshop.cases.count() == 3
    assert workshop.participants.count() >= 3
    assert User.objects.filter(is_staff=True).count() == 1
    assert "fasilitaattori@example.fi" in output and "yhteyshenkilo@example.fi" in output
    links = re.findall(r"http://\S+/j/\S+/", output)
    assert len(links) == workshop.participants.count()
    response = client.get(urlsplit(links[0]).path, follow=True)
    assert response.status_code == 200
    assert workshop.title in response.content.decode()


def test_demo_log_ins_work(client):
    output = _load_demo()
    password = re.search(r"password for both: (\S+)\)", output).group(1)
    for email in ("fasilitaattori@example.fi", "yhteyshenkilo@example.fi"):
        client.logout()
        assert client.post("/account/login/", {"login": email, "password": password}).status_code == 302
        assert "Parastaminen" in client.get("/").content.decode()


def test_demo_has_a_large_event_planned_from_the_template():
    from facilitation.models import Phase

    output = _load_demo()
    _load_demo()
    event = Workshop.objects.get(title="Hyvinvoinnin kehittämisiltapäivä")
    kinds = list(event.phases.order_by("position").values_list("kind", flat=True))
    assert Phase.Kind.IDEAS in kinds and Phase.Kind.PRIORITISATION in kinds and Phase.Kind.FEEDBACK in kinds
    assert kinds.index(Phase.Kind.IDEAS) < kinds.index(Phase.Kind.PRIORITISATION)
    assert f"/w/{event.pk}/bigscreen/" in output and f"/w/{event.pk}/control/" in output
