"""The Django admin's side of the fuzzing: a seeded world with a row behind every registered model, a superuser's
client, and per route what its pages offer (form fields, the changelist's filter, search and ordering parameters,
the actions and the rows to select).

Nothing here is written per model: the routes come from the resolver (``fuzzing.all_routes(admin=True)``), the
models from the admin site's registry, the parameter names from the pages' own forms and links and from the
models' fields with the lookups a filter URL uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from privacy.services import deletion_request_create, participant_erase_personal_data
from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory, OrganisationFactory
from tests.security import fuzzing
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import InvitationBatch, Participant, Workshop, WorkshopStatusChange

ROLE = "superuser"
# What the admin's own pages read from a query string or a POST, beyond the models' fields.
ADMIN_NAMES = [
    "q",
    "o",
    "p",
    "all",
    "e",
    "_to_field",
    "_popup",
    "_changelist_filters",
    "_facets",
    "action",
    "_selected_action",
    "select_across",
    "index",
    "post",
    "_save",
    "_continue",
    "_addanother",
    "_saveasnew",
    "app_label",
    "model_name",
    "field_name",
    "term",
    "page",
    "next",
    "old_password",
    "new_password1",
    "new_password2",
    "password1",
    "password2",
    "usable_password",
]
LOOKUPS = [
    "",
    "__exact",
    "__id__exact",
    "__isnull",
    "__in",
    "__gte",
    "__lt",
    "__year",
    "__month",
    "__day",
    "__contains",
]


@dataclass
class AdminSeed:
    clients: dict[str, Client]
    paths: dict[str, dict[str, list]] = field(default_factory=dict)  # route name -> path kwarg -> values
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    id_values: list[str] = field(default_factory=list)

    def for_route(self, route: fuzzing.Route) -> RouteSeed:
        return RouteSeed(self, route.name)


@dataclass
class RouteSeed:
    """What ``fuzzing.payloads`` reads, narrowed to one route (its own model's ids for ``object_id``)."""

    seed: AdminSeed
    name: str

    @property
    def forms(self):
        return self.seed.forms

    @property
    def vocabulary(self):
        return self.seed.vocabulary

    @property
    def id_values(self):
        return self.seed.id_values

    def path_values(self, name: str) -> list:
        return self.seed.paths.get(self.name, {}).get(name, [])


def _model_of(route_name: str):
    """The registered model a route belongs to (``admin:workshops_workshop_change`` -> Workshop), or None."""
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if route_name.startswith(prefix):
            return model
    if route_name == "admin:auth_user_password_change":
        from accounts.models import User

        return User
    return None


class _Links(HTMLParser):
    """The query parameters of a page's links (a changelist's filters, ordering, pages, date drill-down)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.params: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href and "?" in href:
            for name, value in parse_qsl(urlsplit(href).query, keep_blank_values=True):
                self.params.setdefault(name, []).append(value)


def build_world() -> AdminSeed:
    """A row behind every registered model (an erasure and a deletion request too) and a superuser's client."""
    organisation = OrganisationFactory(name="Fuzzilän kunta")
    superuser = FacilitatorFactory(email="fuzz-root@example.fi", is_superuser=True)
    facilitator = FacilitatorFactory(email="fuzz-fasilitaattori@example.fi")
    contact = ContactPersonFactory(email="fuzz-yhteys@example.fi", organisation=organisation)
    workshop = WorkshopFactory(organisation=organisation, title="Fuzz-työpaja", created_by=contact)
    WorkshopFactory(organisation=organisation, title="Pyydetty", status=Workshop.Status.REQUESTED, starts_at=None)
    for n in (1, 2):
        CaseFactory(workshop=workshop, title=f"Tapaus {n}")
    WorkshopStatusChange.objects.create(workshop=workshop, from_status="requested", to_status="planned", note="ok")
    people = [ParticipantFactory(workshop=workshop, name=f"Osallistuja {n}") for n in range(3)]
    ParticipantFactory(workshop=workshop, name="Esittäjä", role=Participant.Role.PRESENTER)
    batch = InvitationBatch.objects.create(workshop=workshop, requested_by=facilitator, total=2)
    batch.participants.set(people[:2])
    deletion_request_create(participant=people[0])
    participant_erase_personal_data(participant=people[1], by=facilitator)
    deletion_request_create(participant=people[2])
    Group.objects.create(name="Tukihenkilöt")

    client = Client()
    client.force_login(superuser)
    seed = AdminSeed(clients={ROLE: client})
    ids = set()
    for model in admin.site._registry:
        ids.update(str(pk) for pk in model.objects.values_list("pk", flat=True))
    seed.id_values = [*sorted(ids), "0", "-1", "x"]
    content_types = [str(ct.pk) for ct in ContentType.objects.all()]

    names = set(ADMIN_NAMES)
    for model in admin.site._registry:
        for model_field in model._meta.get_fields():
            names.update(f"{model_field.name}{lookup}" for lookup in LOOKUPS)
    for route in fuzzing.all_routes(admin=True):
        model = _model_of(route.name)
        pks = [str(pk) for pk in model.objects.values_list("pk", flat=True)] if model else []
        seed.paths[route.name] = {
            "object_id": pks or seed.id_values,
            "id": pks,
            "content_type_id": content_types,
            "app_label": ["auth", "account", "accounts", "workshops", "privacy"],
        }
        if any(converter for _name, converter in route.kwargs) and not pks and route.name != "admin:app_list":
            continue  # the catch-all and view-on-site: nothing to crawl
        form: dict[str, list[str]] = {}
        for pk in (pks or ["workshops"])[:3]:  # a few rows: one workshop has cases inline, another none
            path = route.path({name: pk for name, _converter in route.kwargs})
            response = client.get(path)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            html = response.content.decode()
            for fields in fuzzing.forms_on(html, path).values():
                for name, values in fields.items():
                    form.setdefault(name, []).extend(values)
            links = _Links()
            links.feed(html)
            for name, values in links.params.items():
                form.setdefault(name, []).extend(values)
        if form:
            seed.forms[route.name] = form
            names.update(form)
    seed.vocabulary = sorted(names)
    return seed
