"""Security headers on every kind of response under the production settings, CSP without inline scripts,
a clean `check --deploy` in production mode, and security.txt."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import path as route
from django.urls import reverse

import config.urls
from facilitation import services
from facilitation.views_join import FAILED_ATTEMPTS_LIMIT

ROOT = Path(__file__).resolve().parent.parent


# A URL configuration for the 500 page: the site's own, plus one view that fails.
def _fails(request):
    raise RuntimeError("a bug")


urlpatterns = [*config.urls.urlpatterns, route("fails/", _fails)]
handler404 = config.urls.handler404
handler500 = config.urls.handler500

# The settings that decide the headers, read from a process started with the production environment.
SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
    "MIDDLEWARE",
]


@pytest.fixture(scope="module")
def production_settings() -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        f"print(json.dumps({{name: getattr(s, name) for name in {SECURITY_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False and values["SECURE_HSTS_SECONDS"] >= 31536000
    return values


@pytest.fixture
def production(settings, production_settings):
    """This process answers with the production security settings (over HTTPS, as behind its proxy)."""
    for name, value in production_settings.items():
        setattr(settings, name, value)
    settings.ROOT_URLCONF = __name__
    return settings


def _facilitator_client(workshop, facilitator) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(facilitator)
    return client


def _throttled_join(client):
    cache.set("throttle:join-code-failures:127.0.0.1", FAILED_ATTEMPTS_LIMIT, timeout=60)  # config/throttle.py
    return client.post(reverse("facilitation:join_code"), {"code": "WRONG", "name": "Aino"}, secure=True)


def _join_qr(client, workshop, facilitator):
    services.join_code_set(workshop=workshop, enabled=True)
    return _facilitator_client(workshop, facilitator).get(
        reverse("facilitation:join_qr", args=[workshop.pk]), secure=True
    )


# kind of response -> (how to get it, its status, its content type starts with)
RESPONSES = {
    "front page": (lambda c, w, f: c.get(reverse("home"), secure=True), 200, "text/html"),
    "allauth log-in": (lambda c, w, f: c.get(reverse("account_login"), secure=True), 200, "text/html"),
    "allauth password reset": (lambda c, w, f: c.get(reverse("account_reset_password"), secure=True), 200, "text/html"),
    "admin log-in": (lambda c, w, f: c.get("/admin/login/", secure=True), 200, "text/html"),
    "join with a code": (lambda c, w, f: c.get(reverse("facilitation:join_code"), secure=True), 200, "text/html"),
    "facilitator's control page": (
        lambda c, w, f: _facilitator_client(w, f).get(reverse("facilitation:control", args=[w.pk]), secure=True),
        200,
        "text/html",
    ),
    "JSON": (
        lambda c, w, f: _facilitator_client(w, f).get(reverse("facilitation:bigscreen_data", args=[w.pk]), secure=True),
        200,
        "application/json",
    ),
    "CSV download": (
        lambda c, w, f: _facilitator_client(w, f).get(reverse("reports:export_csv", args=[w.pk]), secure=True),
        200,
        "text/csv",
    ),
    "SVG image": (_join_qr, 200, "image/svg+xml"),
    "security.txt": (lambda c, w, f: c.get("/.well-known/security.txt", secure=True), 200, "text/plain"),
    "404 page": (lambda c, w, f: c.get("/no-such-page/", secure=True), 404, "text/html"),
    "429 page": (lambda c, w, f: _throttled_join(c), 429, "text/html"),
    "500 page": (lambda c, w, f: c.get("/fails/", secure=True), 500, "text/html"),
    "static file": (lambda c, w, f: c.get("/static/css/site.css", secure=True), 200, "text/css"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", RESPONSES)
def test_security_headers_on_every_kind_of_response(production, workshop, facilitator, kind):
    fetch, status, content_type = RESPONSES[kind]
    response = fetch(Client(raise_request_exception=False), workshop, facilitator)
    assert response.status_code == status
    assert response["Content-Type"].startswith(content_type)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    if kind == "static file":
        return  # served by WhiteNoise before the page middleware: a stylesheet is not framed or scripted
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"


@pytest.mark.django_db
def test_production_redirects_plain_http_to_https_with_the_headers(production):
    response = Client().get(reverse("home"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_security_txt_names_the_deployers_contact(settings, client):
    settings.KEHITTAMO_SECURITY_CONTACT = "security@kunta.example.fi"
    response = client.get("/.well-known/security.txt")
    fields = dict(line.split(": ", 1) for line in response.content.decode().splitlines())
    assert fields["Contact"] == "mailto:security@kunta.example.fi"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["Expires"])
    assert fields["Canonical"].endswith("/.well-known/security.txt")


def test_templates_have_no_inline_scripts_or_handlers():
    """CSP forbids them; catch them before a browser does."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(ROOT)))
        if re.search(r"\bstyle\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)} (inline style)")
    assert offenders == []


def _production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY="x" * 20 + "-production-check-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="kehittamo.example.fi",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_secure_cookies_and_refuse_the_dev_key():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    env = _production_env()
    ok = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.stdout.split() == ["True", "True", "True", "True", "False"], ok.stderr
    env.pop("SECRET_KEY")
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
