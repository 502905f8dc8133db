"""The anonymity canary over everything the suite can observe: every page and JSON answer of every URL,
every Django admin page (lists, searches, change, delete and history pages of every registered model),
the logs of the whole flow, and, once the workshop closes, the database itself.

The canary writes only anonymously, so any page that shows both the canary and one of its secrets, or a
page another participant sees that shows the canary at all, is a trace of an anonymous author.
"""

from __future__ import annotations

import io
import itertools
import logging
import uuid

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from accounts.models import User
from facilitation import services as live_services
from facilitation.models import Ballot, Comment, Duel, Event, LiveState, Phase, Presence
from facilitation.services.presence import presence_touch
from reports.services import report_share_set
from tests.accounts.factories import UserFactory
from tests.facilitation.conftest import guest_client, make_guest, viewer_of
from tests.facilitation.factories import IdeaFactory
from tests.facilitation.test_anonymity import CANARY_ID, leaks
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
SECRETS = ("Salainen havainto", "Salainen vastaus", "Salainen pohdinta", "Salainen idea")
CANARY_ACCOUNT = "kanarialintu.tili@example.fi"
# URL names that are not pages to look at: they change the session or need a secret the test cannot know.
SKIPPED = {"join", "join_code_prefilled", "set_language", "account_logout", "account_confirm_email"}
SKIPPED |= {"account_reset_password_from_key", "template_export", "template_delete", "export_progress"}
SKIPPED |= {"export_download", "healthz"}


def markers(text: str) -> list[str]:
    return leaks(text) + [marker for marker in ("Kaivosmies", CANARY_ACCOUNT) if marker in text]


def secrets_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def scene(live_workshop, facilitator, django_capture_on_commit_callbacks):
    """The canary (with an account too) writes an anonymous comment, reply, edit, reflection and idea, reacts
    and votes; another participant writes with their name. Returns what the crawl needs to fill in URLs."""
    workshop = live_workshop
    account = UserFactory(email=CANARY_ACCOUNT, name="Kanarialintu Tilinomistaja")
    canary = ParticipantFactory(
        pk=CANARY_ID, workshop=workshop, name="Kanarialintu Kaivosmies", email="kanarialintu@example.fi", user=account
    )
    other, other_client = make_guest(workshop, name="Toinen Osallistuja")
    author = guest_client(canary)
    phase = LiveState.objects.get(pk=workshop.pk).current_phase
    with django_capture_on_commit_callbacks(execute=True):
        named = other_client.post(
            reverse("facilitation:comment_new", args=[workshop.pk]),
            {"phase": phase.pk, "text": "Toisen nimellä", "client_id": str(uuid.uuid4())},
            **JSON,
        ).json()
        first = author.post(
            reverse("facilitation:comment_new", args=[workshop.pk]),
            {"phase": phase.pk, "text": "Salainen havainto", "anonymous": "on", "client_id": str(uuid.uuid4())},
            **JSON,
        ).json()
        author.post(
            reverse("facilitation:comment_new", args=[workshop.pk]),
            {
                "phase": phase.pk,
                "text": "Salainen vastaus",
                "anonymous": "on",
                "parent": named["id"],
                "client_id": str(uuid.uuid4()),
            },
            **JSON,
        )
        author.post(
            reverse("facilitation:comment_edit", args=[workshop.pk, first["id"]]),
            {"text": "Salainen havainto, korjattu"},
            **JSON,
        )
        author.post(reverse("facilitation:comment_react", args=[workshop.pk, named["id"]]), {"kind": "agree"}, **JSON)
        reflection = workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
        author.post(
            reverse("facilitation:comment_new", args=[workshop.pk]),
            {
                "phase": reflection.pk,
                "prompt": reflection.prompts.first().pk,
                "text": "Salainen pohdinta",
                "anonymous": "on",
                "client_id": str(uuid.uuid4()),
            },
            **JSON,
        )
    ideas = Phase.objects.create(workshop=workshop, position=90, kind=Phase.Kind.IDEAS, title="Ideat")
    voting = Phase.objects.create(
        workshop=workshop, position=91, kind=Phase.Kind.PRIORITISATION, title="Äänestys", idea_source=ideas
    )
    secret_idea = IdeaFactory(phase=ideas, text="Salainen idea", author_participant=canary, anonymous=True)
    named_idea = IdeaFactory(phase=ideas, text="Toisen idea", author_participant=other)
    Duel.objects.create(phase=voting, left=secret_idea, right=named_idea, voter_participant=canary, choice="left")
    Ballot.objects.create(phase=voting, idea=secret_idea, voter_participant=canary, value=2)
    live_services.survey_ensure(workshop=workshop)
    share = report_share_set(workshop=workshop, action="on")
    return {
        "workshop": workshop,
        "canary": canary,
        "account": account,
        "other_client": other_client,
        "values": {
            "workshop_id": [workshop.pk],
            "phase_id": [phase.pk, reflection.pk, ideas.pk, voting.pk],
            "comment_id": [first["id"]],
            "idea_id": [secret_idea.pk],
            "case_id": [workshop.cases.first().pk],
            "participant_id": [canary.pk, other.pk],
            "question_id": [workshop.survey_questions.first().pk],
            "action": ["close"],
            "kind": ["json", "xlsx"],
            "token": [share.token],
        },
    }


