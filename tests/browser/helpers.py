"""Small steps many browser tests share: reading a page in English, signing in through the form."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD


def in_english(page, base: str) -> None:
    """Flows are checked in English, with the language cookie the switcher sets."""
    page.context.add_cookies([{"name": "kehittamo_language", "value": "en", "url": base}])


def sign_in(page, base: str, email: str) -> None:
    """Sign in with the English log-in form (call ``in_english`` first)."""
    page.goto(base + "/account/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in_finnish(page, base: str, email: str) -> None:
    """Sign in with the log-in form in its default language, Finnish."""
    page.goto(base + "/account/login/")
    page.get_by_label("Sähköposti").fill(email)
    page.get_by_label("Salasana").fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
