"""Over a rate limit in a real browser: the page says so, keeps the text, and sends it once the limit passes
(a comment, and the group leader's summary)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from facilitation.models import Comment, Phase, Room, Round
from facilitation.services import live_start, phase_go
from tests.browser.test_live import join, said, send, setting  # noqa: F401  (fixture)
from workshops.models import Participant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refused_comment_is_kept_and_sent_when_the_limit_passes(asgi_live_server, new_page, setting):  # noqa: F811
    base = asgi_live_server
    facilitator, workshop, aino, _bertta = setting
    live_start(workshop=workshop, by=facilitator)
    phase_go(workshop=workshop, offset=1)
    page = join(new_page, base, aino)
    # The server shares this Redis cache: this guest has used up their minute's comments.
    key = f"throttle:post:guest:p{aino.pk}"
    cache.set(key, 10_000, 60)
    send(page, "Tämä ei saa kadota")
    expect(page.locator("[data-composer-status]").first).to_contain_text("Too much was sent in a short time")
    expect(page.locator("[data-outbox-list]")).to_contain_text("Tämä ei saa kadota")
    assert not Comment.objects.exists()
    cache.delete(key)  # the minute passes
    expect(said(page, "Tämä ei saa kadota")).to_be_visible(timeout=15_000)
    expect(page.locator("[data-outbox]")).to_be_hidden()
    assert Comment.objects.filter(text="Tämä ei saa kadota").count() == 1


def _leader_in_a_room(base, new_page, setting):  # noqa: F811
    """Aino leads the first room of a running round and has the live page open."""
    facilitator, workshop, aino, _bertta = setting
    live_start(workshop=workshop, by=facilitator)
    phase_go(workshop=workshop, phase=workshop.phases.get(kind=Phase.Kind.ROUNDS))
    Participant.objects.filter(pk=aino.pk).update(role=Participant.Role.GROUP_LEADER)
    round_ = Round.objects.create(workshop=workshop, number=1, started_at=timezone.now())
    room = Room.objects.create(round=round_, index=0, case=workshop.cases.first(), leader=aino)
    return aino, room, join(new_page, base, aino)


def test_a_throttled_summary_is_kept_through_a_reload_and_saved_when_the_limit_passes(
    asgi_live_server,
    new_page,
    setting,  # noqa: F811
):
    aino, room, page = _leader_in_a_room(asgi_live_server, new_page, setting)
    summary = page.get_by_label("The group's summary")
    expect(summary).to_be_visible()
    # The server shares this Redis cache: this leader has used up their minute's saves.
    key = f"throttle:summary:guest:p{aino.pk}"
    cache.set(key, 10_000, 60)
    summary.fill("Ryhmä löysi kolme ideaa")
    status = page.locator("[data-summary-status]")
    expect(status).to_contain_text("Too much was sent in a short time")
    expect(summary).to_have_value("Ryhmä löysi kolme ideaa")
    room.refresh_from_db()
    assert room.summary == ""
    # A reload (or a new panel) while it is still refused puts the unsaved text back in its box.
    page.reload()
    expect(page.get_by_label("The group's summary")).to_have_value("Ryhmä löysi kolme ideaa")
    cache.delete(key)  # the minute passes
    expect(page.locator("[data-summary-status]")).to_contain_text("Summary saved", timeout=20_000)
    room.refresh_from_db()
    assert room.summary == "Ryhmä löysi kolme ideaa"


def test_a_summary_refused_for_good_stays_in_its_box_but_is_not_sent_again_by_itself(
    asgi_live_server,
    new_page,
    setting,  # noqa: F811
):
    _aino, _room, page = _leader_in_a_room(asgi_live_server, new_page, setting)
    sent = []

    def refuse(route):
        sent.append(route.request.post_data)
        route.fulfill(status=400, content_type="application/json", body='{"error": "This room is not open."}')

    page.route("**/summary/", refuse)
    summary = page.get_by_label("The group's summary")
    summary.fill("Ryhmän yhteenveto")
    expect(page.locator("[data-summary-status]")).to_contain_text("This room is not open.")
    assert len(sent) == 1
    # After a reload the text is back in its box, but nothing is sent until the leader acts.
    page.reload()
    expect(page.get_by_label("The group's summary")).to_have_value("Ryhmän yhteenveto")
    page.wait_for_timeout(2500)  # longer than the 1 s after which a waiting summary is sent
    assert len(sent) == 1
    page.get_by_label("The group's summary").press_sequentially(" ja lisää")
    expect(page.locator("[data-summary-status]")).to_contain_text("This room is not open.")
    assert len(sent) == 2
