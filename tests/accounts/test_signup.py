"""Sign-up, e-mail verification over real SMTP, log-in, password reset and their protections."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _link_in(message, prefix: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://\S+" + re.escape(prefix) + r"\S+", body)
    assert match, f"no link to {prefix} in the mail:\n{body}"
    return urlsplit(match.group(0)).path


def test_signup_sends_verification_over_smtp_and_the_link_verifies(client, smtp_sink):
    response = client.post(
        reverse("account_signup"),
        {"name": "Siiri Suunnittelija", "email": "Siiri@Example.fi", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="siiri@example.fi")
    assert user.name == "Siiri Suunnittelija"
    assert user.language == "fi"
    assert not EmailAddress.objects.get(user=user).verified

    [mail] = smtp_sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec.lower() == "siiri@example.fi"
    path = _link_in(mail, "/account/confirm-email/")

    page = client.get(path)
    assert page.status_code == 200
    assert "siiri@example.fi" in page.content.decode().lower()
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    # ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION: the user is signed in after following the link.
    assert client.get(reverse("home")).context["user"] == user


def test_unverified_user_cannot_sign_in(client, smtp_sink):
    client.post(
        reverse("account_signup"),
        {"name": "Ville", "email": "ville@example.fi", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.logout()
    response = client.post(reverse("account_login"), {"login": "ville@example.fi", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_signup_with_bad_input_shows_errors_tied_to_fields_and_saves_nothing(client):
    response = client.post(
        reverse("account_signup"), {"name": "", "email": "ei-osoite", "password1": "lyhyt", "password2": "eri"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert User.objects.count() == 0
    assert 'role="alert"' in html
    for field in ("id_email", "id_name"):
        assert f'id="{field}_errors"' in html
        assert re.search(rf'aria-describedby="[^"]*{field}_errors[^"]*"', html)
    assert 'aria-invalid="true"' in html
    assert "Syötä kelvollinen sähköpostiosoite." in html  # Finnish by default


def test_signup_does_not_reveal_existing_accounts(client, smtp_sink, plain_user):
    """Enumeration prevention: the same answer as for a new address; the owner is told by mail."""
    response = client.post(
        reverse("account_signup"),
        {"name": "Joku", "email": plain_user.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.filter(email=plain_user.email).count() == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == plain_user.email


def test_password_reset_answers_the_same_for_unknown_addresses(client, smtp_sink, plain_user):
    known = client.post(reverse("account_reset_password"), {"email": plain_user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "ei-ole@example.fi"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    smtp_sink.wait_for(1)
    path = _link_in(smtp_sink.messages[0], "/account/password/reset/key/")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "Uusi-salasana-2026!"
    done = client.post(form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    plain_user.refresh_from_db()
    assert plain_user.check_password(new_password)


def test_login_with_email_and_rate_limit_on_failures(client, plain_user):
    ok = client.post(reverse("account_login"), {"login": plain_user.email.upper(), "password": PASSWORD})
    assert ok.status_code == 302
    client.logout()
    for _ in range(5):
        failed = client.post(reverse("account_login"), {"login": plain_user.email, "password": "väärä"})
        assert failed.status_code == 200
    # after five failures even the right password is refused for a while, with a clear message
    blocked = client.post(reverse("account_login"), {"login": plain_user.email, "password": PASSWORD})
    assert blocked.status_code == 200
    assert "Liian monta virheellistä kirjautumisyritystä" in blocked.content.decode()
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_signup_flood_from_one_address_gets_a_friendly_429(client):
    statuses = []
    for n in range(22):
        response = client.post(
            reverse("account_signup"),
            {"name": "Tulva", "email": f"tulva{n}@example.fi", "password1": PASSWORD, "password2": PASSWORD},
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429
    assert "Liian monta yritystä" in response.content.decode()
    assert '<html lang="fi">' in response.content.decode()
