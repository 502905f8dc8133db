"""Erasing personal data keeps the content and leaves nothing that points at a person."""

from __future__ import annotations

import logging

import pytest
from django.core.files.storage import default_storage

from facilitation.models import Ballot, Comment, Duel, Event, Idea, LiveState, Presence, Reaction, RoomMember
from privacy import services
from privacy.models import DeletionRequest, Erasure
from reports.models import Export
from tests.privacy.conftest import close
from workshops.models import InvitationBatch, Participant
from workshops.services import participant_join_by_token

pytestmark = pytest.mark.django_db
PERSONAL = ("Kanarialintu", "kanarialintu@example.fi", "Kaivosyhtiö", "Louhinta", "Esittäjä", "esittaja@example.fi")


def test_a_running_workshop_cannot_be_erased(trail, facilitator):
    with pytest.raises(services.ErasureError):
        services.workshop_erase_personal_data(workshop=trail.workshop, by=facilitator)
    trail.canary.refresh_from_db()
    assert trail.canary.name == "Kanarialintu Kaivosmies" and not Erasure.objects.exists()


def test_erasing_a_workshop_replaces_people_with_pseudonyms_and_keeps_the_content(trail, facilitator, caplog):
    caplog.set_level(logging.INFO)
    close(trail, facilitator)
    file_name = trail.export.file.name
    assert default_storage.exists(file_name)
    DeletionRequest.objects.create(workshop=trail.workshop, participant=trail.other)

    erasure = services.workshop_erase_personal_data(workshop=trail.workshop, by=facilitator)

    people = list(Participant.objects.filter(workshop=trail.workshop).order_by("pk"))
    assert [person.name for person in people] == [f"Osallistuja {n}" for n in range(1, len(people) + 1)]
    for person in people:
        assert person.email == person.organisation_name == person.department == ""
        assert person.token_hash is None and person.token_revoked_at is not None and person.user_id is None
        assert person.first_joined_at is None and person.last_seen_at is None and person.invited_at is None
    case = trail.workshop.cases.get(pk=trail.workshop.cases.first().pk)
    assert case.presenter_name == case.presenter_email == ""
    live = LiveState.objects.get(pk=trail.workshop.pk)
    assert live.join_code is None and not live.join_code_enabled
    assert not Export.objects.filter(workshop=trail.workshop).exists() and not default_storage.exists(file_name)
    assert not InvitationBatch.objects.filter(workshop=trail.workshop).exists()
    assert not Event.objects.filter(workshop=trail.workshop).exists()
    assert not Presence.objects.filter(workshop=trail.workshop).exists()
    # The content stays: named comments under the pseudonym, anonymous ones with nobody.
    trail.named_comment.refresh_from_db()
    trail.anonymous_comment.refresh_from_db()
    assert trail.named_comment.author_participant.name.startswith("Osallistuja ")
    assert trail.anonymous_comment.text == "Salainen havainto" and trail.anonymous_comment.author_participant is None
    assert Idea.objects.get(pk=trail.anonymous_idea.pk).author_participant_id is None
    assert Duel.objects.filter(phase__workshop=trail.workshop).count() == 1
    assert Ballot.objects.filter(phase__workshop=trail.workshop, value=3).count() == 1
    assert RoomMember.objects.filter(participant=trail.canary).exists()
    # Who and when is recorded; the request is closed.
    assert (erasure.erased_by, erasure.automatic, erasure.whole_workshop) == (facilitator, False, True)
    assert erasure.participants == len(people) and erasure.exports == 1
    assert DeletionRequest.objects.get().handled_by == facilitator
    # No personal data anywhere in the workshop's rows, nor in the log.
    dump = "\n".join(
        str(row) for model in (Participant, Comment, Idea, Reaction, Event, Presence) for row in model.objects.values()
    ) + str(list(trail.workshop.cases.values()))
    assert [marker for marker in PERSONAL if marker in dump] == []
    assert [marker for marker in PERSONAL if marker in caplog.text] == []
    assert "workshop personal data erased" in caplog.text


def test_the_old_personal_link_no_longer_works_after_erasure(trail, facilitator):
    from workshops.services import participant_issue_token

    token = participant_issue_token(participant=trail.canary)
    close(trail, facilitator)
    assert participant_join_by_token(token=token) is not None
    services.workshop_erase_personal_data(workshop=trail.workshop, by=facilitator)
    assert participant_join_by_token(token=token) is None


def test_erasing_one_participant_cuts_their_anonymous_links_even_before_closing(trail, facilitator):
    DeletionRequest.objects.create(workshop=trail.workshop, participant=trail.canary)
    erasure = services.participant_erase_personal_data(participant=trail.canary, by=facilitator)

    canary = Participant.objects.get(pk=trail.canary.pk)
    number = Participant.objects.filter(workshop=trail.workshop, pk__lte=canary.pk).count()
    assert canary.name == f"Osallistuja {number}" and canary.email == "" and canary.token_hash is None
    assert not Comment.objects.filter(author_participant=canary, anonymous=True).exists()
    assert not Idea.objects.filter(author_participant=canary, anonymous=True).exists()
    assert Comment.objects.filter(author_participant=canary, anonymous=False).count() == 1
    assert not Duel.objects.filter(voter_participant=canary).exists()
    assert not Ballot.objects.filter(voter_participant=canary).exists()
    assert not Presence.objects.filter(participant=canary).exists()
    assert not Event.objects.filter(participant=canary).exists()
    # The others are untouched.
    other = Participant.objects.get(pk=trail.other.pk)
    assert other.name == "Toinen Osallistuja" and other.email == "toinen@example.fi"
    assert (erasure.whole_workshop, erasure.participant_id, erasure.erased_by) == (False, canary.pk, facilitator)
    assert DeletionRequest.objects.get().handled_at is not None


def test_asking_twice_records_one_request(trail):
    first = services.deletion_request_create(participant=trail.canary)
    again = services.deletion_request_create(participant=trail.canary)
    assert first.pk == again.pk and DeletionRequest.objects.count() == 1


def test_the_pseudonym_follows_the_workshop_language(trail, facilitator):
    trail.workshop.language = "sv"
    trail.workshop.save()
    services.participant_erase_personal_data(participant=trail.canary, by=facilitator)
    assert Participant.objects.get(pk=trail.canary.pk).name.startswith("Deltagare ")
