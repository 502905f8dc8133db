"""A flood gets through: the facilitator ticks everything from one person, is asked once, and it disappears
from everyone's screens live; by keyboard, and accessible at each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitation.models import Comment
from tests.browser.test_live import WITHIN_A_SECOND, join, said, send, setting, signed_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
FLOOD = ["Osta halvalla 1", "Osta halvalla 2", "Osta halvalla 3"]


def test_the_facilitator_hides_a_flood_at_once(asgi_live_server, new_page, assert_accessible, setting):  # noqa: F811
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting
    fac = new_page()
    signed_in(fac, base, facilitator)
    fac.goto(f"{base}/w/{workshop.pk}/control/")
    fac.get_by_role("button", name="Start the workshop").click()
    expect(fac.locator("[data-current-phase-title]")).to_have_text("Welcome and introduction")
    fac.get_by_role("button", name="Next phase").click()
    spammer = join(new_page, base, aino)
    reader = join(new_page, base, bertta)
    expect(reader.get_by_role("heading", name="Observations and questions on the case")).to_be_visible()
    for text in FLOOD:
        send(spammer, text)
    send(reader, "Asiallinen havainto")
    for text in FLOOD:
        expect(said(reader, text)).to_be_visible(timeout=5000)

    fac.get_by_role("link", name="Hide many at once (a flood)").click()
    expect(fac.get_by_role("heading", name="Hide many at once")).to_be_visible()
    fac.get_by_role("link", name="Select all from Aino Asukas").first.click()
    for text in FLOOD:
        expect(fac.get_by_label(text)).to_be_checked()
    expect(fac.get_by_label("Asiallinen havainto")).not_to_be_checked()
    assert_accessible(fac, "moderation page with a selection")

    fac.get_by_role("button", name="Hide selected").focus()
    fac.keyboard.press("Enter")
    expect(fac.get_by_role("heading", name="Hide the selected items?")).to_be_visible()
    expect(fac.get_by_text("3 items disappear from everyone's screens at once.")).to_be_visible()
    assert_accessible(fac, "moderation confirmation")
    assert not Comment.objects.filter(hidden_at__isnull=False).exists()
    fac.get_by_role("button", name="Hide them").focus()
    fac.keyboard.press("Enter")
    expect(fac.get_by_text("3 items are now hidden from everyone.")).to_be_visible()

    for text in FLOOD:
        expect(said(reader, text)).to_have_count(0, timeout=WITHIN_A_SECOND * 2)
    expect(said(reader, "Asiallinen havainto")).to_be_visible()
    assert Comment.objects.filter(hidden_at__isnull=False).count() == 3
