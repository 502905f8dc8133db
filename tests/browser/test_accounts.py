"""A newcomer's first minutes, in a real browser: languages, accessibility, sign-up by e-mail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Tosi-hyva-salasana-42"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["/", "/account/login/", "/account/signup/", "/account/password/reset/"])
def test_pages_have_no_axe_violations(live_server, new_page, assert_accessible, path, viewport):
    page = new_page(viewport=viewport)
    page.goto(live_server.url + path)
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    assert_accessible(page)
    # nothing is wider than a phone screen
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.console_errors == []


def test_language_switcher_works_by_keyboard_and_sticks(live_server, page, assert_accessible):
    page.goto(live_server.url + "/account/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirjaudu sisään")
    page.get_by_role("button", name="Svenska").focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page).to_have_url(re.compile(r"/account/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert_accessible(page, "login in Swedish")
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Skip to main content")).to_be_attached()


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Siirry pääsisältöön")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_sign_up_verify_by_mail_and_sign_in(live_server, new_page, smtp_sink, assert_accessible):
    page = new_page(viewport=PHONE)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Luo käyttäjätili").first.click()

    # first a mistake: the errors are announced, listed and tied to their fields
    page.get_by_label("Nimesi").fill("Maija Meikäläinen")
    page.get_by_label("Sähköposti").fill("maija@")
    page.get_by_label("Salasana", exact=True).fill(PASSWORD)
    page.get_by_label("Salasana (uudestaan)").fill(PASSWORD)
    page.get_by_role("button", name="Rekisteröidy").click()
    expect(page.get_by_role("alert")).to_contain_text("Korjaa seuraavat kohdat")
    email = page.get_by_label("Sähköposti")
    expect(email).to_have_attribute("aria-invalid", "true")
    described_by = email.get_attribute("aria-describedby")
    expect(page.locator(f"#{described_by.split()[0]}")).to_contain_text("sähköpostiosoite")
    expect(page.get_by_label("Nimesi")).to_have_value("Maija Meikäläinen")  # valid input is kept
    assert_accessible(page, "sign-up with errors")
    assert User.objects.count() == 0

    email.fill("maija@example.fi")
    page.get_by_label("Salasana", exact=True).fill(PASSWORD)
    page.get_by_label("Salasana (uudestaan)").fill(PASSWORD)
    page.get_by_role("button", name="Rekisteröidy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vahvista sähköpostiosoitteesi")

    [mail] = smtp_sink.wait_for(1)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/account/confirm-email/\S+", body).group(0)
    page.goto(link)
    assert_accessible(page, "confirm e-mail")
    page.get_by_role("button", name="Vahvista").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Organisaatiosi työpajat")
    page.get_by_role("button", name="Kirjaudu ulos").click()

    page.get_by_role("link", name="Kirjaudu sisään").first.click()
    page.get_by_label("Sähköposti").fill("MAIJA@example.fi")
    page.get_by_label("Salasana").fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Organisaatiosi työpajat")
