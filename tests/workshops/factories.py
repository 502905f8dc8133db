from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from tests.accounts.factories import OrganisationFactory
from workshops.models import Case, Participant, Workshop


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Työpaja {n}")
    status = Workshop.Status.PLANNED
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    workshop = factory.SubFactory(WorkshopFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Tapausesimerkki {n}")
    presenter_name = factory.Faker("name", locale="fi_FI")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    workshop = factory.SubFactory(WorkshopFactory)
    name = factory.Faker("name", locale="fi_FI")
    email = factory.Sequence(lambda n: f"osallistuja{n}@example.fi")
    role = Participant.Role.PARTICIPANT
