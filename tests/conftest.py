"""Shared fixtures: personas, a real SMTP sink, and the rule about real services."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, OrganisationFactory, UserFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant
from workshops.services import participant_issue_token

# CI sets this: there a missing PostgreSQL/Redis is a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("KEHITTAMO_REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool) -> None:
    """Skip a test that needs a real service, or fail it where the services are required."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required here (KEHITTAMO_REQUIRE_SERVICES=1) but not configured")
    pytest.skip(f"{name} not configured (set DATABASE_URL / REDIS_URL, as .ci/run does)")


def pytest_addoption(parser):
    parser.addoption("--faults", action="store_true", help="also run the slow fault and fuzz tests (make test-faults)")


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which async tests must not meet. Tests marked ``faults``
    need minutes; they run only with ``--faults`` (``make test-faults``, which CI runs too)."""
    if not config.getoption("--faults"):
        skip = pytest.mark.skip(reason="slow fault/fuzz test: make test-faults runs it")
        for item in items:
            if "faults" in item.keywords:
                item.add_marker(skip)
    items.sort(key=lambda item: "tests/browser/" in str(item.path))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache; one test's failures must not throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- personas ---------------------------------------------------------------
@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Esimerkkilän kaupunki")


@pytest.fixture
def workshop(organisation):
    workshop = WorkshopFactory(organisation=organisation, title="Parastaminen-työpaja")
    for position, title in enumerate(["Aamupalaveri", "Kesäseteli", "Kirjasto olohuoneena"], start=1):
        CaseFactory(workshop=workshop, position=position, title=title)
    return workshop


@pytest.fixture
def facilitator(db):
    return FacilitatorFactory(email="fasilitaattori@example.fi", name="Fanni Fasilitaattori")


@pytest.fixture
def contact_person(organisation):
    return ContactPersonFactory(email="yhteys@example.fi", name="Yrjö Yhteyshenkilö", organisation=organisation)


@pytest.fixture
def outsider(db):
    """A contact person of another organisation."""
    return ContactPersonFactory(email="muualta@example.fi", organisation=OrganisationFactory(name="Muu kunta"))


@pytest.fixture
def plain_user(db):
    return UserFactory(email="tavallinen@example.fi")


@dataclass
class Guest:
    participant: Participant
    token: str


@pytest.fixture
def participant(workshop) -> Guest:
    person = ParticipantFactory(workshop=workshop, name="Aino Asukas", email="aino@example.fi")
    return Guest(person, participant_issue_token(participant=person))


@pytest.fixture
def group_leader(workshop) -> Guest:
    person = ParticipantFactory(
        workshop=workshop, name="Rauha Ryhmänvetäjä", email="rauha@example.fi", role=Participant.Role.GROUP_LEADER
    )
    return Guest(person, participant_issue_token(participant=person))


# --- real SMTP ----------------------------------------------------------------
@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert len(self.messages) >= count, f"expected {count} mail(s), got {len(self.messages)}"
        return self.messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server (aiosmtpd) on loopback; Django sends to it over SMTP."""
    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs a second a password; the tests are about flows, not key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def celery_eager():
    """Switch the Celery app to eager (or back) for one test, restoring its own value afterwards.

    Celery reads Django settings lazily and caches them, so the app's conf is changed directly.
    """
    from config.celery import app

    previous = app.conf.task_always_eager

    def switch(eager: bool) -> None:
        app.conf.task_always_eager = eager

    yield switch
    app.conf.task_always_eager = previous
