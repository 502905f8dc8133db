"""The facilitator opens the results report of a closed workshop, shares it, and a participant reads it on a phone."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from facilitation import services
from facilitation.models import Phase, Room, Round
from reports.models import Category, CommentCategory
from tests.accounts.factories import FacilitatorFactory
from tests.browser.conftest import PHONE
from tests.browser.helpers import in_english, sign_in
from tests.browser.test_live import outside_the_event_loop
from tests.facilitation.conftest import viewer_of
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)


def closed_workshop_with_results(facilitator) -> Workshop:
    """Two cases, three people commenting (one anonymously), a category and a round of two rooms; closed."""
    workshop = WorkshopFactory(title="Hyvät käytännöt kiertoon", organisation__name="Vaasan kaupunki")
    for position, title in enumerate(["Aamupalaveri", "Kesäseteli"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    services.live_start(workshop=workshop, by=facilitator)
    people = [ParticipantFactory(workshop=workshop, name=f"Osallistuja {n}") for n in range(3)]
    category = Category.objects.create(workshop=workshop, name="Resurssit", colour="#ffd700")
    for phase in workshop.phases.filter(kind=Phase.Kind.PRESENTATION):
        for index, person in enumerate(people):
            comment, _ = services.comment_create(
                viewer=viewer_of(workshop, participant=person),
                phase_id=phase.pk,
                prompt_id=None,
                parent_id=None,
                text=f"{phase.case.title}: havainto {index + 1}",
                anonymous=index == 0,
                client_id=uuid.uuid4(),
                language="fi",
            )
            if index < 2:
                CommentCategory.objects.create(comment=comment, category=category)
    round_ = Round.objects.create(workshop=workshop, number=1, started_at=workshop.created_at)
    for index, case in enumerate(workshop.cases.order_by("position")):
        room = Room.objects.create(round=round_, index=index, case=case, summary=f"Ryhmän {index + 1} yhteenveto")
        services.comment_create(
            viewer=viewer_of(workshop, user=facilitator, staff=True),
            phase_id=workshop.phases.get(kind=Phase.Kind.ROUNDS).pk,
            prompt_id=None,
            parent_id=None,
            text=f"Huoneen {room.label} muistiinpano",
            anonymous=False,
            client_id=uuid.uuid4(),
            language="fi",
            room_id=room.pk,
        )
    services.live_close(workshop=workshop, by=facilitator)
    workshop.refresh_from_db()
    return workshop


def test_facilitator_shares_the_report_and_a_participant_reads_it(live_server, new_page, assert_accessible, settings):
    settings.KEHITTAMO_SITE_URL = live_server.url
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    # The services broadcast, so they run in a worker thread: Playwright's event loop owns this one.
    workshop = outside_the_event_loop(closed_workshop_with_results, facilitator=facilitator)
    assert workshop.status == Workshop.Status.CLOSED

    # the facilitator opens the report
    fac = new_page()
    in_english(fac, base)
    sign_in(fac, base, facilitator.email)
    fac.goto(base + f"/w/{workshop.pk}/report/")
    expect(fac.get_by_role("heading", level=1)).to_have_text("Hyvät käytännöt kiertoon")
    expect(fac.get_by_role("img", name="Comments per case")).to_be_visible()
    expect(fac.get_by_role("row", name="Aamupalaveri 4")).to_be_visible()
    expect(fac.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    expect(fac.get_by_text("Sharing is off.")).to_be_visible()
    assert_accessible(fac, "report, not shared")

    # and shares it with the participants
    fac.get_by_role("button", name="Share with the participants").click()
    expect(fac.get_by_role("status")).to_contain_text("The link is on")
    link = fac.get_by_label("Link to the report").input_value()
    assert link.startswith(f"{base}/r/")
    assert_accessible(fac, "report, shared")

    # on paper: no header, navigation or buttons; the charts stay
    fac.emulate_media(media="print")
    expect(fac.get_by_role("navigation", name="Main menu")).to_be_hidden()
    expect(fac.get_by_role("button", name="Make a new link")).to_be_hidden()
    expect(fac.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(fac.get_by_role("img", name="Comments per case")).to_be_visible()
    expect(fac.get_by_role("heading", name="Categories")).to_be_visible()
    fac.emulate_media(media="screen")
    expect(fac.get_by_role("navigation", name="Main menu")).to_be_visible()

    # a participant opens the link on a phone, without signing in
    guest = new_page(viewport=PHONE)
    in_english(guest, base)
    guest.goto(link)
    expect(guest.get_by_role("heading", level=1)).to_have_text("Hyvät käytännöt kiertoon")
    figures = guest.locator(".report-figures")
    expect(figures).to_contain_text("Comments in all")
    expect(figures.locator("div", has_text="Comments in all").locator("dd")).to_have_text("8")
    expect(guest.get_by_role("img", name="Comments per case")).to_be_visible()
    expect(guest.get_by_role("row", name="Kesäseteli 4")).to_be_visible()
    expect(guest.get_by_text("Ryhmän 1 yhteenveto")).to_be_visible()
    expect(guest.get_by_role("heading", name="Share with the participants")).to_have_count(0)
    assert guest.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(guest, "shared report on a phone")
    for name in ("Osallistuja 0", "Osallistuja 1", "Osallistuja 2", "@example.fi"):
        assert name not in guest.content()
    assert fac.console_errors == [] and guest.console_errors == []
