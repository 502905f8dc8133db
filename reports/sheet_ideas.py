"""The workbook's Ideas sheet (Ideat): every idea with its votes, score and rank.

One row per idea and prioritisation (an idea collection nobody prioritised
gets one row per idea without votes), including merged and hidden ideas, so
the counts add up. Every text goes through ``reports.workbook.cell``, so an
idea such as ``=1+1`` stays text.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from facilitation.models import Idea, Phase
from facilitation.selectors_voting import RankedIdea, ranking_for, source_phase
from reports.workbook import HEADER, WRAPPED, cell

# (header, width); the order is the order of the columns.
COLUMNS = (
    ("Question", 30),
    ("Prioritisation", 24),
    ("Idea", 60),
    ("Author", 22),
    ("Can run it", 10),
    ("Merged into", 40),
    ("Hidden", 10),
    ("Appearances", 12),
    ("Wins", 8),
    ("Losses", 8),
    ("Skips", 8),
    ("Score (0–100)", 12),
    ("Rank", 14),
    ("Uncertainty (±)", 14),
    ("Dots", 8),
    ("Rating mean", 10),
    ("Ratings", 9),
)


def _headers() -> list[str]:
    labels = {
        "Question": _("Question"),
        "Prioritisation": _("Prioritisation"),
        "Idea": _("Idea"),
        "Author": _("Author"),
        "Can run it": _("Can run it"),
        "Merged into": _("Merged into"),
        "Hidden": _("Hidden"),
        "Appearances": _("Appearances"),
        "Wins": _("Wins"),
        "Losses": _("Losses"),
        "Skips": _("Skips"),
        "Score (0–100)": _("Score (0–100)"),
        "Rank": _("Rank"),
        "Uncertainty (±)": _("Uncertainty (±)"),
        "Dots": _("Dots"),
        "Rating mean": _("Rating mean"),
        "Ratings": _("Ratings"),
    }
    return [labels[key] for key, _width in COLUMNS]


def _order(item: RankedIdea) -> tuple:
    """Ranked ideas by place, then the others in the running, then merged, then hidden ones."""
    if item.hidden:
        group = 3
    elif item.merged_into_id:
        group = 2
    else:
        group = 0 if item.rank is not None else 1
    return (group, item.rank or 0, -(item.appearances or 0), item.id)


def _plain_items(phase: Phase) -> list[RankedIdea]:
    """The ideas of a collection nobody prioritised, without votes."""
    ideas = Idea.objects.filter(phase=phase).select_related("author_participant", "author_user", "merged_into")
    return [RankedIdea.of(idea) for idea in ideas.order_by("created_at", "pk")]


def write_ideas_sheet(workbook, title: str, workshop) -> int:
    """Write the sheet if the workshop collected ideas; returns the idea rows written."""
    collections = list(Phase.objects.filter(workshop=workshop, kind=Phase.Kind.IDEAS).order_by("position", "pk"))
    if not collections or not Idea.objects.filter(phase__in=collections).exists():
        return 0
    by_source: dict[int, list[Phase]] = {}
    for phase in Phase.objects.filter(workshop=workshop, kind=Phase.Kind.PRIORITISATION).order_by("position", "pk"):
        source = source_phase(phase)
        if source is not None:
            by_source.setdefault(source.pk, []).append(phase)

    sheet = workbook.create_sheet(title)
    for index, (_key, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([cell(sheet, label, HEADER) for label in _headers()])

    yes, anonymous, waiting = _("yes"), _("anonymous"), _("not enough votes yet")
    written = 0
    for collection in collections:
        votes = by_source.get(collection.pk) or [None]
        for vote in votes:
            if vote is None:
                items, method, pairwise = _plain_items(collection), "", False
            else:
                ranking = ranking_for(vote, include_inactive=True)
                items = ranking.items
                method = f"{vote.title} ({ranking.method_label})"
                pairwise = vote.voting == Phase.Voting.PAIRWISE
            for item in sorted(items, key=_order):
                if item.rank is not None:
                    rank = item.rank
                elif vote is not None and item.is_active and (pairwise or item.rating_count):
                    rank = waiting
                else:
                    rank = None
                voted = vote is not None
                sheet.append(
                    [
                        cell(sheet, collection.title, WRAPPED),
                        cell(sheet, method),
                        cell(sheet, item.text, WRAPPED),
                        cell(sheet, anonymous if item.anonymous else item.author_name),
                        cell(sheet, yes if item.can_run else ""),
                        cell(sheet, item.merged_into_text, WRAPPED),
                        cell(sheet, yes if item.hidden else ""),
                        cell(sheet, item.appearances if voted else None),
                        cell(sheet, item.wins if voted else None),
                        cell(sheet, item.losses if voted else None),
                        cell(sheet, item.skips if voted else None),
                        cell(sheet, item.score),
                        cell(sheet, rank),
                        cell(sheet, item.uncertainty),
                        cell(sheet, item.dots if voted else None),
                        cell(sheet, item.rating_mean),
                        cell(sheet, item.rating_count if voted else None),
                    ]
                )
                written += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{written + 1}"
    return written
