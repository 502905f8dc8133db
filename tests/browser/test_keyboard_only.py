"""A participant's whole path with the keyboard only: join with the code, comment, write in the small
group's room, compare a pair of ideas and give feedback — Tab, Shift+Tab, Enter, Space, arrow keys and
typing, never a click; at every step the focused element shows a visible focus indicator."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from facilitation import services
from facilitation.models import Comment, Duel, FeedbackResponse, LiveState, Phase, RoomMember
from tests.accounts.factories import FacilitatorFactory
from tests.browser.helpers import in_english
from tests.browser.test_live import outside_the_event_loop
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db(transaction=True)
# ms for a push (a round, a phase change) to reach the page. This test is about the keyboard, not speed
# (bench S5 measures that): on a CI machine loaded by the rest of the suite a push took over 5 s.
LIVE = 15000
MAX_TABS = 80

# The element with focus, and whether a sighted keyboard user can see where it is: the focus ring on
# the element itself, or on the label that stands in for a visually restyled radio button or checkbox.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || !el.matches(':focus-visible')) return false;
  const shows = (node) => {
    if (!node) return false;
    const style = getComputedStyle(node);
    const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return ring || (style.boxShadow && style.boxShadow !== 'none');
  };
  const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
  const box = el.getBoundingClientRect();
  return (box.width > 0 && box.height > 0) && (shows(el) || shows(label));
}"""


def _plan():
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", name="Fanni Fasilitaattori")
    workshop = WorkshopFactory(title="Keyboard workshop", language="en")
    for position, title in enumerate(["Morning meeting", "Summer voucher", "Library"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    now = timezone.now()
    for index in range(3):
        ParticipantFactory(workshop=workshop, name=f"Person {index}", first_joined_at=now)
    ParticipantFactory(workshop=workshop, name="Leader", role=Participant.Role.GROUP_LEADER, first_joined_at=now)
    services.live_start(workshop=workshop, by=facilitator)
    ideas = services.phase_create(workshop=workshop, kind=Phase.Kind.IDEAS, title="Ideas", duration_minutes=10)
    services.phase_create(workshop=workshop, kind=Phase.Kind.PRIORITISATION, title="What first?", duration_minutes=10)
    services.phase_create(workshop=workshop, kind=Phase.Kind.FEEDBACK, title="How did it go?", duration_minutes=5)
    author = workshop.participants.first()
    for text in ("Outdoor lessons", "A school nurse", "Less screen time"):
        IdeaFactory(phase=ideas, text=text, author_participant=author, language="en")
    services.join_code_set(workshop=workshop, enabled=True)
    services.phase_go(workshop=workshop, offset=1)  # the first case: people write observations
    return workshop


def _rounds(workshop):
    services.phase_go(workshop=workshop, phase=workshop.phases.get(kind=Phase.Kind.ROUNDS))
    services.rotation_update(workshop=workshop, data={"min_size": 2, "max_size": 3})
    services.rounds_plan(workshop=workshop)
    services.round_start(workshop=workshop, number=1)


def tab_to(page, target, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has focus; every stop on the way must show its focus.

    A target the page itself moved the focus to (a new pair of ideas, say) needs no key at all.
    """
    key = "Shift+Tab" if backwards else "Tab"
    # The locator is asked afresh each time: a live push may replace the panel that holds the target.
    focused = "el => el === document.activeElement"
    if target.evaluate(focused):
        assert page.evaluate(FOCUS_SHOWN), "the page moved the focus, but it does not show"
        return
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if page.evaluate("document.activeElement === document.body"):
            continue  # past the last element the focus leaves the page for a moment, then starts over
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"
        if target.evaluate(focused):
            return
    raise AssertionError(f"{MAX_TABS} presses of {key} never reached {target}")


def test_a_participant_goes_the_whole_way_with_the_keyboard(asgi_live_server, new_page):
    base = asgi_live_server
    workshop = outside_the_event_loop(_plan)
    code = LiveState.objects.get(pk=workshop.pk).join_code
    page = new_page()
    in_english(page, base)

    # join: the front page's code box, then the name
    page.goto(base + "/")
    tab_to(page, page.get_by_label("Join code"))
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your name")).to_be_visible()
    tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Kaija Keyboard")
    tab_to(page, page.get_by_role("button", name="Join", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator(".phase-title")).to_have_text("Case: Morning meeting")
    me = Participant.objects.get(workshop=workshop, name="Kaija Keyboard")

    # comment
    composer = page.locator("form[data-composer]:not([data-kept])").first
    tab_to(page, composer.locator("textarea"))
    page.keyboard.type("Standing meetings save time")
    tab_to(page, composer.get_by_role("button", name="Send"))
    page.keyboard.press("Enter")
    expect(page.locator(".comment-text").filter(has_text="Standing meetings save time")).to_be_visible()
    assert Comment.objects.filter(author_participant=me, text="Standing meetings save time").count() == 1

    # the room of the first small-group round
    outside_the_event_loop(_rounds, workshop=workshop)
    room = RoomMember.objects.get(participant=me, round__number=1).room
    expect(page.locator(".room-call")).to_have_text(f"Go to room {room.label}", timeout=LIVE)
    notes = page.locator(f'form[data-composer][data-draft-key="r{room.pk}"]')
    tab_to(page, notes.locator("textarea"))
    page.keyboard.type("Our room likes the voucher")
    tab_to(page, notes.get_by_role("button", name="Send"))
    page.keyboard.press("Space")
    expect(page.locator(".comment-text").filter(has_text="Our room likes the voucher")).to_be_visible()
    assert Comment.objects.get(author_participant=me, text="Our room likes the voucher").room_id == room.pk

    # vote: one pair of ideas
    outside_the_event_loop(services.phase_go, workshop=workshop, phase=workshop.phases.get(title="What first?"))
    expect(page.locator(".phase-title")).to_have_text("What first?", timeout=LIVE)
    tab_to(page, page.get_by_role("button", name="Start comparing"))
    page.keyboard.press("Enter")
    left = page.locator("[data-duel-choice=left]")
    expect(left).to_be_visible()
    shown = page.locator("[data-duel-id]").input_value()
    tab_to(page, left)
    page.keyboard.press("Enter")
    page.wait_for_function("id => (document.querySelector('[data-duel-id]') || {}).value !== id", arg=shown)
    answered = Duel.objects.get(pk=int(shown))
    assert answered.choice == "left" and answered.voter_participant_id == me.pk

    # feedback: a rating chosen with the arrow keys, an answer typed, sent with Enter
    outside_the_event_loop(services.phase_go, workshop=workshop, phase=workshop.phases.get(title="How did it go?"))
    expect(page.locator(".phase-title")).to_have_text("How did it go?", timeout=LIVE)
    ratings = page.locator("fieldset.feedback-choice").first
    tab_to(page, ratings.locator("input[type=radio]").first)
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(ratings.get_by_label("4", exact=True)).to_be_checked()
    answer = page.locator("form.feedback-form textarea").first
    tab_to(page, answer)
    page.keyboard.type("Everything worked without a mouse")
    tab_to(page, page.get_by_role("button", name="Send feedback"))
    tab_to(page, answer, backwards=True)  # back to check the answer, and forward again
    tab_to(page, page.get_by_role("button", name="Send feedback"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Thank you, your feedback was saved.")).to_have_count(1)
    response = FeedbackResponse.objects.get(workshop=workshop)
    assert response.answers.filter(text="Everything worked without a mouse").count() == 1
    assert response.answers.filter(rating=4).count() == 1
    assert page.console_errors == []
