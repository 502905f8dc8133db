"""Finnish by default, Swedish and English one click away, and the choice sticks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_finnish_is_the_default_even_for_an_english_browser(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="fi">' in html
    assert response["Content-Language"] == "fi"
    assert "Siirry pääsisältöön" in html


@pytest.mark.parametrize(
    ("language", "skip_link"), [("sv", "Hoppa till huvudinnehållet"), ("en", "Skip to main content")]
)
def test_language_switcher_sets_a_cookie_that_sticks(client, language, skip_link):
    response = client.post(reverse("set_language"), {"language": language, "next": "/account/login/"})
    assert response.status_code == 302
    assert response.url == "/account/login/"
    for _ in range(2):
        page = client.get(reverse("home"))
        assert f'<html lang="{language}">' in page.content.decode()
        assert skip_link in page.content.decode()


def test_language_switcher_refuses_foreign_redirects_and_unknown_languages(client):
    response = client.post(reverse("set_language"), {"language": "de", "next": "https://evil.example/"})
    assert response.url == "/"
    assert '<html lang="fi">' in client.get("/").content.decode()


def test_signed_in_users_language_is_saved_to_their_profile(client, plain_user):
    client.post(reverse("account_login"), {"login": plain_user.email, "password": PASSWORD})
    client.post(reverse("set_language"), {"language": "sv"})
    plain_user.refresh_from_db()
    assert plain_user.language == "sv"
    # a new device without the cookie gets the profile's language after signing in
    client.cookies.clear()
    client.post(reverse("account_login"), {"login": plain_user.email, "password": PASSWORD})
    assert '<html lang="sv">' in client.get("/").content.decode()


def test_every_page_has_a_visible_language_switcher(client):
    for url in [
        reverse("home"),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
    ]:
        html = client.get(url).content.decode()
        for code, name in [("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")]:
            assert f'value="{code}" lang="{code}"' in html, url
            assert name in html
