"""Hostile input through Django's admin: a superuser types the XSS corpus into the change forms of the workshop
(and its cases inline), a participant, an organisation and a user, then the admin's own pages (index with its
recent actions, changelists searched for the vector, change, history and delete pages) and the app's pages that
show those fields are parsed: no markup that neither our templates nor the admin's could have written, and a
``javascript:`` link is refused by the form. One vector per family in the normal suite, all with ``--faults``.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation, User
from tests.accounts.factories import FacilitatorFactory
from tests.facilitation.conftest import guest_client
from tests.security import xss_corpus
from tests.security.html_scan import injected, injected_admin, visible_text
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Case, Participant, Workshop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _corpus_is_not_a_flood(settings):
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000


class _FormValues(HTMLParser):
    """The values a browser would submit from the page's main form (the admin change form)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._form = 0
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._form += 1
        if not self._form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file", "image"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.values.setdefault(name, []).append(a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = [""]
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select].append(a.get("value") or "")

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._textarea:  # a browser drops the first newline after <textarea>
                self.values[self._textarea][-1] = self.values[self._textarea][-1].removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form:
            self._form -= 1


def form_values(html: str) -> dict[str, list[str]]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


class Typist:
    """Hands out the vectors in turn; remembers which one went where."""

    def __init__(self, vectors: list[str]):
        self.vectors = vectors
        self.next = 0
        self.typed: dict[str, str] = {}

    def take(self, place: str, limit: int = 10_000) -> str:
        vector = self.vectors[self.next % len(self.vectors)].strip()[:limit]
        self.next += 1
        self.typed[place] = vector
        return vector

    @property
    def used_all(self) -> bool:
        return self.next >= len(self.vectors)


