"""axe-core on every GET page of the app and on its important states, in Finnish and in Swedish: 0 violations.

One seeded workshop is walked from planning through the live phases (case, small-group rounds, ideas,
pairwise duel, dot voting, feedback) to its report; each role keeps one browser context, and at every
stage each page is opened in both languages (the switcher's cookie) and checked. Every failure is
collected, so one run names every page that needs fixing.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from config.errors import server_error
from facilitation import services
from facilitation.models import Phase
from facilitation.views_join import FAILED_ATTEMPTS_LIMIT
from reports.models import Category
from reports.services import report_share_set
from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, OrganisationFactory
from tests.browser.test_live import outside_the_event_loop, signed_in
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant, Workshop
from workshops.services import participant_issue_token

# About 150 axe runs take minutes (7 on a loaded 2-core machine), so `make test-faults` runs this audit, in CI too.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]
LANGUAGES = ("fi", "sv")
LIVE = 5000  # ms for a push to arrive
# the error pages' own statuses, which Chromium logs as failed loads
EXPECTED_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (403|404|429|500)\b")
IDEAS = ["Ulko-opetusta joka viikko", "Terveydenhoitaja joka kouluun", "Vähemmän ruutuaikaa", "Lyhyemmät päivät"]


def _seed():
    organisation = OrganisationFactory(name="Esimerkkilän kaupunki")
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", name="Fanni Fasilitaattori")
    contact = ContactPersonFactory(email="yhteys@example.fi", name="Yrjö Yhteyshenkilö", organisation=organisation)
    workshop = WorkshopFactory(organisation=organisation, title="Parastaminen-työpaja", language="fi")
    cases = [
        CaseFactory(workshop=workshop, position=position, title=title)
        for position, title in enumerate(["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"], start=1)
    ]
    requested = WorkshopFactory(organisation=organisation, title="Uusi pyyntö", status=Workshop.Status.REQUESTED)
    aino = ParticipantFactory(workshop=workshop, name="Aino Asukas")
    leader = ParticipantFactory(workshop=workshop, name="Rauha Ryhmänvetäjä", role=Participant.Role.GROUP_LEADER)
    for index in range(5):
        ParticipantFactory(workshop=workshop, name=f"Osallistuja {index}", organisation_name=f"Kunta {index % 2}")
    Category.objects.create(workshop=workshop, name="Osaaminen")
    Category.objects.create(workshop=workshop, name="Yhteistyö", colour="#7a1f5c")
    services.question_add(workshop=workshop, text="Mikä toimi?", kind="text")
    return facilitator, contact, workshop, cases, requested, aino, leader


def _go_live(workshop, facilitator):
    """The default agenda plus ideas, a pairwise duel, dot voting and feedback; started and joinable by code."""
    services.live_start(workshop=workshop, by=facilitator)
    ideas = services.phase_create(
        workshop=workshop, kind=Phase.Kind.IDEAS, title="Ideat", duration_minutes=10, prompts=["Mitä kehitettäisiin?"]
    )
    duel = services.phase_create(
        workshop=workshop, kind=Phase.Kind.PRIORITISATION, title="Parivertailu", duration_minutes=10
    )
    dots = services.phase_create(
        workshop=workshop, kind=Phase.Kind.PRIORITISATION, title="Pisteäänestys", duration_minutes=10, voting="dots"
    )
    feedback = services.phase_create(workshop=workshop, kind=Phase.Kind.FEEDBACK, title="Palaute", duration_minutes=5)
    author = workshop.participants.exclude(role=Participant.Role.GROUP_LEADER).last()
    for text in IDEAS:
        IdeaFactory(phase=ideas, text=text, author_participant=author)
    services.join_code_set(workshop=workshop, enabled=True)
    services.phase_go(workshop=workshop, offset=1)  # the first case's presentation: people write
    return {"ideas": ideas, "duel": duel, "dots": dots, "feedback": feedback}


def _start_rounds(workshop):
    """Everyone is present; the first small-group round starts."""
    Participant.objects.filter(workshop=workshop).update(first_joined_at=timezone.now())
    services.phase_go(workshop=workshop, phase=workshop.phases.get(kind=Phase.Kind.ROUNDS))
    services.rotation_update(workshop=workshop, data={"min_size": 2, "max_size": 3})
    services.rounds_plan(workshop=workshop)
    services.round_start(workshop=workshop, number=1)


def _share(workshop):
    with transaction.atomic():
        return report_share_set(workshop=workshop, action="on")


def _serve(status, body):
    def fulfil(route):
        route.fulfill(status=status, body=body, content_type="text/html; charset=utf-8")

    return fulfil


def _server_error():
    """The 500 page exactly as the handler makes it (it uses no request: the failure may be anywhere)."""
    return server_error(None)


class Audit:
    """Opens pages in each language and runs axe; collects what fails instead of stopping at the first."""

    def __init__(self, base, check):
        self.base = base
        self.check = check
        self.failures: list[str] = []
        self.checked = 0

    def language(self, page, language):
        page.context.add_cookies([{"name": "kehittamo_language", "value": language, "url": self.base}])

    def state(self, page, label):
        """Check the page as it is now."""
        try:
            self.check(page, label)
        except AssertionError as failure:
            self.failures.append(str(failure))
        self.checked += 1

    def error_pages(self, page):
        """The 403, 404 and 500 pages as production renders them (the live server runs with DEBUG on, which
        shows Django's own pages instead): rendered here, where DEBUG is off, and served at their address."""
        client = Client(raise_request_exception=False)
        for language in LANGUAGES:
            client.cookies["kehittamo_language"] = language
            for status, path in ((404, "/no-such-page/"), (403, "/facilitator/"), (500, "/fails/")):
                if status == 403:
                    client.force_login(ContactPersonFactory())
                response = client.get(path) if status != 500 else _server_error()
                assert response.status_code == status
                page.route(self.base + path, _serve(status, response.content.decode()))
                page.goto(self.base + path)
                page.unroute(self.base + path)
                self.state(page, f"{status} page ({language})")
                client.logout()

    def pages(self, page, paths, *, status=200):
        for language in LANGUAGES:
            self.language(page, language)
            for path in paths:
                response = page.goto(self.base + path)
                assert response.status == status, f"{path}: {response.status}"
                expect(page.locator("html")).to_have_attribute("lang", language)
                self.state(page, f"{path} ({language})")


def test_every_page_and_state_in_finnish_and_swedish(asgi_live_server, new_page, assert_accessible):
    base = asgi_live_server
    facilitator, contact, workshop, cases, requested, aino, leader = outside_the_event_loop(_seed)
    w = workshop.pk
    audit = Audit(base, assert_accessible)

    anonymous = new_page()
    fac = new_page()
    signed_in(fac, base, facilitator)
    con = new_page()
    signed_in(con, base, contact)

    # --- before the workshop ----------------------------------------------------------------------
    audit.pages(
        anonymous,
        [
            "/",
            "/account/login/",
            "/account/signup/",
            "/account/password/reset/",
            "/join/",
        ],
    )
    audit.pages(anonymous, ["/j/not-a-valid-token/"], status=404)
    audit.error_pages(anonymous)
    audit.pages(con, ["/", "/workshops/new/", f"/w/{w}/manage/", f"/w/{w}/participants/"])
    participant = aino
    audit.pages(
        fac,
        [
            "/",
            "/facilitator/",
            "/workshops/create/",
            f"/w/{requested.pk}/accept/",
            f"/w/{requested.pk}/decline/",
            f"/w/{w}/manage/",
            f"/w/{w}/edit/",
            f"/w/{w}/cases/new/",
            f"/w/{w}/cases/{cases[0].pk}/edit/",
            f"/w/{w}/cases/{cases[0].pk}/delete/",
            f"/w/{w}/participants/",
            f"/w/{w}/participants/upload/",
            f"/w/{w}/participants/{participant.pk}/edit/",
            f"/w/{w}/invitations/",
            f"/w/{w}/agenda/",
            f"/w/{w}/agenda/new/",
            f"/w/{w}/rounds/",
            f"/w/{w}/survey/",
            "/methods/",
            "/methods/import/",
            f"/w/{w}/save-as-template/",
            f"/w/{w}/apply-template/",
            "/admin/",
        ],
    )

    # form errors: an invalid registration, an empty join form
    for language in LANGUAGES:
        audit.language(con, language)
        con.goto(f"{base}/workshops/new/")
        con.locator("form[method=post] [type=submit]").last.click()
        expect(con.locator(".errorlist, [aria-invalid=true]").first).to_be_visible()
        audit.state(con, f"registration form with errors ({language})")
        audit.language(anonymous, language)
        anonymous.goto(f"{base}/join/")
        anonymous.locator("form[method=post] [type=submit]").last.click()
        expect(anonymous.locator(".errorlist, [aria-invalid=true]").first).to_be_visible()
        audit.state(anonymous, f"join form with errors ({language})")

    # --- live: a case presentation -----------------------------------------------------------------
    phases = outside_the_event_loop(_go_live, workshop=workshop, facilitator=facilitator)
    agenda = list(workshop.phases.order_by("position").values_list("pk", flat=True))
    audit.pages(
        fac,
        [
            f"/w/{w}/control/",
            f"/w/{w}/control/close/",
            f"/w/{w}/agenda/{agenda[1]}/edit/",
            f"/w/{w}/agenda/{agenda[1]}/delete/",
            f"/w/{w}/join-code/",
            f"/w/{w}/bigscreen/",
        ],
    )
    guest = new_page()
    guest.goto(f"{base}/j/{participant_issue_token(participant=aino)}/")
    audit.pages(guest, [f"/w/{w}/", f"/w/{w}/live/"])
    for language in LANGUAGES:
        audit.language(guest, language)
        guest.goto(f"{base}/w/{w}/live/")
        expect(guest.locator("[data-connection]")).to_have_attribute("data-state", "live")
        # a form error: an empty observation
        form = guest.locator("form[data-composer]:not([data-kept])").first
        form.get_by_role("button", name=re.compile("Lähetä|Skicka")).click()
        audit.state(guest, f"empty observation sent ({language})")
        # a live update arrives: the facilitator's message and someone's observation
        fac.goto(f"{base}/w/{w}/control/")
        fac.locator("#broadcast-text").fill(f"Kahvi on valmis {language}")
        fac.locator("form:has(#broadcast-text) [type=submit]").click()
        expect(guest.get_by_role("alert").filter(has_text=f"Kahvi on valmis {language}")).to_be_visible(timeout=LIVE)
        audit.state(guest, f"broadcast arrived ({language})")
        form.locator("textarea").fill(f"Havainto {language}")
        form.get_by_role("button", name=re.compile("Lähetä|Skicka")).click()
        comment = guest.locator(".comment-text").filter(has_text=f"Havainto {language}")
        expect(comment).to_be_visible(timeout=LIVE)
        # the owner's edit tools opened
        guest.locator("details[data-owner]:not([hidden]) summary").first.click()
        audit.state(guest, f"own observation with its tools open ({language})")

    # --- small-group rounds ---------------------------------------------------------------------------
    outside_the_event_loop(_start_rounds, workshop=workshop)
    leader_page = new_page()
    leader_page.goto(f"{base}/j/{participant_issue_token(participant=leader)}/")
    audit.pages(guest, [f"/w/{w}/live/"])
    expect(guest.locator(".room-call")).to_be_visible()  # the participant's room view
    audit.pages(leader_page, [f"/w/{w}/live/"])
    expect(leader_page.locator("[data-summary-status]")).to_have_count(1)  # the group leader's console
    audit.pages(fac, [f"/w/{w}/rounds/", f"/w/{w}/rooms/live/"])

    # --- ideas, the duel, dot voting, feedback ---------------------------------------------------------
    for key in ("ideas", "duel", "dots", "feedback"):
        outside_the_event_loop(services.phase_go, workshop=workshop, phase=phases[key])
        audit.pages(guest, [f"/w/{w}/live/"])
        if key == "duel":
            for language in LANGUAGES:
                audit.language(guest, language)
                guest.goto(f"{base}/w/{w}/live/")
                start = guest.locator("form[data-duel-start] button")
                if start.count():  # in the second language the pair from the first is still waiting
                    start.click()
                expect(guest.locator("form[data-duel-form]")).to_be_visible()
                audit.state(guest, f"a duel shown ({language})")
            audit.pages(fac, [f"/w/{w}/control/", f"/w/{w}/bigscreen/"])  # with votes in the ranking

    # --- after the workshop ---------------------------------------------------------------------------
    outside_the_event_loop(services.live_close, workshop=workshop, by=facilitator)
    share = outside_the_event_loop(_share, workshop=workshop)
    audit.pages(
        fac,
        [
            f"/w/{w}/manage/",
            f"/w/{w}/report/",
            f"/w/{w}/export/",
            f"/w/{w}/categories/",
            f"/w/{w}/categories/tag/",
            f"/w/{w}/summaries/",
        ],
    )
    audit.pages(anonymous, [reverse("reports:report_shared", args=[share.token])])
    audit.pages(guest, [f"/w/{w}/", f"/w/{w}/feedback/"])
    audit.pages(con, [f"/w/{w}/report/"])
    category = Category.objects.filter(workshop=workshop).first()
    audit.pages(fac, [f"/w/{w}/categories/{category.pk}/{view}/" for view in ("edit", "merge")])
    audit.pages(fac, [f"/w/{w}/categories/import/"])

    # --- too many attempts ----------------------------------------------------------------------------
    for language in LANGUAGES:
        cache.set("join-code-failures:127.0.0.1", FAILED_ATTEMPTS_LIMIT, timeout=60)
        audit.language(anonymous, language)
        anonymous.goto(f"{base}/join/")
        anonymous.locator("input[name=code]").fill("ABCDEF")
        anonymous.locator("input[name=name]").fill("Aino")
        anonymous.locator("form[method=post] [type=submit]").last.click()
        expect(anonymous.locator("h1")).to_be_visible()
        audit.state(anonymous, f"429 page ({language})")
    cache.delete("join-code-failures:127.0.0.1")

    assert audit.failures == [], f"{len(audit.failures)} of {audit.checked} checks failed:\n" + "\n".join(
        audit.failures
    )
    for page in (anonymous, fac, con, guest, leader_page):  # no CSP violation or script error on the way
        errors = [error for error in page.console_errors if not EXPECTED_STATUS.search(error)]
        assert errors == [], errors
