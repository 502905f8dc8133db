"""The data protection pages in Finnish: the footer's notice and statement, a participant asking for deletion,
and a facilitator erasing a closed workshop's personal data, all by keyboard and axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitation import services
from privacy.models import DeletionRequest, Erasure
from tests.accounts.factories import FacilitatorFactory
from tests.browser.helpers import sign_in_finnish
from tests.browser.test_live import outside_the_event_loop
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant
from workshops.services import participant_issue_token

pytestmark = pytest.mark.django_db(transaction=True)


def closed_workshop(facilitator):
    workshop = WorkshopFactory(title="Tietosuojatyöpaja")
    CaseFactory(workshop=workshop, title="Aamupalaveri")
    person = ParticipantFactory(workshop=workshop, name="Kanarialintu Kaivosmies", email="kanarialintu@example.fi")
    services.live_start(workshop=workshop, by=facilitator)
    services.live_close(workshop=workshop, by=facilitator)
    return workshop, person, participant_issue_token(participant=person)


def test_the_footer_pages_are_axe_clean_and_reached_by_keyboard(live_server, page, assert_accessible):
    page.goto(live_server.url + "/")
    footer = page.get_by_role("navigation", name="Tietoa palvelusta")
    footer.get_by_role("link", name="Tietosuojaseloste").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tietosuojaseloste")
    expect(page.get_by_role("heading", name="Rekisterinpitäjä ja yhteystiedot")).to_be_visible()
    assert_accessible(page, "privacy notice")
    page.get_by_role("navigation", name="Tietoa palvelusta").get_by_role("link", name="Saavutettavuusseloste").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Saavutettavuusseloste")
    expect(page.get_by_role("heading", name="Anna palautetta saavutettavuudesta")).to_be_visible()
    expect(page.get_by_text("Traficom").first).to_be_visible()
    assert_accessible(page, "accessibility statement")


def test_a_participant_asks_for_deletion_and_the_facilitator_erases(live_server, new_page, assert_accessible, settings):
    settings.KEHITTAMO_SITE_URL = live_server.url
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    workshop, person, token = outside_the_event_loop(closed_workshop, facilitator=facilitator)

    guest = new_page()
    guest.goto(f"{base}/j/{token}/")
    guest.get_by_role("link", name="Omat tietoni").focus()
    guest.keyboard.press("Enter")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Omat tietoni")
    expect(guest.get_by_text("kanarialintu@example.fi")).to_be_visible()
    assert_accessible(guest, "my data")
    guest.get_by_role("link", name="Pyydä henkilötietojeni poistamista").focus()
    guest.keyboard.press("Enter")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Pyydätkö henkilötietojesi poistamista?")
    assert_accessible(guest, "deletion request confirmation")
    guest.get_by_role("button", name="Pyydä poistamista").focus()
    guest.keyboard.press("Enter")
    expect(guest.get_by_role("status").first).to_contain_text("Pyyntösi on kirjattu")
    assert DeletionRequest.objects.filter(participant=person, handled_at=None).exists()

    staff = new_page()
    sign_in_finnish(staff, base, facilitator.email)
    staff.goto(f"{base}/w/{workshop.pk}/manage/")
    staff.get_by_role("link", name="Henkilötiedot").focus()
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Henkilötiedot")
    expect(staff.get_by_text("odottaa")).to_be_visible()
    assert_accessible(staff, "the workshop's personal data page")
    staff.get_by_role("link", name="Poista henkilötiedot…").focus()
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Poistetaanko työpajan henkilötiedot?")
    expect(staff.get_by_text("Tätä ei voi perua.")).to_be_visible()
    assert_accessible(staff, "erasure confirmation")
    staff.get_by_role("button", name="Poista henkilötiedot").focus()
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("status").first).to_contain_text("Työpajan henkilötiedot poistettiin.")
    assert_accessible(staff, "after the erasure")
    assert Erasure.objects.get(workshop=workshop).erased_by == facilitator
    assert Participant.objects.get(pk=person.pk).name.startswith("Osallistuja ")
    assert guest.console_errors == [] and staff.console_errors == []
