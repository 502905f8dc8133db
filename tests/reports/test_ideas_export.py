"""The Ideas sheet of the workbook and the ideas section of the report."""

from __future__ import annotations

import zipfile

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from facilitation.models import Duel, Phase
from reports.selectors_ideas import idea_report
from reports.workbook import build_workbook
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import ParticipantFactory


def _idea(phase, text, **fields):
    return IdeaFactory(phase=phase, text=text, **fields)


def _duels(phase, winner, loser, times):
    for _ in range(times):
        Duel.objects.create(phase=phase, left=winner, right=loser, choice="left", answered_at=timezone.now())


@pytest.fixture
def ideas(live_workshop):
    author = ParticipantFactory(workshop=live_workshop, name="Maija Meikäläinen")
    collection = Phase.objects.create(
        workshop=live_workshop, position=50, kind=Phase.Kind.IDEAS, title="Mikä on tärkeintä?"
    )
    vote = Phase.objects.create(
        workshop=live_workshop, position=51, kind=Phase.Kind.PRIORITISATION, title="Duels", min_appearances=3
    )
    best = _idea(collection, "Lisää penkkejä", author_participant=author, can_run=True)
    formula = _idea(collection, "=1+1", author_participant=author, anonymous=True)
    third = _idea(collection, "Pidempi aukioloaika")
    late = _idea(collection, "Myöhäinen idea")
    duplicate = _idea(collection, "Penkkejä lisää", merged_into=best)
    hidden = _idea(collection, "Asiaton idea", hidden_at=timezone.now())
    _duels(vote, best, formula, 3)
    _duels(vote, duplicate, third, 2)  # counts for "Lisää penkkejä"
    _duels(vote, formula, third, 3)
    _duels(vote, late, third, 1)
    return {
        "workshop": live_workshop,
        "vote": vote,
        "best": best,
        "formula": formula,
        "third": third,
        "late": late,
        "duplicate": duplicate,
        "hidden": hidden,
    }


def _sheet(workshop, tmp_path):
    path = tmp_path / "book.xlsx"
    build_workbook(workshop, path, language="en")
    return path, load_workbook(path)


def test_the_ideas_sheet_lists_every_idea_with_votes_and_rank(ideas, tmp_path):
    _path, book = _sheet(ideas["workshop"], tmp_path)
    sheet = book["Ideas"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[:7] == ["Question", "Prioritisation", "Idea", "Author", "Can run it", "Merged into", "Hidden"]
    by_text = {row[header.index("Idea")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert len(by_text) == 6, "every idea, merged and hidden ones too"

    best = by_text["Lisää penkkejä"]
    assert best["Question"] == "Mikä on tärkeintä?" and best["Prioritisation"].startswith("Duels")
    assert best["Author"] == "Maija Meikäläinen" and best["Can run it"] == "yes"
    assert (best["Wins"], best["Losses"], best["Appearances"], best["Rank"]) == (5, 0, 5, 1)
    assert 50 < best["Score (0–100)"] <= 100 and best["Uncertainty (±)"] > 0

    assert by_text["=1+1"]["Author"] == "anonymous"
    assert by_text["Penkkejä lisää"]["Merged into"] == "Lisää penkkejä" and by_text["Penkkejä lisää"]["Rank"] is None
    assert by_text["Asiaton idea"]["Hidden"] == "yes" and by_text["Asiaton idea"]["Rank"] is None
    assert by_text["Myöhäinen idea"]["Rank"] == "not enough votes yet"
    assert rows[1][header.index("Idea")] == "Lisää penkkejä", "ranked first, then the others"


def test_an_idea_that_looks_like_a_formula_stays_text(ideas, tmp_path):
    path, book = _sheet(ideas["workshop"], tmp_path)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name
    formula = next(c for c in book["Ideas"]["C"] if c.value == "=1+1")
    assert formula.data_type == "s" and formula.quotePrefix


def test_no_ideas_no_sheet(live_workshop, tmp_path):
    _path, book = _sheet(live_workshop, tmp_path)
    assert "Ideas" not in book.sheetnames
    assert idea_report(live_workshop) == []


def test_the_report_selector_leaves_out_hidden_ideas(ideas):
    (question,) = idea_report(ideas["workshop"])
    assert question.idea_count == 4 and question.merged_count == 1
    (ranking,) = question.rankings
    assert ranking.ranked[0].text == "Lisää penkkejä"
    texts = {item.text for item in ranking.items}
    assert "Asiaton idea" not in texts and "Penkkejä lisää" not in texts
    assert {item.text for item in ranking.unranked} == {"Myöhäinen idea"}


def test_the_report_shows_the_ranking_with_scores(ideas, facilitator_client):
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = facilitator_client.get(reverse("reports:report", args=[ideas["workshop"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ideas and priorities" in html and "Mikä on tärkeintä?" in html
    section = html[html.index("Ideas and priorities") :]
    assert section.index("Lisää penkkejä") < section.index("Pidempi aukioloaika")
    assert "±" in section and "Not enough votes yet" in section and "Myöhäinen idea" in section
    assert "Asiaton idea" not in html, "a hidden idea is not shared"
    assert "Maija Meikäläinen" not in section, "the report names no authors"
    assert "=1+1" in section


def test_an_unprioritised_collection_lists_its_ideas(live_workshop, facilitator_client):
    collection = Phase.objects.create(workshop=live_workshop, position=50, kind=Phase.Kind.IDEAS, title="Ideoita")
    _idea(collection, "Yksi idea")
    (question,) = idea_report(live_workshop)
    assert question.rankings == [] and question.ideas == ["Yksi idea"]
    html = facilitator_client.get(reverse("reports:report", args=[live_workshop.pk])).content.decode()
    assert "Yksi idea" in html
