from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.factories import PASSWORD
from tests.workshops.factories import ParticipantFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    assert client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}).status_code == 302


def test_anonymous_visitor_sees_the_introduction(client):
    html = client.get(reverse("home")).content.decode()
    assert reverse("account_login") in html
    assert reverse("account_signup") in html


def test_facilitator_sees_all_workshops_and_contact_person_only_their_own(
    client, facilitator, contact_person, workshop
):
    other = WorkshopFactory(title="Toisen kunnan työpaja")
    _sign_in(client, facilitator)
    html = client.get(reverse("home")).content.decode()
    assert workshop.title in html and other.title in html
    client.logout()
    _sign_in(client, contact_person)
    html = client.get(reverse("home")).content.decode()
    assert workshop.title in html
    assert other.title not in html


def test_guest_sees_the_workshops_they_joined(client, participant, workshop):
    client.get(reverse("workshops:join", kwargs={"token": participant.token}))
    html = client.get(reverse("home")).content.decode()
    assert workshop.title in html
    assert reverse("workshops:lobby", kwargs={"workshop_id": workshop.pk}) in html


def test_workshop_list_paginates(client, facilitator, organisation):
    WorkshopFactory.create_batch(30, organisation=organisation)
    _sign_in(client, facilitator)
    first = client.get(reverse("home"))
    assert len(first.context["page"].object_list) == 25
    second = client.get(reverse("home") + "?page=2")
    assert len(second.context["page"].object_list) == 5
    assert client.get(reverse("home") + "?page=abc").status_code == 200


def test_home_query_count_does_not_grow_with_rows(client, facilitator, organisation):
    _sign_in(client, facilitator)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home")).status_code == 200
        return len(ctx)

    workshop = WorkshopFactory(organisation=organisation)
    ParticipantFactory(workshop=workshop)
    one = count_queries()
    for item in WorkshopFactory.create_batch(24, organisation=organisation):
        ParticipantFactory.create_batch(2, workshop=item)
    assert count_queries() == one
