"""Personal join links: token for a session, clean URL, one identity, friendly failures."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD
from workshops.models import Participant, Workshop
from workshops.services import participant_issue_token, participant_revoke_token

pytestmark = pytest.mark.django_db


def _join(client, token):
    return client.get(reverse("workshops:join", kwargs={"token": token}))


def test_join_link_signs_the_guest_in_and_drops_the_token_from_the_url(client, participant, workshop):
    response = _join(client, participant.token)
    assert response.status_code == 302
    assert response.url == reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk})
    assert participant.token not in response.url
    lobby = client.get(response.url)
    html = lobby.content.decode()
    assert lobby.status_code == 200
    assert "Aino Asukas" in html
    assert all(case.title in html for case in workshop.cases.all())
    assert lobby.context["access"].participant == participant.participant
    participant.participant.refresh_from_db()
    assert participant.participant.first_joined_at is not None


def test_token_is_stored_only_as_a_hash_and_is_long(participant):
    stored = Participant.objects.get(pk=participant.participant.pk)
    assert participant.token not in (stored.token_hash or "")
    assert len(participant.token) >= 43  # 32 bytes of secrets.token_urlsafe


def test_joining_twice_keeps_one_identity(client, participant, workshop):
    _join(client, participant.token)
    session_key = client.session.session_key
    _join(client, participant.token)
    assert Participant.objects.filter(workshop=workshop).count() == 1
    assert client.session["kehittamo_participants"] == {str(workshop.pk): [participant.participant.pk, 0]}
    assert client.session.session_key == session_key


def test_join_cycles_the_session_key(client, participant):
    client.get("/")
    client.session.save()
    before = client.session.session_key
    _join(client, participant.token)
    assert client.session.session_key != before


@pytest.mark.parametrize("case", ["unknown", "revoked", "replaced", "cancelled"])
def test_a_link_that_does_not_work_gets_a_friendly_page(client, participant, workshop, case):
    token = participant.token
    if case == "unknown":
        token = "x" * 43
    elif case == "revoked":
        participant_revoke_token(participant=participant.participant)
    elif case == "replaced":
        participant_issue_token(participant=participant.participant)
    elif case == "cancelled":
        Workshop.objects.filter(pk=workshop.pk).update(status=Workshop.Status.CANCELLED)
    response = _join(client, token)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Tämä linkki ei toimi" in html
    assert '<html lang="fi">' in html
    assert "Traceback" not in html
    assert "kehittamo_participants" not in client.session


def test_an_absurdly_long_token_is_just_unknown(client):
    assert _join(client, "a" * 5000).status_code == 404


class TestLobbyAccess:
    """Role matrix for the lobby: who sees it, and everyone else gets the same 404 as a missing id."""

    def _lobby(self, client, workshop_id):
        return client.get(reverse("workshops:lobby", kwargs={"workshop_id": workshop_id}))

    def test_anonymous_gets_404(self, client, workshop):
        assert self._lobby(client, workshop.pk).status_code == 404

    def test_missing_id_and_foreign_workshop_answer_alike(self, client, participant, workshop, organisation):
        from tests.workshops.factories import WorkshopFactory

        other = WorkshopFactory()
        _join(client, participant.token)
        foreign = self._lobby(client, other.pk)
        missing = self._lobby(client, 999999)
        assert foreign.status_code == missing.status_code == 404

        # identical but for the page's own address and the (per-response masked) CSRF token
        def normalised(response, path):
            html = response.content.decode().replace(path, "/w/ID/")
            return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

        assert normalised(foreign, f"/w/{other.pk}/") == normalised(missing, "/w/999999/")

    def test_participant_of_another_workshop_gets_404(self, client, workshop):
        from tests.workshops.factories import ParticipantFactory

        stranger = ParticipantFactory()
        _join(client, participant_issue_token(participant=stranger))
        assert self._lobby(client, workshop.pk).status_code == 404

    @pytest.mark.parametrize(("persona", "status"), [("facilitator", 200), ("contact_person", 200), ("outsider", 404)])
    def test_signed_in_roles(self, client, request, workshop, persona, status):
        user = request.getfixturevalue(persona)
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert self._lobby(client, workshop.pk).status_code == status

    def test_group_leader_sees_their_role(self, client, group_leader, workshop):
        _join(client, group_leader.token)
        response = self._lobby(client, workshop.pk)
        assert "Ryhmänvetäjä" in response.content.decode()
