"""The flat rows every export is made of: context, anonymity, summaries, chunked reading."""

from __future__ import annotations

import uuid

import pytest

from facilitation import services
from facilitation.models import LiveState
from reports.contributions import COLUMN_KEYS, contribution_count, contribution_rows
from reports.models import Category, CommentCategory
from tests.facilitation.conftest import viewer_of
from tests.workshops.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def _write(workshop, person, text, **extra):
    phase = LiveState.objects.get(pk=workshop.pk).current_phase
    comment, _ = services.comment_create(
        viewer=viewer_of(workshop, participant=person),
        phase_id=phase.pk,
        prompt_id=None,
        parent_id=extra.pop("parent_id", None),
        text=text,
        anonymous=extra.pop("anonymous", False),
        client_id=uuid.uuid4(),
        language="fi",
    )
    return comment


def test_rows_carry_context_and_hide_anonymous_authors(live_workshop):
    aino = ParticipantFactory(
        workshop=live_workshop, name="Aino", organisation_name="Esimerkkilä", department="Nuoriso"
    )
    named = _write(live_workshop, aino, "Hyvä käytäntö\ntoinen rivi")
    _write(live_workshop, aino, "=HYPERLINK(1)", anonymous=True)
    _write(live_workshop, aino, "Vastaus", parent_id=named.pk)
    category = Category.objects.create(workshop=live_workshop, name="Resurssit")
    CommentCategory.objects.create(comment=named, category=category)
    rows = list(contribution_rows(live_workshop))
    assert contribution_count(live_workshop) == len(rows) == 3
    assert all(tuple(row) == COLUMN_KEYS for row in rows)
    first, anonymous, reply = rows
    assert first["id"] == f"C{named.pk}" and first["author"] == "Aino" and first["organisation"] == "Esimerkkilä"
    assert first["case"] == live_workshop.cases.order_by("position").first().title
    assert first["category"] == "Resurssit" and first["text"] == "Hyvä käytäntö\ntoinen rivi"
    assert first["created"].tzinfo is None
    assert anonymous["author"] in {"anonymous", "nimetön"} and anonymous["organisation"] == ""
    assert "Aino" not in str(anonymous.values())
    assert reply["parent"] == f"C{named.pk}"


def test_rows_count_reactions_and_list_categories_with_the_same_queries_for_1_and_30_comments(
    live_workshop, django_assert_num_queries
):
    from facilitation.models import Reaction

    people = [ParticipantFactory(workshop=live_workshop) for _ in range(4)]
    first = _write(live_workshop, people[0], "Eka")
    for person in people[:3]:
        Reaction.objects.create(comment=first, participant=person, kind=Reaction.Kind.AGREE)
    Reaction.objects.create(comment=first, participant=people[3], kind=Reaction.Kind.GOOD_POINT)
    for name in ("Tilat", "Resurssit"):
        category = Category.objects.create(workshop=live_workshop, name=name)
        CommentCategory.objects.create(comment=first, category=category)
    with django_assert_num_queries(4):  # comments, their reactions, their categories, the rooms' summaries
        (row,) = list(contribution_rows(live_workshop))
    assert (row["agree"], row["good_point"]) == (3, 1)
    assert row["category"] == "Resurssit; Tilat"
    for number in range(29):
        _write(live_workshop, people[number % 3], f"Lisää {number}")
    with django_assert_num_queries(4):
        rows = list(contribution_rows(live_workshop))
    assert len(rows) == 30 and [row["agree"] for row in rows[1:]] == [0] * 29
