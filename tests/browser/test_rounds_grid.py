"""The facilitator plans the small-group rounds in a browser and moves people with the keyboard and by dragging."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilitation.models import RoomMember, Round
from tests.accounts.factories import FacilitatorFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(page, base, user):
    """A session made here, in English; the log-in form itself is covered by the accounts browser tests."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base},
        ]
    )


def room_of(person, number: int) -> str:
    return RoomMember.objects.select_related("room").get(participant=person, round__number=number).room.label


def test_facilitator_plans_the_rounds_and_moves_people(live_server, new_page, assert_accessible):
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", language="en")
    workshop = WorkshopFactory(title="Strategy in practice", format=Workshop.Format.PARASTAMINEN_B, language="en")
    for position, title in enumerate(["Education", "Social services", "Technical services"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    groups = ["staff", "elected_official", "resident"]
    people = [
        ParticipantFactory(
            workshop=workshop,
            name=f"Person {n:02d}",
            organisation_name="Pikkukunta",
            department=f"Department {n % 4}",
            role_group=groups[n % 3],
        )
        for n in range(12)
    ]
    for n in range(3):
        ParticipantFactory(workshop=workshop, name=f"Leader {n}", role=Participant.Role.GROUP_LEADER)

    page = new_page()
    signed_in(page, base, facilitator)
    page.goto(f"{base}/w/{workshop.pk}/manage/")
    page.get_by_role("link", name="Small-group rounds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Small-group rounds")
    assert_accessible(page, "rounds page before planning")

    page.get_by_label("Smallest group").fill("4")
    page.get_by_label("Largest group").fill("5")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")

    page.get_by_role("button", name="Plan the rounds").click()
    expect(page.get_by_role("status")).to_contain_text("3 rounds were planned.")
    expect(page).to_have_url(re.compile(r"/rounds/#round-1$"))
    assert Round.objects.filter(workshop=workshop).count() == 3
    rounds = page.locator("section.round")
    expect(rounds).to_have_count(3)
    expect(page.get_by_role("heading", name="Round 1", exact=True)).to_be_visible()
    round_1 = page.get_by_role("region", name="Round 1", exact=True)
    rooms = round_1.locator("[data-room-index]")
    assert rooms.count() >= 2
    assert_accessible(page, "rounds page with the plan")

    # keyboard: choose the room in the person's own "Move … to" list, then press Move
    first = people[0]
    start = room_of(first, 1)
    target = next(label for label in "ABC" if label != start)
    choice = round_1.get_by_label(f"Move {first.name} to")
    choice.focus()
    choice.select_option(label=f"Room {target}")
    move = round_1.get_by_role("button", name=re.compile(rf"^Move\s*:\s*{re.escape(first.name)}$"))
    move.focus()
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Moved {first.name} to room {target}.")
    expect(page).to_have_url(re.compile(r"#round-1$"))
    assert room_of(first, 1) == target
    target_card = round_1.locator(f'[data-room-label="{target}"]')
    expect(target_card.locator(f'[data-participant="{first.pk}"]')).to_be_visible()

    # drag and drop: another person into another room of round 2, without a reload
    round_2 = page.get_by_role("region", name="Round 2", exact=True)
    second = people[1]
    before = room_of(second, 2)
    drop_on = next(label for label in "ABC" if label != before)
    others_round_1 = list(
        RoomMember.objects.filter(round__workshop=workshop, round__number=1).values_list("participant", "room")
    )
    member = round_2.locator(f'[data-participant="{second.pk}"]')
    # people are picked up by their name (the move form below it keeps its own mouse behaviour)
    member.locator(".member-name").drag_to(round_2.locator(f'[data-room-label="{drop_on}"] h3'))
    announce = page.locator("[data-announce]")
    expect(announce).to_have_text(f"Moved {second.name} to room {drop_on}.")
    expect(announce).to_have_attribute("aria-live", "polite")
    moved = round_2.locator(f'[data-room-label="{drop_on}"] [data-participant="{second.pk}"]')
    expect(moved).to_be_visible()
    assert room_of(second, 2) == drop_on
    # the moved person's list now offers the room they came from, not the one they are in
    options = moved.get_by_label(f"Move {second.name} to").locator("option")
    expect(options).to_contain_text([f"Room {before}"])
    assert f"Room {drop_on}" not in options.all_text_contents()
    assert (
        list(RoomMember.objects.filter(round__workshop=workshop, round__number=1).values_list("participant", "room"))
        == others_round_1
    )
    assert_accessible(page, "rounds page after moving")
    assert page.console_errors == []

    # the re-plan asks first: the button that replaces the plan is behind a disclosure
    replace = page.get_by_role("button", name="Replace the plan")
    expect(replace).to_be_hidden()
    page.get_by_text("Plan the rounds again…").click()
    expect(replace).to_be_visible()
