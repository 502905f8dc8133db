"""A facilitator puts the join code on the screen; a guest types it on the front page and is in the lobby."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilitation.models import LiveState
from tests.accounts.factories import PASSWORD, FacilitatorFactory
from tests.browser.conftest import PHONE
from tests.browser.helpers import in_english
from tests.workshops.factories import WorkshopFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db(transaction=True)


def test_guest_joins_with_the_code_shown_on_the_join_screen(live_server, new_page, assert_accessible, settings):
    settings.KEHITTAMO_SITE_URL = live_server.url
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    workshop = WorkshopFactory(title="Hyvinvoinnin kehittämisiltapäivä")

    # the facilitator signs in and switches the code on
    fac = new_page()
    in_english(fac, base)
    fac.goto(base + "/account/login/")
    fac.get_by_label("Email").fill(facilitator.email)
    fac.get_by_label("Password").fill(PASSWORD)
    fac.get_by_role("button", name="Sign in").click()
    expect(fac.get_by_role("button", name="Sign out")).to_be_visible()
    fac.goto(base + f"/w/{workshop.pk}/join-code/")
    expect(fac.get_by_role("heading", level=1)).to_have_text("Join code")
    assert_accessible(fac, "join screen, code off")
    fac.get_by_role("button", name="Switch the code on").click()
    expect(fac.get_by_role("status")).to_contain_text("The join code is on")

    shown = fac.locator(".join-code-value").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{3} [A-Z0-9]{3}", shown)
    assert shown.replace(" ", "") == LiveState.objects.get(pk=workshop.pk).join_code
    qr = fac.get_by_role("img", name=re.compile(f"QR code .*{shown}"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image did not load"
    assert_accessible(fac, "join screen, code on")

    # presenting fills the window; leaving brings the page back
    present = fac.locator("#present")
    fac.get_by_role("link", name="Present full screen").click()
    expect(present).to_have_css("position", "fixed")
    box = present.bounding_box()
    assert box["width"] == fac.viewport_size["width"] and box["height"] == fac.viewport_size["height"]
    assert_accessible(fac, "join screen, presented")
    fac.get_by_role("link", name="Leave full screen").click()
    expect(present).not_to_have_css("position", "fixed")

    # a guest on a phone types the code on the front page
    guest = new_page(viewport=PHONE)
    in_english(guest, base)
    guest.goto(base + "/")
    guest.get_by_label("Join code").fill(shown.lower())
    guest.get_by_role("button", name="Continue").click()
    expect(guest.get_by_role("heading", level=1)).to_have_text("Join with a code")
    expect(guest.get_by_label("Join code")).to_have_value(shown.lower())
    assert_accessible(guest, "join page")

    # forgetting the name is announced, and the code stays
    guest.get_by_role("button", name="Join", exact=True).click()
    expect(guest.get_by_role("alert")).to_be_visible()
    expect(guest.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")
    expect(guest.get_by_label("Join code")).to_have_value(shown.lower())
    assert_accessible(guest, "join page with an error")
    assert guest.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    guest.get_by_label("Your name").fill("Veera Vieras")
    guest.get_by_role("button", name="Join", exact=True).click()
    expect(guest).to_have_url(re.compile(rf"/w/{workshop.pk}/$"))
    expect(guest.get_by_text("Welcome, Veera Vieras!")).to_be_visible()
    assert Participant.objects.filter(workshop=workshop).count() == 1

    # the QR code's address in the same browser goes straight back to the lobby
    guest.goto(base + f"/c/{shown.replace(' ', '')}/")
    expect(guest).to_have_url(re.compile(rf"/w/{workshop.pk}/$"))
    assert Participant.objects.filter(workshop=workshop).count() == 1
    assert fac.console_errors == [] and guest.console_errors == []
