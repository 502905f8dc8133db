"""The facilitator plans the agenda in a browser: default agenda, keyboard reordering, prompts, axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilitation.models import Phase
from tests.accounts.factories import FacilitatorFactory
from tests.browser.helpers import sign_in_finnish as sign_in
from tests.workshops.factories import CaseFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)


def named(action: str, title: str) -> re.Pattern:
    """A row button's accessible name: the visible action, then the phase title in visually-hidden text."""
    return re.compile(rf"^{re.escape(action)}\s*:\s*{re.escape(title)}$")


def agenda_titles(workshop) -> list[str]:
    return list(Phase.objects.filter(workshop=workshop).order_by("position", "id").values_list("title", flat=True))


def test_facilitator_plans_the_agenda(live_server, new_page, assert_accessible):
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", language="en")
    workshop = WorkshopFactory(
        title="Good practices", format=Workshop.Format.PARASTAMINEN_A, language="en", duration_minutes=120
    )
    for position, title in enumerate(["Morning meeting", "Summer voucher", "Library"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)

    page = new_page()
    sign_in(page, base, facilitator.email)
    page.goto(f"{base}/w/{workshop.pk}/manage/")
    page.get_by_role("link", name="Agenda", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    # a Parastaminen workshop with cases starts from the method's own agenda
    expect(page.get_by_role("status")).to_contain_text("The Parastaminen agenda was made from the workshop's cases.")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first.get_by_role("rowheader")).to_contain_text("Welcome and introduction")
    # 10 + 3 × (15 + 5) + 45 + 15 + 5 = 135 minutes planned for a two-hour workshop
    expect(page.get_by_text("The agenda is 15 minutes longer than the workshop.")).to_be_visible()
    assert_accessible(page, "agenda")

    # move the introduction one step down with the keyboard only
    move = page.get_by_role("button", name=named("Move down", "Welcome and introduction"))
    move.focus()
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("“Welcome and introduction” is now number 2.")
    expect(rows.nth(0).get_by_role("rowheader")).to_contain_text("Case: Morning meeting")
    expect(rows.nth(1).get_by_role("rowheader")).to_contain_text("Welcome and introduction")
    expect(page).to_have_url(re.compile(r"/agenda/#phase-\d+$"))
    assert agenda_titles(workshop)[:2] == ["Case: Morning meeting", "Welcome and introduction"]

    # edit the questions of the first reflection; a mistake first, then the fix
    page.get_by_role("link", name=named("Edit", "Reflection: Morning meeting")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit phase")
    questions = page.get_by_label(re.compile(r"^Questions"))
    expect(questions).to_have_value("What did I learn?\nWhat could be useful in my own work?")
    assert_accessible(page, "phase form")
    page.get_by_label("Planned duration (minutes)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("A phase lasts at least 1 minute.")
    duration = page.get_by_label("Planned duration (minutes)")
    expect(duration).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "phase form with errors")

    duration.fill("8")
    questions.fill("What did I learn?\nWhat surprised me?\nWhat will I try next week?")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Changes saved.")
    reflection_row = page.locator("tbody tr", has=page.get_by_role("rowheader", name=re.compile("Reflection: Morning")))
    expect(reflection_row.get_by_role("listitem")).to_have_text(
        ["What did I learn?", "What surprised me?", "What will I try next week?"]
    )
    reflection = Phase.objects.get(workshop=workshop, title="Reflection: Morning meeting")
    assert reflection.duration_minutes == 8
    assert list(reflection.prompts.order_by("position").values_list("text", flat=True)) == [
        "What did I learn?",
        "What surprised me?",
        "What will I try next week?",
    ]
    assert page.console_errors == []
