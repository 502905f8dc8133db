from __future__ import annotations

import uuid

import factory

from facilitation.models import Comment, Idea, Phase, Prompt
from tests.workshops.factories import WorkshopFactory


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    workshop = factory.SubFactory(WorkshopFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = Phase.Kind.DISCUSSION
    title = factory.Sequence(lambda n: f"Vaihe {n}")
    duration_minutes = 10


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    phase = factory.SubFactory(PhaseFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Kysymys {n}?")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    client_id = factory.LazyFunction(uuid.uuid4)
    phase = factory.SubFactory(PhaseFactory)
    workshop = factory.SelfAttribute("phase.workshop")
    case = factory.SelfAttribute("phase.case")
    text = factory.Sequence(lambda n: f"Havainto {n}")
    language = "fi"


class IdeaFactory(factory.django.DjangoModelFactory):
    """An idea in an ideas phase; pass ``phase`` (its workshop follows) and any author fields."""

    class Meta:
        model = Idea

    client_id = factory.LazyFunction(uuid.uuid4)
    phase = factory.SubFactory(PhaseFactory, kind=Phase.Kind.IDEAS)
    workshop = factory.SelfAttribute("phase.workshop")
    text = factory.Sequence(lambda n: f"Idea {n}")
    language = "fi"
