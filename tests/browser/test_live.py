"""The live workshop in real browsers over Daphne: the facilitator leads, participants follow within a
second, comments arrive without reloading, and no typed word is lost offline or on reload."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from facilitation.models import Comment
from tests.accounts.factories import FacilitatorFactory
from tests.browser.helpers import in_english
from tests.facilitation.conftest import comment_as
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.services import participant_issue_token

pytestmark = pytest.mark.django_db(transaction=True)
WITHIN_A_SECOND = 1000  # ms


def signed_in(page, base, user):
    """Sign in through a session made here: the server process was forked before this test's
    password-hasher setting, so the log-in form itself is covered by the accounts browser tests."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    in_english(page, base)


def join(new_page, base, person):
    page = new_page()
    in_english(page, base)
    page.goto(f"{base}/j/{participant_issue_token(participant=person)}/")
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", re.compile("live|polling"))
    return page


def outside_the_event_loop(service, **arguments):
    """Call a service that broadcasts from a worker thread: Playwright's loop owns this one."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return service(**arguments)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def said(page, text):
    """A comment's text as shown in a thread (not the copy inside its edit form)."""
    return page.locator(".comment-text").filter(has_text=text)


def composer(page, index=0):
    return page.locator("form[data-composer]:not([data-kept])").nth(index)


def send(page, text, index=0):
    form = composer(page, index)
    form.locator("textarea").fill(text)
    form.get_by_role("button", name="Send").click()


