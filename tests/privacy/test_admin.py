"""The admin's audit trail: erasures and deletion requests cannot be added, edited or deleted by hand, not even by
a superuser, and nothing that would take them along (a workshop, a participant) can be deleted through the admin."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory
from django.urls import reverse

from privacy.models import DeletionRequest, Erasure
from privacy.services import deletion_request_create, participant_erase_personal_data
from tests.accounts.factories import FacilitatorFactory
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import InvitationBatch, Workshop, WorkshopStatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return FacilitatorFactory(email="root@example.fi", is_superuser=True)


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def records(workshop, facilitator):
    """One erasure of a person's data and one deletion request still open (another person's)."""
    erased = ParticipantFactory(workshop=workshop, name="Poistettava Henkilö")
    deletion_request_create(participant=erased)
    erasure = participant_erase_personal_data(participant=erased, by=facilitator)
    asking = ParticipantFactory(workshop=workshop, name="Pyytävä Henkilö")
    request = deletion_request_create(participant=asking)
    return erasure, request, asking


def _admin(model):
    return site._registry[model]


@pytest.mark.parametrize("model", [Erasure, DeletionRequest])
def test_no_superuser_permission_adds_changes_or_deletes_the_audit_trail(model, superuser, records):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    admin = _admin(model)
    obj = model.objects.first()
    assert admin.has_view_permission(request, obj)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, obj)
    assert not admin.has_delete_permission(request, obj)
    assert not admin.has_delete_permission(request)
    assert "delete_selected" not in admin.get_actions(request)


@pytest.mark.parametrize(
    ("model", "name"), [(Erasure, "privacy_erasure"), (DeletionRequest, "privacy_deletionrequest")]
)
def test_the_audit_trail_survives_every_admin_form(admin_client, records, model, name):
    obj = model.objects.first()
    before = list(model.objects.order_by("pk").values())
    # the pages show it, read-only
    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    change = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    # deletion refused: the page, the confirmed POST and the changelist action
    assert admin_client.get(reverse(f"admin:{name}_delete", args=[obj.pk])).status_code == 403
    assert admin_client.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    answer = admin_client.post(reverse(f"admin:{name}_changelist"), action)
    assert answer.status_code in (200, 302)
    # editing refused: a POST to the change page and the add page
    assert admin_client.post(reverse(f"admin:{name}_change", args=[obj.pk]), {"automatic": "on"}).status_code == 403
    assert admin_client.post(reverse(f"admin:{name}_add"), {"workshop": obj.workshop_id}).status_code == 403
    assert list(model.objects.order_by("pk").values()) == before


def test_a_workshop_with_an_audit_trail_cannot_be_deleted_through_the_admin(admin_client, workshop, records):
    url = reverse("admin:workshops_workshop_delete", args=[workshop.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "erasure" in page.content.decode().lower()  # named among what the superuser may not delete
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [workshop.pk], "post": "yes"}
    admin_client.post(reverse("admin:workshops_workshop_changelist"), action)
    assert Workshop.objects.filter(pk=workshop.pk).exists()
    assert Erasure.objects.filter(workshop=workshop).count() == 1
    assert DeletionRequest.objects.filter(workshop=workshop).count() == 2


def test_a_participant_with_a_deletion_request_is_erased_not_deleted_through_the_admin(admin_client, records):
    _erasure, request, asking = records
    url = reverse("admin:workshops_participant_delete", args=[asking.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert DeletionRequest.objects.filter(pk=request.pk, participant=asking).exists()


def test_a_workshop_without_an_audit_trail_can_still_be_deleted(admin_client, organisation):
    spare = WorkshopFactory(organisation=organisation, title="Testityöpaja poistoon")
    response = admin_client.post(reverse("admin:workshops_workshop_delete", args=[spare.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Workshop.objects.filter(pk=spare.pk).exists()


def test_the_status_and_its_history_are_not_edited_in_the_admin(admin_client, superuser, workshop):
    """The status moves only through the planning pages, which write the history: the admin form shows it."""
    changes = WorkshopStatusChange.objects.filter(workshop=workshop).count()
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert {"status", "decline_reason"} <= set(_admin(Workshop).get_readonly_fields(request, workshop))
    form = admin_client.get(reverse("admin:workshops_workshop_change", args=[workshop.pk])).content.decode()
    assert 'name="status"' not in form and 'name="decline_reason"' not in form
    assert 'name="status_changes-0-note"' not in form  # the history inline is read-only too
    assert WorkshopStatusChange.objects.filter(workshop=workshop).count() == changes


def test_invitation_batches_are_the_invitation_services(admin_client, workshop):
    assert admin_client.get(reverse("admin:workshops_invitationbatch_add")).status_code == 403
    assert admin_client.post(reverse("admin:workshops_invitationbatch_add"), {}).status_code == 403
    assert not InvitationBatch.objects.exists()
