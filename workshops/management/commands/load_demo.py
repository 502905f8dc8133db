"""Load (or refresh) the demo workshops and print their log-ins and join links."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from facilitation.services import agenda_create_default
from workshops.models import Participant, Workshop
from workshops.selectors_templates import template_entry
from workshops.services import (
    case_create,
    organisation_get_or_create,
    participant_create,
    participant_issue_token,
    workshop_create,
)
from workshops.services_templates import template_apply

DEMO_PASSWORD = "kehittamo-demo-2026"  # noqa: S105 (printed demo log-in)
DEMO_TITLE = "Parastaminen: hyvät käytännöt kiertoon"
EVENT_TITLE = "Hyvinvoinnin kehittämisiltapäivä"  # a large live event made from the built-in template
FACILITATOR = ("fasilitaattori@example.fi", "Fanni Fasilitaattori")
CONTACT = ("yhteyshenkilo@example.fi", "Yrjö Yhteyshenkilö")
CASES = [
    (
        "Kotihoidon aamupalaveri 10 minuutissa",
        "Päivi Palvelupäällikkö",
        "Kotihoidon tiimit aloittavat päivän seisovalla palaverilla: kolme kysymystä, ei tietokoneita, "
        "kaikki äänessä. Palaverit lyhenivät puoleen ja tieto kulkee paremmin.",
    ),
    (
        "Nuorten kesäseteli",
        "Niko Nuorisotyöntekijä",
        "Kunta antaa jokaiselle 9.-luokkalaiselle kesäsetelin, jonka paikallinen yritys voi käyttää "
        "nuoren palkkaamiseen. Yli 200 nuorta sai ensimmäisen kesätyönsä.",
    ),
    (
        "Kirjasto kaikkien olohuoneena",
        "Kaisa Kirjastonhoitaja",
        "Omatoimikirjasto on auki aamusta iltaan, ja yhdistykset voivat varata tilat maksutta. "
        "Käyttäjämäärä kasvoi kolmanneksella vuodessa.",
    ),
]
PARTICIPANTS = [
    ("Aino Asukas", "aino.asukas@example.fi", Participant.RoleGroup.RESIDENT, "", Participant.Role.PARTICIPANT),
    (
        "Veikko Valtuutettu",
        "veikko.valtuutettu@example.fi",
        Participant.RoleGroup.ELECTED_OFFICIAL,
        "",
        Participant.Role.PARTICIPANT,
    ),
    (
        "Sanna Sosiaalityö",
        "sanna.sosiaalityo@example.fi",
        Participant.RoleGroup.STAFF,
        "Sosiaali- ja terveystoimi",
        Participant.Role.PARTICIPANT,
    ),
    (
        "Rauha Ryhmänvetäjä",
        "rauha.ryhmanvetaja@example.fi",
        Participant.RoleGroup.STAFF,
        "Sivistystoimi",
        Participant.Role.GROUP_LEADER,
    ),
]
# Enough people for the small-group rounds to rotate: staff, residents and officials of two towns.
S, R, E, A = (
    Participant.RoleGroup.STAFF,
    Participant.RoleGroup.RESIDENT,
    Participant.RoleGroup.ELECTED_OFFICIAL,
    Participant.RoleGroup.ASSOCIATION,
)
PARTICIPANTS += [
    (name, f"{name.split()[0].lower()}@example.fi", group, department, Participant.Role.PARTICIPANT)
    for name, group, department in [
        ("Eero Erityisopettaja", S, "Sivistystoimi"),
        ("Leena Lähihoitaja", S, "Sosiaali- ja terveystoimi"),
        ("Matti Metsänreuna", R, ""),
        ("Outi Omaishoitaja", R, ""),
        ("Paavo Puheenjohtaja", A, ""),
        ("Riikka Rehtori", S, "Sivistystoimi"),
        ("Tuula Talousjohtaja", S, "Talous"),
        ("Ville Varavaltuutettu", E, ""),
    ]
]


def _account(email: str, name: str, **extra: object) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name, language="fi", **extra)
    else:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _planned_workshop(*, organisation, contact: User, title: str, goal: str, days: int, minutes: int) -> Workshop:
    day = timezone.localdate() + timedelta(days=days)
    return workshop_create(
        organisation=organisation,
        title=title,
        created_by=contact,
        status=Workshop.Status.PLANNED,
        goal=goal,
        starts_at=datetime.combine(day, time(13, 0), tzinfo=ZoneInfo(settings.TIME_ZONE)),
        duration_minutes=minutes,
    )


class Command(BaseCommand):
    help = "Create the demo organisation, accounts and workshop (idempotent) and print log-ins and join links."

    def _large_event(self, organisation, contact: User) -> Workshop:
        """The education department's live-streamed afternoon, planned from the large-event template."""
        event = Workshop.objects.filter(organisation=organisation, title=EVENT_TITLE).first()
        if event is None:
            event = _planned_workshop(
                organisation=organisation,
                contact=contact,
                title=EVENT_TITLE,
                goal="Kootaan koko henkilöstön ajatukset seuraavan strategiakauden painopisteistä.",
                days=14,
                minutes=90,
            )
        if not event.phases.exists():
            template_apply(workshop=event, template=template_entry(contact, "large-event"))
        return event

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        organisation = organisation_get_or_create(name="Esimerkkilän kaupunki")
        _account(*FACILITATOR, is_staff=True, is_superuser=True)
        contact = _account(*CONTACT, organisation=organisation)

        workshop = Workshop.objects.filter(organisation=organisation, title=DEMO_TITLE).first()
        if workshop is None:
            workshop = _planned_workshop(
                organisation=organisation,
                contact=contact,
                title=DEMO_TITLE,
                goal="Jaetaan kolme toimivaa käytäntöä ja pohditaan yhdessä, mitä niistä voisi oppia omaan työhön.",
                days=7,
                minutes=120,
            )
            for title, presenter, description in CASES:
                case_create(workshop=workshop, title=title, presenter_name=presenter, description=description)
            for name, email, role_group, department, role in PARTICIPANTS:
                participant_create(
                    workshop=workshop,
                    name=name,
                    email=email,
                    organisation_name=organisation.name,
                    department=department,
                    role_group=role_group,
                    role=role,
                )

        agenda_create_default(workshop=workshop)  # only if it has none yet
        event = self._large_event(organisation, contact)

        site = settings.KEHITTAMO_SITE_URL
        out = self.stdout
        out.write(self.style.SUCCESS("\nKehittämö demo is ready: " + site + "/"))
        out.write(f"\nDemo log-ins (password for both: {DEMO_PASSWORD})")
        out.write(f"  facilitator (admin):  {FACILITATOR[0]}")
        out.write(f"  contact person:       {CONTACT[0]}")
        out.write(f"\nJoin links for the participants of “{workshop.title}” (new links on every run):")
        for participant in workshop.participants.order_by("name"):
            token = participant_issue_token(participant=participant)
            link = site + reverse("workshops:join", kwargs={"token": token})
            out.write(f"  {participant.name:<28} {link}")
        control = site + reverse("facilitation:control", kwargs={"workshop_id": workshop.pk})
        out.write(f"\nRun it live: sign in as the facilitator, open {control} and press “Start the workshop”;")
        out.write("open the join links in private windows to follow as participants.")
        event_control = site + reverse("facilitation:control", kwargs={"workshop_id": event.pk})
        bigscreen = site + reverse("facilitation:bigscreen", kwargs={"workshop_id": event.pk})
        out.write(f"\nA large live event, “{event.title}” (idea collection, pairwise prioritisation, feedback):")
        out.write(f"  controls:   {event_control}  (start it, then switch on the join code)")
        out.write(f"  big screen: {bigscreen}")
        out.write(f"  participants join at {site}{reverse('facilitation:join_code')} with the code and a name")
        out.write("")
