"""Hostile input through every form, upload and endpoint where people type, then every page that shows it
read back and parsed: no markup the templates did not write (no script, handler, style, srcdoc, foreign
element or script-capable link). The same pages are opened in Chromium by tests/browser/test_xss_browser.py."""

from __future__ import annotations

import base64
import re

import pytest

from tests.security import xss_corpus
from tests.security.hostile import (
    ALL,
    Hostile,
    Page,
    _staff_client,
    stage_comments,
    stage_dots,
    stage_feedback,
    stage_ideas,
    stage_planning,
    stage_report,
    stage_rounds,
    stage_voting,
)
from tests.security.html_scan import injected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _corpus_is_not_a_flood(settings):
    """A few guests post the whole corpus within seconds: far over the posting rate limits, which
    tests/security/test_rate_limits.py checks. Here they are raised out of the way."""
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000


HTML_KEYS = {"html", "panel"}


def _fragments(value, key: str = ""):
    """The HTML inside a JSON answer: values under "html"/"panel" and the "threads" lists."""
    if isinstance(value, dict):
        for name, item in value.items():
            if key == "threads" and isinstance(item, str):
                yield item
            else:
                yield from _fragments(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _fragments(item, key)
    elif isinstance(value, str) and key in HTML_KEYS:
        yield value


def scan(pages: list[Page], full: set[str] | None = None) -> list[str]:
    """Every finding on every page, prefixed with the page's label. Pages not in ``full`` (when given) show
    only the latest comments of each thread: rendering all of them costs seconds a page."""
    findings = []
    for page in pages:
        url = page.url if full is None or page.label in full else page.url.replace(ALL, "")
        response = page.client.get(url)
        assert response.status_code == 200, f"{page.label} ({page.url}) answered {response.status_code}"
        if response["Content-Type"].startswith("application/json"):
            documents = list(_fragments(response.json()))
        else:
            documents = [response.content.decode()]
        findings += [f"{page.label}: {finding}" for document in documents for finding in injected(document)]
    return findings


def test_the_corpus_is_big_varied_and_every_vector_is_observable():
    vectors = xss_corpus.vectors()
    assert len(vectors) >= 200 and len(set(vectors)) == len(vectors)
    assert len(xss_corpus.families()) >= 10
    for number, vector in enumerate(vectors, start=1):
        encoded = re.search(r"base64,([A-Za-z0-9+/=]+)", vector)
        visible = vector + (base64.b64decode(encoded.group(1)).decode() if encoded else "")
        assert xss_corpus.marker(number) in visible, vector
    # the scanner sees what it is meant to see: most raw vectors, unescaped, are findings
    raw = [vector for vector in vectors if injected(f"<div>{vector}</div>")]
    assert len(raw) >= 150


def run_everywhere(
    workshop, facilitator, posted: list[str], bulk: list[str], full: set[str] | None = None
) -> tuple[Hostile, list[str]]:
    """Every stage with ``posted`` going through the app's forms and endpoints and ``bulk`` stored directly
    where many items live; returns what was stored where and every finding on every page (``full``: the
    pages read with every comment, see ``scan``)."""
    h = Hostile(workshop=workshop, facilitator_client=_staff_client(facilitator), vectors=posted)
    findings = []
    pages, previews = stage_planning(h)
    for index, html in enumerate(previews):
        findings += [f"upload preview {index}: {finding}" for finding in injected(html)]
    findings += scan(pages)
    findings += scan(stage_comments(h, posted, bulk), full)
    findings += scan(stage_ideas(h, posted, bulk))
    pages, dots = stage_voting(h)
    findings += scan(pages)
    findings += scan(stage_dots(h, dots))
    findings += scan(stage_rounds(h, posted, bulk), full)
    findings += scan(stage_feedback(h, posted + bulk))
    findings += scan(stage_report(h))
    return h, findings


def test_no_vector_becomes_markup_on_any_page(workshop, facilitator):
    """A spread of the corpus through every form and endpoint, the rest stored directly, every page parsed."""
    posted = xss_corpus.sample(11)  # one of each family
    bulk = [vector for vector in xss_corpus.vectors() if vector not in posted]
    full = {"participant's live page", "facilitator's controls", "participant's room", "rooms overview"}
    h, findings = run_everywhere(workshop, facilitator, posted, bulk, full)
    assert findings == []
    assert h.stored["comment"] + h.stored["comment (stored directly)"] == len(xss_corpus.vectors())
    assert len(h.stored) >= 20, h.stored


@pytest.mark.faults
def test_every_vector_through_every_form_and_endpoint(workshop, facilitator):
    """The exhaustive run: the whole corpus through HTTP wherever many items live, every page parsed."""
    vectors = xss_corpus.vectors()
    h, findings = run_everywhere(workshop, facilitator, vectors, [])
    assert findings == []
    assert h.stored["comment"] == h.stored["idea"] == len(vectors)
