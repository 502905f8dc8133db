"""Length and size limits answer with a clear message in the user's language, keep what was typed, save nothing.

Comments and ideas over their length, participant lists over the file size or row count, and a case that
can no longer be removed (that one answered 500 until the fuzzer found it).
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from facilitation import services
from facilitation.models import COMMENT_MAX_LENGTH, Comment, Idea, LiveState, Phase
from tests.facilitation.conftest import make_guest
from workshops.importing import MAX_FILE_BYTES, MAX_ROWS
from workshops.models import Case, Participant

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_too_long_comment_is_refused_in_finnish_and_the_text_is_kept(live_workshop):
    _person, client = make_guest(live_workshop)
    phase = LiveState.objects.get(pk=live_workshop.pk).current_phase
    text = "ä" * (COMMENT_MAX_LENGTH + 1)
    data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"p{phase.pk}-q0"}
    url = reverse("facilitation:comment_new", args=[live_workshop.pk])
    refused = client.post(url, data, **JSON)
    assert refused.status_code == 400
    assert str(COMMENT_MAX_LENGTH) in refused.json()["error"] and "merkki" in refused.json()["error"]
    plain = client.post(url, data)
    assert plain.status_code == 400 and text in plain.content.decode()
    assert not Comment.objects.exists()


def test_a_too_long_idea_is_refused_with_how_much_to_cut_and_the_text_is_kept(live_workshop):
    phase = services.phase_create(
        workshop=live_workshop, kind=Phase.Kind.IDEAS, title="Ideat", duration_minutes=5, idea_max_length=50
    )
    services.phase_go(workshop=live_workshop, phase=phase)
    _person, client = make_guest(live_workshop)
    text = "Kirjasto " * 7  # 63 characters
    data = {"phase": phase.pk, "text": text, "client_id": str(uuid.uuid4()), "thread": f"i{phase.pk}"}
    url = reverse("facilitation:idea_new", args=[live_workshop.pk])
    refused = client.post(url, data, **JSON)
    assert refused.status_code == 400 and "50" in refused.json()["error"]
    plain = client.post(url, data)
    assert plain.status_code == 400 and text.strip() in plain.content.decode()
    assert not Idea.objects.exists()


class TestParticipantList:
    @pytest.fixture
    def client(self, facilitator):
        client = Client()
        client.force_login(facilitator)
        return client

    def _upload(self, client, workshop, data: bytes):
        url = reverse("workshops:participants_upload", args=[workshop.pk])
        return client.post(url, {"file": SimpleUploadedFile("lista.csv", data, content_type="text/csv")})

    def test_a_file_over_the_size_limit(self, client, workshop):
        response = self._upload(client, workshop, b"nimi,email\n" + b"x" * MAX_FILE_BYTES)
        assert response.status_code == 200
        assert "2 Mt" in response.content.decode() or "2 MB" in response.content.decode()
        assert not Participant.objects.filter(workshop=workshop).exists()

    def test_too_many_rows(self, client, workshop):
        rows = "".join(f"P {n},p{n}@kunta.fi\n" for n in range(MAX_ROWS + 1))
        response = self._upload(client, workshop, f"nimi,email\n{rows}".encode())
        assert response.status_code == 200
        assert str(MAX_ROWS) in response.content.decode()
        assert not Participant.objects.filter(workshop=workshop).exists()


def test_a_case_with_comments_is_kept_with_a_message_not_a_500(live_workshop, facilitator_client):
    case = live_workshop.cases.order_by("position").first()
    phase = LiveState.objects.get(pk=live_workshop.pk).current_phase
    Comment.objects.create(
        client_id=uuid.uuid4(), workshop=live_workshop, phase=phase, case=case, text="Havainto", language="fi"
    )
    url = reverse("workshops:case_delete", args=[live_workshop.pk, case.pk])
    response = facilitator_client.post(url, follow=True)
    assert response.status_code == 200
    assert "ei voi poistaa" in response.content.decode()
    assert Case.objects.filter(pk=case.pk).exists()
