from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, FacilitatorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:workshops_workshop_changelist") + "?status__exact=planned&q=Parastaminen",
        reverse("admin:workshops_participant_changelist") + "?invitation_status__exact=sent&q=aino",
        reverse("admin:workshops_invitationbatch_changelist"),
        reverse("admin:accounts_user_changelist") + "?is_staff__exact=1&q=example",
        reverse("admin:accounts_organisation_changelist") + "?q=kaupunki",
    ],
)
def test_admin_lists_with_filters_and_search_work_for_support(client, workshop, participant, url):
    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    assert client.get(url).status_code == 200


def test_admin_workshop_page_shows_the_status_history(client, workshop):
    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    response = client.get(reverse("admin:workshops_workshop_change", args=[workshop.pk]))
    assert response.status_code == 200