def url_patterns(resolver=None, prefix=""):
    """Every non-admin URL pattern with its full name."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            yield from url_patterns(entry, prefix + namespace)
        elif isinstance(entry, URLPattern) and entry.name and entry.name not in SKIPPED:
            yield prefix + entry.name, list(entry.pattern.converters)


def urls_to_visit(values: dict) -> list[str]:
    found = []
    for name, arguments in url_patterns():
        if any(argument not in values for argument in arguments):
            continue
        for combination in itertools.product(*(values[argument] for argument in arguments)):
            found.append(reverse(name, kwargs=dict(zip(arguments, combination, strict=True))))
    return sorted(set(found))


def body(response) -> str:
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def crawl(clients: dict[str, Client], targets: list[str], *, full: bool) -> dict[str, str]:
    """GET every target as every viewer, as a page and (asking for JSON) as data; the 200 answers.

    The quick crawl (normal suite) looks as another participant (page and JSON) and as the superuser
    (page); the full one (``make test-faults``) as everyone, both ways.
    """
    quick = {("other participant", "page"), ("other participant", "json"), ("superuser", "page")}
    seen = {}
    for who, client in clients.items():
        for target in targets:
            for kind, headers in (("page", {}), ("json", JSON)):
                if not full and (who, kind) not in quick:
                    continue
                response = client.get(target, **headers)
                if response.status_code == 200:
                    seen[f"{who}: {kind} {target}"] = body(response)
    return seen


def admin_pages(client: Client) -> dict[str, str]:
    """Every registered model's list (plain and searched for the canary and a secret) and each object's pages."""
    seen = {}
    for model, _model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        for query in ("", "?q=Kanarialintu", "?q=kanarialintu%40example.fi", "?q=Salainen", f"?q={CANARY_ID}"):
            seen[changelist + query] = client.get(changelist + query).content.decode()
        for pk in model.objects.values_list("pk", flat=True)[:30]:
            for page in ("change", "delete", "history"):
                target = reverse(f"admin:{meta.app_label}_{meta.model_name}_{page}", args=[pk])
                response = client.get(target)
                assert response.status_code in {200, 302, 403}, target
                seen[target] = response.content.decode()
    return seen


def assert_no_trace(seen: dict[str, str], *, strict_for: str = "") -> None:
    for place, text in seen.items():
        if strict_for and place.startswith(strict_for):
            assert markers(text) == [], f"the canary shows to {place}"
        found = secrets_in(text)
        assert not (found and markers(text)), f"{place} shows the canary ({markers(text)}) with {found}"


@pytest.mark.parametrize("full", [False, pytest.param(True, marks=pytest.mark.faults)], ids=["quick", "full"])
def test_no_page_json_answer_admin_page_or_log_line_ties_the_canary_to_what_it_wrote_anonymously(
    scene, facilitator, contact_person, caplog, django_capture_on_commit_callbacks, full
):
    caplog.set_level(logging.DEBUG)
    workshop = scene["workshop"]
    superuser = User.objects.create_superuser(email="paakayttaja@example.fi", password="x")
    clients = {"other participant": scene["other_client"], "anonymous": Client()}
    for who, user in (("facilitator", facilitator), ("contact person", contact_person), ("superuser", superuser)):
        clients[who] = Client()
        clients[who].force_login(user)
    targets = urls_to_visit(scene["values"])
    assert len(targets) > 60  # the crawl reaches the whole site, not a handful of pages

    live = crawl(clients, targets, full=full)
    assert any("Salainen havainto, korjattu" in text for text in live.values())  # the secrets are really shown
    assert_no_trace(live, strict_for="other participant")
    assert_no_trace(admin_pages(clients["superuser"]))

    with django_capture_on_commit_callbacks(execute=True):
        clients["facilitator"].post(reverse("facilitation:control_action", args=[workshop.pk, "close"]))
    workshop.refresh_from_db()
    assert workshop.status == workshop.Status.CLOSED
    if full:  # closing only removes links (the next test checks the database); the full run looks again
        closed = crawl(clients, targets, full=full)
        assert any("Salainen idea" in text for text in closed.values())
        assert_no_trace(closed, strict_for="other participant")
        assert_no_trace(admin_pages(clients["superuser"]))

    # and the whole flow ends with the erasure of the workshop's personal data
    assert clients["facilitator"].post(reverse("privacy:workshop_erase", args=[workshop.pk])).status_code == 302
    records = caplog.get_records("setup") + caplog.records  # the scene's posts are logged during setup
    assert any(record.getMessage() == "workshop personal data erased" for record in records)
    assert any("/comments/" in str(getattr(record, "fields", "")) for record in caplog.get_records("setup"))
    log = "\n".join(f"{record.getMessage()} {getattr(record, 'fields', '')}" for record in records)
    assert secrets_in(log) == [] and "Kanarialintu" not in log and "kanarialintu" not in log
    # The canary's id appears only as the address of a page about the canary itself, never next to content.
    for line in log.splitlines():
        assert str(CANARY_ID) not in line.replace(f"/{CANARY_ID}/", "/…/"), line


def test_after_closing_no_row_links_anonymous_content_votes_or_events_to_its_author(scene, facilitator):
    workshop, canary, account = scene["workshop"], scene["canary"], scene["account"]
    Comment.objects.create(
        client_id=uuid.uuid4(),
        workshop=workshop,
        phase=LiveState.objects.get(pk=workshop.pk).current_phase,
        text="Salainen tilin kautta",
        author_user=account,
        anonymous=True,
        language="fi",
    )
    presence_touch(key="canary-tab", viewer=viewer_of(workshop, participant=canary))
    Event.objects.create(workshop=workshop, kind="note", audience="person", participant=canary)
    live_services.live_close(workshop=workshop, by=facilitator)

    people = {Participant: canary.pk, User: account.pk}
    linked = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in people:
                rows = model.objects.filter(**{field.name: people[field.related_model]})
                if any(f.name == "anonymous" for f in model._meta.concrete_fields):
                    rows = rows.filter(anonymous=True)
                elif not (field.name.startswith("voter") or model._meta.model_name in {"event", "presence"}):
                    continue
                if rows.exists():
                    linked[f"{model.__name__}.{field.name}"] = rows.count()
    # Every model that holds anonymous content (a field "anonymous"), every vote, event and presence row.
    assert linked == {}
    assert not Presence.objects.filter(workshop=workshop).exists()
    assert Comment.objects.filter(text="Salainen vastaus", author_participant=None, author_user=None).exists()
    assert Duel.objects.filter(phase__workshop=workshop, voter_participant=None, choice="left").exists()
