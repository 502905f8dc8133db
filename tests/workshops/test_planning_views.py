"""Registration, the facilitator's queue, planning, cases and participants: flows and the role matrix."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Organisation
from tests.accounts.factories import PASSWORD
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Case, Participant, Workshop, WorkshopStatusChange
from workshops.services import TransitionError, workshop_transition

pytestmark = pytest.mark.django_db


def sign_in(client, user):
    assert client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}).status_code == 302


REGISTRATION = {
    "new_organisation_name": "Pikku-Kylän kunta",
    "new_organisation_kind": "municipality",
    "title": "Strategia käytäntöön",
    "goal": "Uusi strategia arkeen",
    "format": "parastaminen_b",
    "preferred_dates": "Maaliskuun tiistait",
    "expected_participants": "20",
    "invited_groups": ["staff", "resident"],
    "case_proposals": "",
    "language": "fi",
}


class TestRegistration:
    def test_contact_person_registers_a_new_organisation(self, client, plain_user):
        sign_in(client, plain_user)
        response = client.post(reverse("workshops:register"), REGISTRATION)
        workshop = Workshop.objects.get(title="Strategia käytäntöön")
        assert response.url == reverse("workshops:manage", kwargs={"workshop_id": workshop.pk})
        assert workshop.status == Workshop.Status.REQUESTED
        assert workshop.invited_groups == ["staff", "resident"]
        assert workshop.organisation.name == "Pikku-Kylän kunta"
        plain_user.refresh_from_db()
        assert plain_user.organisation == workshop.organisation
        assert WorkshopStatusChange.objects.get(workshop=workshop).changed_by == plain_user
        assert "Strategia käytäntöön" in client.get(reverse("home")).content.decode()

    def test_picking_an_existing_organisation_does_not_grant_its_other_workshops(self, client, plain_user, workshop):
        sign_in(client, plain_user)
        data = {**REGISTRATION, "organisation": workshop.organisation_id, "new_organisation_name": ""}
        client.post(reverse("workshops:register"), data)
        mine = Workshop.objects.get(title="Strategia käytäntöön")
        plain_user.refresh_from_db()
        assert plain_user.organisation is None
        assert client.get(reverse("workshops:manage", kwargs={"workshop_id": mine.pk})).status_code == 200
        assert client.get(reverse("workshops:manage", kwargs={"workshop_id": workshop.pk})).status_code == 404

    def test_bad_input_is_explained_and_nothing_is_saved(self, client, plain_user):
        sign_in(client, plain_user)
        data = {**REGISTRATION, "new_organisation_name": "", "title": "=HYPERLINK(1)", "expected_participants": "-3"}
        response = client.post(reverse("workshops:register"), data)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert set(errors) >= {"new_organisation_name", "title", "expected_participants"}
        assert not Workshop.objects.exists()
        assert not Organisation.objects.filter(name="Pikku-Kylän kunta").exists()
        assert 'value="Uusi strategia arkeen"' in response.content.decode() or "Uusi strategia arkeen" in (
            response.content.decode()
        )

    def test_anonymous_is_sent_to_log_in(self, client):
        response = client.get(reverse("workshops:register"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


class TestFacilitatorQueue:
    def test_accept_sets_the_date_and_mails_the_contact_person(
        self, client, facilitator, contact_person, mailoutbox, django_capture_on_commit_callbacks
    ):
        workshop = WorkshopFactory(
            organisation=contact_person.organisation, status="requested", created_by=contact_person, starts_at=None
        )
        sign_in(client, facilitator)
        assert workshop.title in client.get(reverse("workshops:queue")).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("workshops:accept", kwargs={"workshop_id": workshop.pk}),
                {"date": "2026-12-03", "time": "13:00", "duration_minutes": "120", "meeting_url": "", "language": "fi"},
            )
        assert response.status_code == 302
        workshop.refresh_from_db()
        assert workshop.status == Workshop.Status.PLANNED
        assert workshop.starts_at.isoformat() == "2026-12-03T11:00:00+00:00"  # 13:00 in Helsinki
        change = WorkshopStatusChange.objects.get(workshop=workshop, to_status="planned")
        assert change.changed_by == facilitator
        [mail] = mailoutbox
        assert mail.to == [contact_person.email]
        assert workshop.title in mail.subject
        assert "3.12.2026" in mail.body

    def test_decline_needs_a_reason_and_mails_it(
        self, client, facilitator, contact_person, mailoutbox, django_capture_on_commit_callbacks
    ):
        workshop = WorkshopFactory(
            organisation=contact_person.organisation, status="requested", created_by=contact_person
        )
        sign_in(client, facilitator)
        url = reverse("workshops:decline", kwargs={"workshop_id": workshop.pk})
        assert client.post(url, {"reason": ""}).status_code == 200
        workshop.refresh_from_db()
        assert workshop.status == "requested"
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"reason": "Kalenteri on täynnä keväällä."})
        workshop.refresh_from_db()
        assert workshop.status == Workshop.Status.DECLINED
        assert "Kalenteri on täynnä keväällä." in mailoutbox[0].body

    def test_invalid_date_is_an_error_not_a_500(self, client, facilitator):
        workshop = WorkshopFactory(status="requested")
        sign_in(client, facilitator)
        response = client.post(
            reverse("workshops:accept", kwargs={"workshop_id": workshop.pk}),
            {"date": "2026-02-31", "time": "25:00", "duration_minutes": "0", "language": "xx"},
        )
        assert response.status_code == 200
        assert set(response.context["form"].errors) >= {"date", "time", "duration_minutes", "language"}

    def test_queue_shows_a_request_whose_requester_account_is_gone(self, client, facilitator, organisation):
        """created_by is emptied when the account is deleted; the queue once answered 500 then."""
        WorkshopFactory(status="requested", organisation=organisation, title="Orpo pyyntö", created_by=None)
        sign_in(client, facilitator)
        response = client.get(reverse("workshops:queue"))
        assert response.status_code == 200
        assert "Orpo pyyntö" in response.content.decode()

    def test_queue_query_count_is_constant(self, client, facilitator, organisation):
        sign_in(client, facilitator)

        def queries():
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("workshops:queue")).status_code == 200
            return len(ctx)

        WorkshopFactory(status="requested", organisation=organisation, created_by=facilitator)
        WorkshopFactory(status="planned", organisation=organisation)
        one = queries()
        WorkshopFactory.create_batch(150, status="requested", organisation=organisation, created_by=facilitator)
        for workshop in WorkshopFactory.create_batch(150, status="planned", organisation=organisation):
            ParticipantFactory(workshop=workshop)
        assert queries() == one

    def test_direct_creation_and_duplicate(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        data = {
            **REGISTRATION,
            "plan-date": "2027-01-15",
            "plan-time": "09:30",
            "plan-duration_minutes": "90",
            "plan-meeting_url": "https://meet.example.fi/abc",
            "plan-language": "sv",
        }
        client.post(reverse("workshops:create"), data)
        created = Workshop.objects.get(title="Strategia käytäntöön")
        assert created.status == Workshop.Status.PLANNED and created.language == "sv"
        client.post(reverse("workshops:duplicate", kwargs={"workshop_id": workshop.pk}))
        copy = Workshop.objects.get(duplicated_from=workshop)
        assert [c.title for c in copy.cases.all()] == [c.title for c in workshop.cases.all()]
        assert copy.participants.count() == 0


class TestWorkflow:
    def test_service_refuses_illegal_steps(self, workshop, facilitator):
        with pytest.raises(TransitionError):
            workshop_transition(workshop=workshop, to_status=Workshop.Status.ARCHIVED, by=facilitator)
        for status in ["invitations_sent", "live", "closed", "archived"]:
            workshop_transition(workshop=workshop, to_status=status, by=facilitator)
        assert list(WorkshopStatusChange.objects.filter(workshop=workshop).values_list("to_status", flat=True)) == [
            "invitations_sent",
            "live",
            "closed",
            "archived",
        ]

    def test_transition_view_refuses_illegal_steps_with_a_message(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        url = reverse("workshops:transition", kwargs={"workshop_id": workshop.pk})
        client.post(url, {"to_status": "archived"})
        workshop.refresh_from_db()
        assert workshop.status == "planned"
        client.post(url, {"to_status": "bogus"})
        client.post(url, {"to_status": "live"})
        workshop.refresh_from_db()
        assert workshop.status == "live"


class TestCasesAndParticipants:
    def test_contact_person_adds_edits_and_removes_cases_after_acceptance(self, client, contact_person, workshop):
        sign_in(client, contact_person)
        client.post(
            reverse("workshops:case_new", kwargs={"workshop_id": workshop.pk}),
            {"title": "Neljäs", "presenter_name": "Pia", "presenter_email": "PIA@example.fi", "description": ""},
        )
        case = Case.objects.get(title="Neljäs")
        assert case.position == 4 and case.presenter_email == "pia@example.fi"
        client.post(
            reverse("workshops:case_edit", kwargs={"workshop_id": workshop.pk, "case_id": case.pk}),
            {"title": "Neljäs esimerkki", "material_url": "ei-linkki"},
        )
        case.refresh_from_db()
        assert case.title == "Neljäs"  # invalid URL: nothing saved
        first = workshop.cases.first()
        delete_url = reverse("workshops:case_delete", kwargs={"workshop_id": workshop.pk, "case_id": first.pk})
        assert "ei voi perua" in client.get(delete_url).content.decode()  # asks first
        client.post(delete_url)
        assert list(workshop.cases.values_list("position", flat=True)) == [1, 2, 3]

    def test_a_case_with_comments_is_kept_with_a_message_not_a_500(self, client, facilitator, workshop):
        from tests.facilitation.factories import CommentFactory, PhaseFactory

        case = workshop.cases.first()
        CommentFactory(phase=PhaseFactory(workshop=workshop, case=case))
        sign_in(client, facilitator)
        url = reverse("workshops:case_delete", kwargs={"workshop_id": workshop.pk, "case_id": case.pk})
        response = client.post(url, follow=True)
        assert response.status_code == 200
        assert Case.objects.filter(pk=case.pk).exists()
        errors = [str(message) for message in response.context["messages"] if message.level_tag == "error"]
        assert errors and "ei voi poistaa" in errors[0]  # Finnish by default

    def test_contact_person_cannot_plan_before_acceptance(self, client, contact_person):
        requested = WorkshopFactory(organisation=contact_person.organisation, status="requested")
        sign_in(client, contact_person)
        assert client.get(reverse("workshops:case_new", kwargs={"workshop_id": requested.pk})).status_code == 403

    def test_add_edit_remove_participant_with_duplicate_check(self, client, contact_person, workshop):
        sign_in(client, contact_person)
        url = reverse("workshops:participants", kwargs={"workshop_id": workshop.pk})
        person = {"name": "Eero", "email": "Eero@Example.fi", "role_group": "resident", "role": "participant"}
        client.post(url, person)
        again = client.post(url, {**person, "email": "eero@example.FI"})
        assert "email" in again.context["form"].errors
        assert Participant.objects.filter(workshop=workshop).count() == 1
        eero = Participant.objects.get(workshop=workshop)
        client.post(
            reverse("workshops:participant_edit", kwargs={"workshop_id": workshop.pk, "participant_id": eero.pk}),
            {**person, "name": "Eero Esimerkki", "role": "group_leader"},
        )
        eero.refresh_from_db()
        assert (eero.name, eero.role) == ("Eero Esimerkki", "group_leader")
        client.post(
            reverse("workshops:participant_delete", kwargs={"workshop_id": workshop.pk, "participant_id": eero.pk})
        )
        assert not Participant.objects.filter(workshop=workshop).exists()

    def test_participant_list_query_count_is_constant(self, client, facilitator, workshop):
        sign_in(client, facilitator)
        url = reverse("workshops:participants", kwargs={"workshop_id": workshop.pk})

        def queries():
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            return len(ctx)

        ParticipantFactory(workshop=workshop)
        one = queries()
        ParticipantFactory.create_batch(299, workshop=workshop)
        assert queries() == one


# --- the role matrix: every planning URL x every persona -------------------------
PERSONAS = ["anonymous", "participant", "outsider", "contact_person", "facilitator"]
# expected status per persona for a GET on an accepted workshop of the contact person's organisation
MATRIX = {
    "workshops:manage": [302, 302, 404, 200, 200],
    "workshops:edit": [302, 302, 404, 403, 200],
    "workshops:accept": [302, 302, 404, 403, 302],
    "workshops:decline": [302, 302, 404, 403, 302],
    "workshops:case_new": [302, 302, 404, 200, 200],
    "workshops:participants": [302, 302, 404, 200, 200],
    "workshops:participants_upload": [302, 302, 404, 200, 200],
    "workshops:invitations": [302, 302, 404, 403, 200],
    "workshops:invitations_progress": [302, 302, 404, 403, 200],
    "workshops:lobby": [404, 200, 404, 200, 200],
}


@pytest.mark.parametrize("url_name", list(MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_role_matrix(client, request, workshop, participant, url_name, persona):
    if persona == "participant":
        client.get(reverse("workshops:join", kwargs={"token": participant.token}))
    elif persona != "anonymous":
        sign_in(client, request.getfixturevalue(persona))
    response = client.get(reverse(url_name, kwargs={"workshop_id": workshop.pk}))
    expected = MATRIX[url_name][PERSONAS.index(persona)]
    assert response.status_code == expected, f"{persona} on {url_name}"
    if expected == 302 and persona in ("anonymous", "participant"):
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("url_name", ["workshops:queue", "workshops:create"])
@pytest.mark.parametrize(("persona", "expected"), [("contact_person", 403), ("outsider", 403), ("facilitator", 200)])
def test_facilitator_only_pages(client, request, url_name, persona, expected, organisation):
    sign_in(client, request.getfixturevalue(persona))
    assert client.get(reverse(url_name)).status_code == expected


@pytest.mark.parametrize(
    ("url_name", "extra"),
    [("workshops:case_edit", "case_id"), ("workshops:participant_edit", "participant_id")],
)
def test_objects_of_another_workshop_answer_404_like_missing_ones(client, contact_person, workshop, url_name, extra):
    other = WorkshopFactory()
    foreign = (
        Case.objects.create(workshop=other, title="x") if extra == "case_id" else ParticipantFactory(workshop=other)
    )
    sign_in(client, contact_person)
    foreign_url = reverse(url_name, kwargs={"workshop_id": workshop.pk, extra: foreign.pk})
    missing_url = reverse(url_name, kwargs={"workshop_id": workshop.pk, extra: 999999})
    assert client.get(foreign_url).status_code == client.get(missing_url).status_code == 404


@pytest.mark.parametrize(
    "url_name", ["workshops:transition", "workshops:duplicate", "workshops:invitations_send", "workshops:edit"]
)
@pytest.mark.parametrize(("persona", "expected"), [("contact_person", 403), ("outsider", 404)])
def test_facilitator_only_posts(client, request, workshop, url_name, persona, expected):
    sign_in(client, request.getfixturevalue(persona))
    before = (Workshop.objects.count(), Workshop.objects.get(pk=workshop.pk).status)
    response = client.post(reverse(url_name, kwargs={"workshop_id": workshop.pk}), {"to_status": "cancelled"})
    assert response.status_code == expected
    assert (Workshop.objects.count(), Workshop.objects.get(pk=workshop.pk).status) == before


@pytest.mark.parametrize(("persona", "expected"), [("contact_person", 403), ("outsider", 404)])
def test_only_facilitators_revoke_links(client, request, workshop, participant, persona, expected):
    sign_in(client, request.getfixturevalue(persona))
    url = reverse(
        "workshops:participant_revoke",
        kwargs={"workshop_id": workshop.pk, "participant_id": participant.participant.pk},
    )
    assert client.post(url).status_code == expected
    participant.participant.refresh_from_db()
    assert participant.participant.token_revoked_at is None