@pytest.fixture
def setting(transactional_db):
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", name="Fanni Fasilitaattori")
    workshop = WorkshopFactory(title="Parastaminen live", language="en")  # the agenda is made in this language
    for position, title in enumerate(["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    aino = ParticipantFactory(workshop=workshop, name="Aino Asukas")
    bertta = ParticipantFactory(workshop=workshop, name="Bertta Bussikuski")
    return facilitator, workshop, aino, bertta


def test_facilitator_leads_and_two_participants_follow_live(asgi_live_server, new_page, assert_accessible, setting):
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting

    fac = new_page()
    signed_in(fac, base, facilitator)
    fac.goto(f"{base}/w/{workshop.pk}/control/")
    fac.get_by_role("button", name="Start the workshop").click()
    expect(fac.locator("[data-current-phase-title]")).to_have_text("Welcome and introduction")

    one = join(new_page, base, aino)
    two = join(new_page, base, bertta)
    for page in (one, two):
        expect(page.locator(".phase-title")).to_have_text("Welcome and introduction")

    # the phase moves on: everyone follows within a second, without reloading
    fac.get_by_role("button", name="Next phase").click()
    for page in (one, two):
        expect(page.locator(".phase-title")).to_have_text("Case: Aamupalaveri", timeout=WITHIN_A_SECOND)
        expect(page.get_by_role("heading", name="Observations and questions on the case")).to_be_visible()

    # a timer is a deadline counted down on each screen
    fac.get_by_label("Minutes").fill("2")
    fac.get_by_role("button", name="Start the timer").click()
    for page in (one, two):
        display = page.locator("[data-timer-display]")
        expect(display).to_have_text(re.compile(r"^(2:00|1:5\d)$"), timeout=WITHIN_A_SECOND)

    # a broadcast is shown prominently and announced (role=alert)
    fac.get_by_label(re.compile("Shown prominently")).fill("Kahvi on valmis")
    fac.get_by_role("button", name="Send the message").click()
    for page in (one, two):
        expect(page.get_by_role("alert").filter(has_text="Kahvi on valmis")).to_be_visible(timeout=WITHIN_A_SECOND)

    # one writes, the other sees it within a second
    send(one, "Aamupalaveri säästää aikaa")
    expect(said(two, "Aamupalaveri säästää aikaa")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(said(fac, "Aamupalaveri säästää aikaa")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(two.locator(".comment").filter(has_text="Aamupalaveri säästää aikaa")).to_contain_text("Aino Asukas")

    # the facilitator hides a comment: it disappears live for everyone else
    send(two, "Asiaton huomautus")
    hidden = fac.locator(".comment").filter(has_text="Asiaton huomautus")
    hidden.get_by_role("button", name="Hide from everyone").click()
    expect(said(one, "Asiaton huomautus")).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(hidden).to_contain_text("Hidden from participants")

    # anonymous: the others see no name
    composer(one).get_by_label("Post anonymously").check()
    send(one, "Johdon pitäisi kuunnella enemmän")
    anonymous = two.locator(".comment").filter(has_text="Johdon pitäisi kuunnella enemmän")
    expect(anonymous).to_contain_text("Anonymous", timeout=WITHIN_A_SECOND)
    expect(anonymous).not_to_contain_text("Aino")

    # offline mid-post: the comment waits on the device and is stored exactly once when back online
    one.context.set_offline(True)
    send(one, "Kirjoitettu ilman yhteyttä")
    expect(one.locator("[data-outbox]")).to_be_visible()
    expect(one.locator("[data-outbox-list]")).to_contain_text("Kirjoitettu ilman yhteyttä")
    time.sleep(1)
    one.context.set_offline(False)
    expect(said(two, "Kirjoitettu ilman yhteyttä")).to_be_visible(timeout=15_000)
    expect(one.locator("[data-outbox]")).to_be_hidden(timeout=15_000)
    assert Comment.objects.filter(text="Kirjoitettu ilman yhteyttä").count() == 1

    # what is being typed is not replaced by pushes and survives a reload
    draft = composer(two).locator("textarea")
    draft.fill("Keskeneräinen ajatus")
    send(one, "Uusi kommentti sillä välin")
    expect(said(two, "Uusi kommentti sillä välin")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(draft).to_have_value("Keskeneräinen ajatus")
    two.reload()
    expect(composer(two).locator("textarea")).to_have_value("Keskeneräinen ajatus")

    # the phase changes while someone is typing: the text is kept for them
    fac.get_by_role("button", name="Next phase").click()
    expect(two.locator(".phase-title")).to_have_text("Reflection: Aamupalaveri", timeout=WITHIN_A_SECOND)
    kept = two.locator("[data-kept-drafts]")
    expect(kept).to_be_visible()
    expect(kept.locator("textarea")).to_have_value("Keskeneräinen ajatus")

    assert_accessible(one, "participant's live view")
    assert_accessible(two, "participant's live view with kept text")
    fac.reload()
    assert_accessible(fac, "facilitator's controls")
    # The only errors allowed are the network failures this test caused on purpose.
    caused = ("ERR_INTERNET_DISCONNECTED",)
    assert not [e for e in one.console_errors + two.console_errors if not any(c in e for c in caused)]


def test_a_comment_goes_over_the_socket_and_a_lost_answer_makes_no_copy(asgi_live_server, new_page, setting):
    """The page sends a comment on its open socket, not as an HTTP request. When the server stored it but
    the answer never came, the page posts it after the socket's wait and gets the stored one back."""
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)
    lose, lost = [], []

    def between_page_and_server(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if lose and '"kind": "comment",' in message:
                lost.append(lose.pop())  # the server stored it; the page never hears
                return
            ws.send(message)

        server.on_message(from_server)

    page = new_page()
    page.route_web_socket(re.compile(r"/ws/"), between_page_and_server)
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    in_english(page, base)
    page.goto(f"{base}/j/{participant_issue_token(participant=aino)}/")
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live")
    other = join(new_page, base, bertta)

    send(page, "Socketin kautta")
    expect(said(other, "Socketin kautta")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(page.locator(".comment").filter(has_text="Socketin kautta")).to_have_count(1)
    expect(composer(page).locator("[data-composer-status]")).to_have_text("Sent.")
    assert posts == []

    lose.append("Vastaus hukkui matkalla")
    send(page, "Vastaus hukkui matkalla")
    expect(said(other, "Vastaus hukkui matkalla")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(page.locator("[data-outbox-list]")).to_contain_text("Vastaus hukkui matkalla")
    expect(page.locator("[data-outbox]")).to_be_hidden(timeout=10_000)
    expect(page.locator(".comment").filter(has_text="Vastaus hukkui matkalla")).to_have_count(1)
    assert lost and [url.rsplit("/", 2)[-2] for url in posts] == ["comments"]
    assert Comment.objects.filter(text="Vastaus hukkui matkalla").count() == 1
    expect(other.locator(".comment").filter(has_text="Vastaus hukkui matkalla")).to_have_count(1)


def test_a_pushed_comment_has_the_tools_of_a_rendered_one(asgi_live_server, new_page, assert_accessible, setting):
    """A push carries a comment's text and meta; the page builds its reactions, reply, edit and delete from its
    template of a comment. Each of them works on a pushed comment as on one in the page as served."""
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)
    one = join(new_page, base, aino)
    two = join(new_page, base, bertta)

    send(one, "Aamupalaveri kestää liian kauan")
    expect(said(two, "Aamupalaveri kestää liian kauan")).to_be_visible(timeout=WITHIN_A_SECOND)
    stored = Comment.objects.get(text="Aamupalaveri kestää liian kauan")
    theirs = two.locator(f"#comment-{stored.pk}")
    mine = one.locator(f"#comment-{stored.pk}")
    expect(theirs).to_contain_text("Aino Asukas")
    expect(theirs.get_by_text("Edit or delete")).to_be_hidden()  # not Bertta's
    expect(mine.get_by_text("Edit or delete")).to_be_visible()  # Aino's, from her answer

    # A reaction on the pushed copy counts on the author's page.
    theirs.get_by_role("button", name=re.compile("Agree")).click()
    expect(theirs.get_by_role("button", name=re.compile("Agree"))).to_have_attribute("aria-pressed", "true")
    expect(mine.locator("[data-reaction=agree] [data-count]")).to_have_text("1", timeout=WITHIN_A_SECOND)

    # A reply from the pushed copy's composer is stored under it and pushed under it.
    theirs.get_by_text("Reply", exact=True).click()
    theirs.get_by_label("Your reply").fill("Samaa mieltä, puolet riittäisi")
    theirs.get_by_role("button", name="Send reply").click()
    expect(mine.locator("[data-replies] .comment-text")).to_have_text(
        "Samaa mieltä, puolet riittäisi", timeout=WITHIN_A_SECOND
    )
    expect(theirs.locator("[data-replies] .comment-text")).to_have_text("Samaa mieltä, puolet riittäisi")
    reply = Comment.objects.get(text="Samaa mieltä, puolet riittäisi")
    assert (reply.parent_id, reply.phase_id, reply.author_participant_id) == (stored.pk, stored.phase_id, bertta.pk)
    expect(mine.locator(f"#comment-{reply.pk}").get_by_text("Reply", exact=True)).to_have_count(
        0
    )  # no replies to replies

    # The author edits the comment her page built: the box holds her text; the others see the change.
    mine.locator(":scope > article").get_by_text("Edit or delete").click()
    box = mine.locator(":scope > article").get_by_label("Your text")
    expect(box).to_have_value("Aamupalaveri kestää liian kauan")
    box.fill("Aamupalaveri kestää liian kauan, 30 min")
    mine.locator(":scope > article").get_by_role("button", name="Save changes").click()
    expect(theirs.locator(":scope > article .comment-text")).to_have_text(
        "Aamupalaveri kestää liian kauan, 30 min", timeout=WITHIN_A_SECOND
    )
    expect(theirs.locator(":scope > article .comment-meta")).to_contain_text("(edited)")

    # Bertta deletes her reply from the copy her page built from her answer; it goes from Aino's page.
    two.on("dialog", lambda dialog: dialog.accept())
    own_reply = two.locator(f"#comment-{reply.pk}")
    own_reply.get_by_text("Edit or delete").click()
    own_reply.get_by_role("button", name="Delete comment").click()
    expect(mine.locator(f"#comment-{reply.pk}")).to_have_count(0, timeout=WITHIN_A_SECOND)
    assert Comment.objects.get(pk=reply.pk).deleted_at is not None

    for page in (one, two):
        # Every stand-in was replaced, and no id is on the page twice.
        ids, stand_ins = page.evaluate(
            """() => {
              const ids = [...document.querySelectorAll("[id]")].map((element) => element.id);
              const values = [...document.querySelectorAll("[data-live] :not(template)")].flatMap(
                (element) => [...element.attributes].map((attribute) => attribute.value));
              return [ids, values.filter((value) => value.includes("199999990"))];
            }"""
        )
        assert len(set(ids)) == len(ids) and stand_ins == []
        assert not page.console_errors
    assert_accessible(two, "participant's live view with pushed comments")


def test_without_websockets_the_page_polls(asgi_live_server, new_page, setting):
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)

    blocked = new_page()
    blocked.add_init_script("window.WebSocket = undefined;")  # as behind a proxy that drops upgrades
    in_english(blocked, base)
    blocked.goto(f"{base}/j/{participant_issue_token(participant=aino)}/")
    expect(blocked.locator("[data-connection]")).to_have_attribute("data-state", "polling")
    other = join(new_page, base, bertta)
    send(other, "Näkyy myös ilman WebSocketia")
    expect(said(blocked, "Näkyy myös ilman WebSocketia")).to_be_visible(timeout=10_000)
    send(blocked, "Ja toiseen suuntaan")
    expect(said(other, "Ja toiseen suuntaan")).to_be_visible(timeout=WITHIN_A_SECOND)


def test_a_new_panel_keeps_the_keyboard_users_place(asgi_live_server, new_page, setting):
    """A push that re-renders the panel (a round starts, rooms change) while someone has tabbed to a
    button: the same button in the new panel has the focus, so Enter or Space still sends."""
    base = asgi_live_server
    facilitator, workshop, aino, _ = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)  # the first case: a composer
    page = join(new_page, base, aino)
    form = composer(page)
    form.locator("textarea").fill("Tabbed away from the text")
    button = form.get_by_role("button", name="Send")
    button.focus()
    page.evaluate("document.activeElement.dataset.before = '1'")
    page.evaluate("KehittamoLive.reloadPanel()")

    focused = page.locator(":focus")
    expect(focused).to_have_text("Send")
    assert page.evaluate("document.activeElement.dataset.before") is None  # a new panel, not the old button
    assert page.evaluate("!!document.activeElement.closest('form[data-composer]')")
    page.keyboard.press("Space")
    expect(said(page, "Tabbed away from the text")).to_be_visible()
    assert Comment.objects.filter(author_participant=aino, text="Tabbed away from the text").count() == 1


def test_a_phase_change_brings_its_panel_without_a_thousand_requests(asgi_live_server, new_page, setting):
    """The phase frame carries everyone's panel, so a participant's page asks the server for nothing."""
    base = asgi_live_server
    facilitator, workshop, aino, _ = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)
    phases = list(workshop.phases.order_by("position", "id"))
    page = join(new_page, base, aino)
    asked = []
    page.on("request", lambda request: "/live/panel/" in request.url and asked.append(request.url))

    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)
    expect(page.locator(".phase-title")).to_have_text(phases[2].title, timeout=WITHIN_A_SECOND)
    expect(page.locator(f'[data-panel-slot] [data-phase="{phases[2].pk}"]').first).to_be_attached()
    assert asked == []


def test_a_page_back_from_a_dropped_socket_catches_up_on_the_socket(asgi_live_server, new_page, setting):
    """Pushes lost while the connection was dying arrive with the catch-up after the page reconnects, asked
    for on the new socket: the page sends no HTTP request for it (a thousand reconnecting pages would)."""
    base = asgi_live_server
    facilitator, workshop, aino, bertta = setting
    from facilitation import services

    outside_the_event_loop(services.live_start, workshop=workshop, by=facilitator)
    outside_the_event_loop(services.phase_go, workshop=workshop, offset=1)
    dying, routes, answered = [], [], []

    def between_page_and_server(ws):
        routes.append(ws)
        server = ws.connect_to_server()

        def from_server(message):
            if '"kind": "catchup"' in message:
                answered.append(message)
            if not dying:
                ws.send(message)

        server.on_message(from_server)

    page = new_page()
    page.route_web_socket(re.compile(r"/ws/"), between_page_and_server)
    asked = []
    page.on("request", lambda request: "/live/events/" in request.url and asked.append(request.url))
    in_english(page, base)
    page.goto(f"{base}/j/{participant_issue_token(participant=aino)}/")
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live")
    for _ in range(70):  # the first catch-up is over (a first message can be lost while the route connects)
        if answered or asked:
            break
        page.wait_for_timeout(100)

    dying.append(True)
    outside_the_event_loop(comment_as, workshop=workshop, person=bertta, text="Lost in the dying socket")
    page.wait_for_timeout(300)
    expect(said(page, "Lost in the dying socket")).to_have_count(0)
    dying.clear()
    asked.clear()
    answered.clear()
    routes[-1].close(code=4000, reason="network blip")
    # back within live.js's reconnect delay (at most 1.5 s here), and not after the socket's 5 s for an answer
    expect(said(page, "Lost in the dying socket")).to_be_visible(timeout=4000)
    for _ in range(20):  # the route handler runs when Playwright's dispatcher gets to it
        if len(routes) == 2:
            break
        page.wait_for_timeout(100)
    assert len(routes) == 2 and asked == [] and answered  # the socket answered the catch-up
