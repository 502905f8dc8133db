"""Over the posting limit in a real browser: the page says so, keeps the text, and sends it once the limit passes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from facilitation.models import Comment
from facilitation.services import live_start, phase_go
from tests.browser.test_live import join, said, send, setting  # noqa: F401  (fixture)

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
