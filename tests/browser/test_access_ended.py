"""A participant whose link is revoked while their live page is open: the socket is closed, and the page
reloads into the page that says their access has ended (not a page that silently stops updating)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitation import services
from tests.browser.test_live import join, outside_the_event_loop
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.services import participant_revoke_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_revoked_participants_open_page_shows_that_their_access_ended(asgi_live_server, new_page, facilitator):
    workshop = WorkshopFactory(title="Peruttu linkki", language="en")
    CaseFactory(workshop=workshop, position=1, title="Aamupalaveri")
    services.live_start(workshop=workshop, by=facilitator)
    person = ParticipantFactory(workshop=workshop, name="Lotta Linkki")
    page = join(new_page, asgi_live_server, person)
    with page.expect_navigation(timeout=10_000) as reload:
        outside_the_event_loop(participant_revoke_token, participant=person)
    assert reload.value.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Your access to this workshop has ended")
    expect(page.locator("[data-connection]")).to_have_count(0)
