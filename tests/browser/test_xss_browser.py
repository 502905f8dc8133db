"""The XSS corpus in real browsers: every page that shows hostile input, opened in Chromium with the
page's own scripts running (live.js, ideas.js, voting.js, bigscreen.js, tagging.js …), and hostile
text pushed live into open pages. Nothing may run: no dialog, no call to alert/confirm/prompt, no
marker in the console, no ``window.__xss``, no CSP violation, no uncaught error, and no injected
element or handler in the DOM as the scripts left it.

The data comes from tests/security/hostile.py (the same stages the server-side scan uses), built in
a worker thread: Playwright's event loop owns this one.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from playwright.sync_api import expect

from facilitation.models import Comment, LiveState, Phase
from tests.accounts.factories import FacilitatorFactory
from tests.browser.test_live import outside_the_event_loop
from tests.security import xss_corpus
from tests.security.hostile import (
    ALL,
    JSON,
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
from tests.workshops.factories import CaseFactory, WorkshopFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _corpus_is_not_a_flood(settings):
    """A few guests post the whole corpus within seconds: far over the posting rate limits, which
    tests/security/test_rate_limits.py checks. Here they are raised out of the way."""
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000


HOOKS = """
(() => {
  window.__xssCalls = [];
  window.__cspViolations = [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    const record = (...args) => { window.__xssCalls.push(name + "(" + args.map(String).join(",") + ")"); return null; };
    try { Object.defineProperty(window, name, { value: record, writable: false, configurable: false }); }
    catch { window[name] = record; }
  }
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI} (${event.sample})`);
  });
})();
"""

# What the scripts left in the DOM: anything here came from user input (the templates have none of it).
DOM_CHECK = """
() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      // (style attributes: bigscreen.js animates through element.style; one in markup is a CSP violation)
      if (name.startsWith("on") || name === "srcdoc") {
        found.push(`${element.tagName} ${name}=${attribute.value.slice(0, 80)}`);
      }
      if (["href", "src", "action", "formaction", "xlink:href", "data"].includes(name)) {
        const value = attribute.value.replace(/[\\x00-\\x20]/g, "").toLowerCase();
        if (/^(javascript|vbscript|data:text)/.test(value)) found.push(`${element.tagName} ${name}=${value}`);
      }
    }
    const tag = element.tagName.toLowerCase();
    const foreign = ["iframe", "frame", "object", "embed", "base", "portal", "math", "template", "style", "marquee"];
    // (the live page's one template of a comment, for the pushed ones, is ours)
    const ours = tag === "template" && element.id === "comment-template" && element.parentElement.closest("[data-live]")
      && document.querySelectorAll("template").length === 1;
    if (foreign.includes(tag) && !ours) {
      found.push(`element ${tag}`);
    }
    // (the admin's pages also load its translation catalogue from /admin/jsi18n/, a view of ours)
    const src = element.getAttribute("src") || "";
    if (tag === "script" && !src.startsWith("/static/") && !src.startsWith("/admin/jsi18n/")
        && element.getAttribute("type") !== "application/json") {
      found.push(`script ${element.textContent.slice(0, 80)}`);
    }
  }
  return {
    found,
    calls: window.__xssCalls,
    csp: window.__cspViolations,
    global: window.__xss === undefined ? null : String(window.__xss),
  };
}
"""


class Browser:
    """One Chromium context per person (their session cookie), every page hooked, findings collected."""

    def __init__(self, new_page, base: str):
        self.new_page = new_page
        self.base = base
        self.pages: dict[int, object] = {}
        self.findings: list[str] = []
        self.opened = 0

    def page_for(self, client):
        page = self.pages.get(id(client))
        if page is None:
            page = self.new_page()
            cookies = [
                {"name": name, "value": morsel.value, "url": self.base}
                for name, morsel in client.cookies.items()
                if name in (settings.SESSION_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME)
            ]
            page.context.add_cookies(cookies)
            page.context.add_init_script(HOOKS)
            page.marks = []
            page.on(
                "dialog", lambda dialog, page=page: (page.marks.append(f"dialog {dialog.message}"), dialog.dismiss())
            )
            page.on(
                "console",
                lambda message, page=page: (
                    xss_corpus.MARKER_PREFIX in message.text and page.marks.append(f"console {message.text}")
                ),
            )
            page.on("pageerror", lambda error, page=page: page.marks.append(f"uncaught {error}"))
            self.pages[id(client)] = page
        return page

    def check(self, page, label: str) -> None:
        page.wait_for_timeout(150)  # let autofocus, load and error events fire
        result = page.evaluate(DOM_CHECK)
        problems = [*page.marks, *result["found"], *result["calls"], *result["csp"]]
        if result["global"] is not None:
            problems.append(f"window.__xss = {result['global']}")
        page.marks.clear()
        self.findings += [f"{label}: {problem}" for problem in problems]

    def open(self, page_spec, *, latest_only: bool = False) -> None:
        page = self.page_for(page_spec.client)
        url = page_spec.url.replace(ALL, "") if latest_only else page_spec.url
        if page_spec.url.endswith(".json") or "/events/" in page_spec.url or "/threads/" in page_spec.url:
            return  # JSON: its HTML is checked where the page inserts it
        response = page.goto(self.base + url, wait_until="load", timeout=60_000)
        assert response.status < 400, f"{page_spec.label}: {response.status}"
        self.opened += 1
        page.mouse.move(200, 300)
        page.mouse.move(600, 500)
        self.check(page, page_spec.label)

    def open_all(self, pages, wanted: set[str] | None = None, *, latest_only: set[str] = frozenset()) -> None:
        """Open ``wanted`` of ``pages`` (all without it); those in ``latest_only`` without ``?show=800``."""
        for page_spec in pages:
            if wanted is None or page_spec.label in wanted:
                self.open(page_spec, latest_only=page_spec.label in latest_only)


def in_thread(function, *args):
    return outside_the_event_loop(lambda: function(*args))


def hostile_workshop():
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", name="Fanni Fasilitaattori")
    workshop = WorkshopFactory(title="Vihamielinen syöte", language="en")
    for position, title in enumerate(["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    return Hostile(workshop=workshop, facilitator_client=_staff_client(facilitator), vectors=[])


def push_live(browser: Browser, h: Hostile, vectors: list[str]) -> None:
    """Open pages stay open while others post: pushed comments, replies, an edit, a broadcast and a phase
    title go through live.js into the DOM."""
    first = h.workshop.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position").first()
    if LiveState.objects.get(pk=h.workshop.pk).current_phase_id != first.pk:
        in_thread(h.go, first)  # the last push moved on to the reflection
    watcher = browser.page_for(h.guests[0][1])
    staff = browser.page_for(h.facilitator_client)
    watcher.goto(f"{browser.base}/w/{h.workshop.pk}/live/", timeout=60_000)
    staff.goto(f"{browser.base}/w/{h.workshop.pk}/control/", timeout=60_000)
    for page in (watcher, staff):
        expect(page.locator("[data-connection]")).to_have_attribute("data-state", re.compile("live|polling"))
    phase = LiveState.objects.get(pk=h.workshop.pk).current_phase
    before = Comment.objects.filter(phase=phase).count()
    shown = {id(page): page.locator(".comment-text").count() for page in (watcher, staff)}

    def post_all():
        writer = h.guests[1][1]
        ids = []
        for vector in vectors:
            data = {"phase": phase.pk, "text": vector, "client_id": str(uuid.uuid4())}
            ids.append(h.post(writer, h.url("facilitation:comment_new"), data, **JSON).json()["id"])
        data = {"phase": phase.pk, "text": vectors[0], "client_id": str(uuid.uuid4()), "parent": ids[0]}
        h.post(h.guests[2][1], h.url("facilitation:comment_new"), data, **JSON)
        h.post(writer, h.url("facilitation:comment_edit", ids[1]), {"text": vectors[-1]}, **JSON)
        h.post(h.facilitator_client, h.url("facilitation:control_action", "broadcast"), {"text": vectors[2][:500]})

    in_thread(post_all)
    for page in (watcher, staff):
        wanted = shown[id(page)] + len(vectors) + 1  # the comments and the reply
        page.wait_for_function(
            "wanted => document.querySelectorAll('.comment-text').length >= wanted", arg=wanted, timeout=15_000
        )
        expect(page.locator("[data-broadcast-text]")).to_have_count(1, timeout=15_000)
    assert Comment.objects.filter(phase=phase).count() == before + len(vectors) + 1
    browser.check(watcher, "participant's page after live pushes")
    browser.check(staff, "facilitator's controls after live pushes")

    # the next phase, with a hostile title, instructions and prompts, arrives as a push with its panel
    reflection = h.workshop.phases.filter(kind=Phase.Kind.REFLECTION).order_by("position").first()
    in_thread(h.go, reflection)
    expect(watcher.locator(".phase-title")).to_have_text(reflection.title.strip(), timeout=15_000)
    expect(staff.locator("[data-current-phase-title]")).to_have_text(reflection.title.strip(), timeout=15_000)
    browser.check(watcher, "participant's page after a pushed phase")
    browser.check(staff, "facilitator's controls after a pushed phase")


def push_ideas(browser: Browser, h: Hostile, vectors: list[str]) -> None:
    """Ideas sent while the participants' and the facilitator's pages are open arrive through ideas.js."""
    watcher = browser.page_for(h.guests[0][1])
    staff = browser.page_for(h.facilitator_client)
    for page, path in ((watcher, "live"), (staff, "control")):
        page.goto(f"{browser.base}/w/{h.workshop.pk}/{path}/", timeout=60_000)
        expect(page.locator("[data-connection]")).to_have_attribute("data-state", re.compile("live|polling"))
    shown = {id(page): page.locator(".idea-text").count() for page in (watcher, staff)}
    phase = LiveState.objects.get(pk=h.workshop.pk).current_phase

    def post_all():
        for vector in vectors:
            data = {"phase": phase.pk, "text": vector[:500], "client_id": str(uuid.uuid4())}
            assert h.post(h.guests[1][1], h.url("facilitation:idea_new"), data, **JSON).status_code == 201

    in_thread(post_all)
    for page in (watcher, staff):
        wanted = shown[id(page)] + len(vectors)
        page.wait_for_function(
            "wanted => document.querySelectorAll('.idea-text').length >= wanted", arg=wanted, timeout=15_000
        )
    browser.check(watcher, "participant's ideas after live pushes")
    browser.check(staff, "facilitator's ideas after live pushes")


def quick_planning(h: Hostile) -> None:
    """What the live stages need, made directly (the planning forms are covered by the faults run and by the
    server-side scan): the default agenda with an idea collection and two prioritisations, hostile names."""
    from facilitation import services
    from tests.workshops.factories import ParticipantFactory
    from workshops.models import Participant

    w = h.workshop
    services.agenda_create_default(workshop=w)
    services.phase_create(workshop=w, kind=Phase.Kind.IDEAS, title=h.take(200), duration_minutes=10)
    for voting in ("pairwise", "dots"):
        services.phase_create(
            workshop=w, kind=Phase.Kind.PRIORITISATION, title=h.take(200), duration_minutes=10, voting=voting
        )
    for number in range(4):
        ParticipantFactory(workshop=w, name=h.take(200), organisation_name=h.take(200), department=h.take(200))
    ParticipantFactory(workshop=w, name=h.take(200), role=Participant.Role.GROUP_LEADER)


def test_no_vector_runs_in_the_browser(asgi_live_server, new_page):
    """The normal suite: the pages whose scripts insert hostile text (live.js, ideas.js, voting.js,
    bigscreen.js), with pages open while more arrives; the whole corpus where many items live."""
    browser = Browser(new_page, asgi_live_server)
    h = in_thread(hostile_workshop)
    posted = xss_corpus.sample(11)  # one of each family through the forms; the rest stored directly
    h.vectors = posted
    bulk = [vector for vector in xss_corpus.vectors() if vector not in posted]

    in_thread(quick_planning, h)
    pages = in_thread(stage_comments, h, posted, bulk)
    browser.open_all(pages, {"participant's reflection"})
    # back on the first case: the page shows every comment, and live pushes arrive
    first = h.workshop.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position").first()
    in_thread(h.go, first)
    # the latest 25 comments of each thread (a page of all 270 takes seconds: the faults run opens those)
    live_pages = {"participant's live page", "facilitator's controls", "big screen"}
    browser.open_all(pages, live_pages, latest_only=live_pages)
    push_live(browser, h, xss_corpus.sample(12, offset=11))
    in_thread(stage_ideas, h, posted, bulk)
    push_ideas(browser, h, xss_corpus.sample(12, offset=23))
    pages, _dots = in_thread(stage_voting, h)
    browser.open_all(pages, {"participant's duel", "facilitator's ranking", "big screen ranking"})
    assert browser.findings == []
    assert browser.opened >= 7


@pytest.mark.faults
def test_every_vector_on_every_page_in_the_browser(asgi_live_server, new_page):
    """The exhaustive run: the whole corpus through the forms, every page of every stage opened."""
    browser = Browser(new_page, asgi_live_server)
    h = in_thread(hostile_workshop)
    vectors = xss_corpus.vectors()
    h.vectors = vectors
    pages, _previews = in_thread(stage_planning, h)
    browser.open_all(pages)
    pages = in_thread(stage_comments, h, vectors)
    browser.open_all(pages)
    first = h.workshop.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position").first()
    in_thread(h.go, first)
    browser.open_all(pages)
    for offset in range(0, len(vectors), 40):
        push_live(browser, h, vectors[offset : offset + 40])
    browser.open_all(in_thread(stage_ideas, h, vectors))
    for offset in range(0, len(vectors), 40):
        push_ideas(browser, h, vectors[offset : offset + 40])
    pages, dots = in_thread(stage_voting, h)
    browser.open_all(pages)
    browser.open_all(in_thread(stage_dots, h, dots))
    browser.open_all(in_thread(stage_rounds, h, vectors))
    browser.open_all(in_thread(stage_feedback, h, vectors))
    browser.open_all(in_thread(stage_report, h))
    assert browser.findings == []


def test_the_hooks_see_an_injection(asgi_live_server, new_page):
    """The checks above can fail: a page with injected markup, served with and without the app's CSP."""
    from django.test import Client

    csp = Client().get("/")["Content-Security-Policy"]
    body = "<!doctype html><p>x</p><img src=/nowhere.png onerror=alert(42420001)><script>window.__xss=42420002</script>"
    browser = Browser(new_page, asgi_live_server)
    for headers in ({"Content-Security-Policy": csp, "Content-Type": "text/html"}, {"Content-Type": "text/html"}):
        guest = Client()
        page = browser.page_for(guest)
        page.route(f"{asgi_live_server}/probe", lambda route, _request, h=headers: route.fulfill(body=body, headers=h))
        page.goto(f"{asgi_live_server}/probe")
        browser.check(page, "probe")
    found = "\n".join(browser.findings)
    assert "script-src" in found  # the CSP violation
    assert "IMG onerror=alert(42420001)" in found and "script window.__xss" in found  # the DOM check
    assert "alert(42420001)" in found and "window.__xss = 42420002" in found  # without CSP, the calls


def test_decline_reasons_and_admin_edits_do_not_run_in_the_browser(asgi_live_server, new_page):
    """The decline reason (tests/security/test_xss_mail.py) and the admin's forms (test_xss_admin.py) with one
    vector per family, their pages opened in Chromium: the app's pages that show them and the admin's own."""
    from contextlib import nullcontext

    from tests.security.test_xss_admin import pages as admin_pages
    from tests.security.test_xss_admin import run as admin_run
    from tests.security.test_xss_mail import decline_everywhere

    def build():
        shown: list = []
        facilitator = FacilitatorFactory(email="hylkaaja@example.fi")
        findings = decline_everywhere(xss_corpus.sample(11), facilitator, lambda **_kw: nullcontext(), shown)
        typist, admin_findings, world = admin_run(xss_corpus.sample(11, offset=3))
        shown += [(label, client, url) for label, (client, url, _admin) in admin_pages(world, typist).items()]
        return findings + admin_findings, shown

    server_findings, shown = in_thread(build)
    assert server_findings == []
    browser = Browser(new_page, asgi_live_server)
    for label, client, url in shown:
        if "autocomplete" not in label:
            browser.open(Page(label, client, url))
    assert browser.findings == [], "\n".join(browser.findings)
    assert browser.opened >= 25