def admin_save(client: Client, url: str, changes: dict[str, str]) -> None:
    """Open the admin form, change some fields as a person would, save; the save must succeed."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = form_values(page.content.decode())
    data.update({name: [value] for name, value in changes.items()})
    data["_save"] = ["Save"]
    response = client.post(url, data)
    if response.status_code != 302:
        errors = [str(form.errors) for form in [response.context.get("adminform")] if form]
        errors += [str(response.context.get("errors"))] if response.context else []
        raise AssertionError(f"{url} did not save: {errors}")


def edit_round(client: Client, typist: Typist, world: dict) -> None:
    """One round of hostile edits through every admin form."""
    workshop, participant, organisation, user = world["workshop"], world["participant"], world["org"], world["user"]
    cases = list(workshop.cases.order_by("position", "id"))
    changes = {
        "title": typist.take("workshop title", 200),
        "goal": typist.take("workshop goal"),
        "preferred_dates": typist.take("preferred dates"),
        "case_proposals": typist.take("case proposals"),
        "invited_groups": json.dumps([typist.take("invited group", 60)]),
    }
    for index, _case in enumerate(cases):
        changes[f"cases-{index}-title"] = typist.take(f"case {index} title", 200)
        changes[f"cases-{index}-presenter_name"] = typist.take(f"case {index} presenter", 150)
        changes[f"cases-{index}-description"] = typist.take(f"case {index} description")
    admin_save(client, reverse("admin:workshops_workshop_change", args=[workshop.pk]), changes)
    workshop.refresh_from_db()
    assert workshop.title == typist.typed["workshop title"]
    assert Case.objects.get(pk=cases[0].pk).title == typist.typed["case 0 title"]

    person = {
        "name": typist.take("participant name", 150),
        "organisation_name": typist.take("participant organisation", 200),
        "department": typist.take("participant department", 200),
    }
    admin_save(client, reverse("admin:workshops_participant_change", args=[participant.pk]), person)
    assert Participant.objects.get(pk=participant.pk).name == person["name"]

    admin_save(
        client,
        reverse("admin:accounts_organisation_change", args=[organisation.pk]),
        {"name": typist.take("organisation name", 200)},
    )
    assert Organisation.objects.get(pk=organisation.pk).name == typist.typed["organisation name"]
    admin_save(
        client,
        reverse("admin:accounts_user_change", args=[user.pk]),
        {"name": typist.take("user name", 150)},
    )
    assert User.objects.get(pk=user.pk).name == typist.typed["user name"]


def refused_links(client: Client, world: dict) -> None:
    """A javascript: link in a URL field of the admin is a form error, nothing saved."""
    workshop = world["workshop"]
    url = reverse("admin:workshops_workshop_change", args=[workshop.pk])
    data = form_values(client.get(url).content.decode())
    for field in ("meeting_url", "cases-0-material_url"):
        bad = {**data, field: ["javascript:alert(42420000)"], "_save": ["Save"]}
        assert client.post(url, bad).status_code == 200, field
    assert not Workshop.objects.filter(meeting_url__icontains="javascript").exists()
    assert not Case.objects.filter(material_url__icontains="javascript").exists()


def pages(world: dict, typist: Typist) -> dict[str, tuple[Client, str, bool]]:
    """label -> (client, url, is an admin page)."""
    admin, facilitator, guest = world["admin_client"], world["facilitator_client"], world["guest_client"]
    workshop, participant, organisation, user = world["workshop"], world["participant"], world["org"], world["user"]
    search = quote(typist.typed["workshop title"])
    found = {
        "admin index (recent actions)": (admin, reverse("admin:index"), True),
        "admin workshops app": (admin, reverse("admin:app_list", args=["workshops"]), True),
    }
    for model, pk in (
        ("workshops_workshop", workshop.pk),
        ("workshops_participant", participant.pk),
        ("accounts_organisation", organisation.pk),
        ("accounts_user", user.pk),
    ):
        found[f"{model} list"] = (admin, reverse(f"admin:{model}_changelist"), True)
        found[f"{model} list searched"] = (admin, reverse(f"admin:{model}_changelist") + f"?q={search}", True)
        for page in ("change", "history", "delete"):
            found[f"{model} {page}"] = (admin, reverse(f"admin:{model}_{page}", args=[pk]), True)
    found["workshop list by organisation"] = (
        admin,
        reverse("admin:workshops_workshop_changelist") + f"?organisation__id__exact={organisation.pk}",
        True,
    )
    found["user list by organisation"] = (
        admin,
        reverse("admin:accounts_user_changelist") + f"?organisation__id__exact={organisation.pk}",
        True,
    )
    found["autocomplete"] = (
        admin,
        reverse("admin:autocomplete")
        + f"?app_label=workshops&model_name=workshop&field_name=organisation&term={search[:20]}",
        False,
    )
    w = workshop.pk
    for label, url in (
        ("home", reverse("home")),
        ("queue", reverse("workshops:queue")),
        ("manage", reverse("workshops:manage", args=[w])),
        ("participants", reverse("workshops:participants", args=[w])),
        ("invitations", reverse("workshops:invitations", args=[w])),
    ):
        found[f"facilitator's {label}"] = (facilitator, url, False)
    found["participant's lobby"] = (guest, reverse("workshops:lobby", args=[w]), False)
    return found


def scan(found: dict[str, tuple[Client, str, bool]]) -> list[str]:
    findings = []
    for label, (client, url, is_admin) in found.items():
        response = client.get(url)
        assert response.status_code == 200, f"{label} ({url}) answered {response.status_code}"
        html = response.content.decode()
        if response["Content-Type"].startswith("application/json"):
            continue  # data, not markup: the autocomplete widget writes it as text (it answered, that is the test)
        findings += [f"{label}: {finding}" for finding in (injected_admin(html) if is_admin else injected(html))]
    return findings


def run(vectors: list[str]) -> tuple[Typist, list[str], dict]:
    superuser = FacilitatorFactory(email="root@example.fi", is_superuser=True)
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    workshop = WorkshopFactory(title="Alkuperäinen", status=Workshop.Status.PLANNED, language="en")
    CaseFactory(workshop=workshop)
    CaseFactory(workshop=workshop)
    participant = ParticipantFactory(workshop=workshop)
    world = {
        "workshop": workshop,
        "participant": participant,
        "org": workshop.organisation,
        "user": facilitator,  # the facilitator's own name, shown in the header of their pages
        "admin_client": _english(superuser),
        "facilitator_client": _english(facilitator),
        "guest_client": guest_client(participant),
    }
    typist = Typist(vectors)
    refused_links(world["admin_client"], world)
    findings = []
    while True:
        edit_round(world["admin_client"], typist, world)
        findings += scan(pages(world, typist))
        if typist.used_all:
            break
    # the hostile text really is on the pages, as text (a scan of pages that dropped it would prove nothing)
    for client, url in (
        (world["admin_client"], reverse("admin:workshops_workshop_changelist")),
        (world["facilitator_client"], reverse("workshops:manage", args=[workshop.pk])),
    ):
        shown = visible_text(client.get(url).content.decode())
        assert " ".join(typist.typed["workshop title"].split()) in shown, url
    return typist, findings, world


def _english(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_admin_forms_take_hostile_text_and_no_page_turns_it_into_markup():
    typist, findings, _world = run(xss_corpus.sample(11))
    assert not findings, "\n".join(findings)
    assert len(typist.typed) >= 15


@pytest.mark.faults
def test_every_vector_through_the_admin_forms():
    typist, findings, _world = run(xss_corpus.vectors())
    assert not findings, "\n".join(findings)
    assert typist.next >= len(xss_corpus.vectors())
