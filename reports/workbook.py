"""The Excel workbook of a workshop's contributions, written row by row so memory stays flat.

Sheets: every contribution; one per case; the codebook ("Categories"), which
feeds a drop-down list on every Category cell; and participation counts.
openpyxl's write-only mode streams each sheet to a temporary file, so a
workshop of 100,000 comments needs no more memory than one of ten.

User text never becomes a formula: every string goes into a text cell
(``data_type = "s"``), and one that merely looks like a formula also gets
Excel's quote prefix, so editing the cell later keeps it text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from copy import copy
from datetime import date, datetime
from pathlib import Path

from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from facilitation.models import Comment, Room, Round
from reports.contributions import (
    COLUMN_KEYS,
    COLUMNS,
    Column,
    codebook,
    contribution_count,
    contribution_rows_by_case,
)
from workshops.importing import looks_like_formula
from workshops.models import Participant

PROGRESS_EVERY = 500
SHEET_TITLE_MAX = 31
CELL_TEXT_MAX = 32767  # Excel's limit for one cell
# Excel refuses these in sheet names; "History" is reserved by Excel's change tracking.
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED_TITLES = {"history"}

WRAPPED_KEYS = frozenset({"text", "prompt", "notes"})
CATEGORY_COLUMN = get_column_letter(COLUMN_KEYS.index("category") + 1)

# Named styles: registered once per workbook, applied by name (cheap: no per-cell style hashing).
HEADER = "Kehittämö header"
WRAPPED = "Kehittämö wrapped"
DATE = "Kehittämö date"
DATETIME = "Kehittämö date and time"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

Progress = Callable[[int], None]


def _named_styles() -> list[NamedStyle]:
    top = Alignment(vertical="top")
    return [
        NamedStyle(
            name=HEADER,
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDE7F0"),
            alignment=Alignment(vertical="top", wrap_text=True),
        ),
        NamedStyle(name=WRAPPED, alignment=Alignment(vertical="top", wrap_text=True)),
        NamedStyle(name=DATE, alignment=top, number_format=DATE_FORMAT),
        NamedStyle(name=DATETIME, alignment=top, number_format=DATETIME_FORMAT),
    ]


def new_workbook(*, write_only: bool = True) -> Workbook:
    """An empty workbook with Kehittämö's cell styles registered (write-only unless told otherwise)."""
    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    workbook.properties.creator = "Kehittämö"
    for style in _named_styles():
        workbook.add_named_style(style)
    return workbook


def clean_text(value: str) -> str:
    """User text as a cell can hold it: one kind of line break, no control characters, at most 32,767 characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:CELL_TEXT_MAX]


def _style_array(sheet, style: str) -> StyleArray:
    """A fresh copy of what a cell holds after ``cell.style = style``; the lookup is made once per workbook.

    Assigning a named style by name searches the workbook's styles on every cell; copying the
    resulting style ids is what that assignment ends with, at a fraction of the cost.
    """
    arrays = sheet.parent.__dict__.setdefault("_kehittamo_style_arrays", {})
    array = arrays.get(style)
    if array is None:
        probe = WriteOnlyCell(sheet)
        probe.style = style
        array = arrays[style] = probe._style
    return copy(array)


def cell(sheet, value, style: str | None = None):
    """What to append for ``value``: None for an empty cell, a plain value, or a styled cell.

    Strings always end up as text cells. One that openpyxl would read as a formula
    ("=…") or an error value ("#N/A"), or that a spreadsheet would run as a formula
    ("+…", "-…", "@…", full-width forms, a leading tab), becomes a cell forced to
    text with Excel's quote prefix. Any other unstyled string is passed as it is:
    openpyxl writes those as text, and skipping a cell object per value keeps
    100,000 rows fast.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = clean_text(value)
        risky = looks_like_formula(text) or text.startswith("=") or text in ERROR_CODES
        if style is None and not risky:
            return text
        result = WriteOnlyCell(sheet, text)
        result.data_type = "s"
        if style is not None:
            result._style = _style_array(sheet, style)
        if risky:
            result.quotePrefix = True
        return result
    if isinstance(value, datetime):
        style = DATETIME
    elif isinstance(value, date):
        style = DATE
    if style is None:
        return value
    result = WriteOnlyCell(sheet, value)
    result._style = _style_array(sheet, style)
    return result


def sheet_title(text: str, taken: set[str], fallback: str) -> str:
    """A valid, unique sheet name made of ``text``: no []:*?/\\ or control characters, at most 31 characters.

    Adds it to ``taken``.
    """
    # Control characters are not allowed in the workbook's XML: a case title holding one broke the whole file.
    base = " ".join(_SHEET_TITLE_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", text)).split()).strip("'") or fallback
    base = base[:SHEET_TITLE_MAX].strip().strip("'") or fallback[:SHEET_TITLE_MAX]
    title, number = base, 1
    while title.lower() in taken or title.lower() in _RESERVED_TITLES:
        number += 1
        suffix = f" ({number})"
        title = base[: SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
    taken.add(title.lower())
    return title


def _prepare(sheet, widths: Iterable[int]) -> None:
    """Column widths and the frozen header row; in write-only mode both must precede the first row."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _open_contribution_sheet(workbook: Workbook, title: str, columns: tuple[Column, ...]):
    """A new sheet with its widths, frozen header row and the headers (in the active language)."""
    sheet = workbook.create_sheet(title)
    _prepare(sheet, (column.width for column in columns))
    sheet.append([cell(sheet, str(column.header), HEADER) for column in columns])
    return sheet


def _close_contribution_sheet(sheet, columns: tuple[Column, ...], written: int, categories_ref: str | None) -> None:
    """The filter over the rows written, and the codebook's drop-down on the Category cells."""
    keys = [column.key for column in columns]
    last_row = written + 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    if categories_ref and "category" in keys:
        letter = get_column_letter(keys.index("category") + 1)
        sheet.data_validations.append(_category_validation(categories_ref, f"{letter}2:{letter}{max(last_row, 2)}"))


def _row_maker(sheet, columns: tuple[Column, ...]) -> Callable[[dict], list]:
    keys_and_styles = [(column.key, WRAPPED if column.key in WRAPPED_KEYS else None) for column in columns]

    def cells(row: dict) -> list:
        return [cell(sheet, row[key], style) for key, style in keys_and_styles]

    return cells


def write_contribution_sheet(
    workbook: Workbook,
    title: str,
    rows: Iterable[dict],
    *,
    columns: tuple[Column, ...] = COLUMNS,
    categories_ref: str | None = None,
    progress: Progress | None = None,
    written_before: int = 0,
) -> int:
    """Append a sheet of contribution rows (headers in the active language); returns the rows written.

    ``categories_ref`` (e.g. ``'Luokat'!$A$2:$A$9``) puts a drop-down list on the Category cells.
    ``progress`` gets the running total (``written_before`` plus this sheet's rows) every 500 rows.
    """
    sheet = _open_contribution_sheet(workbook, title, columns)
    cells = _row_maker(sheet, columns)
    written = 0
    for row in rows:
        sheet.append(cells(row))
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written_before + written)
    _close_contribution_sheet(sheet, columns, written, categories_ref)
    return written


def _write_contribution_sheets(
    workbook: Workbook,
    main_title: str,
    case_titles: dict[int, str],
    rows: Iterable[tuple[int | None, dict]],
    *,
    categories_ref: str | None,
    progress: Progress | None,
) -> tuple[int, dict[int, int]]:
    """Every contribution on the main sheet and again on its case's sheet, from one read of the rows.

    Write-only sheets each stream to a file of their own, so they can be filled side by side: each
    row is read and formatted once and appended to both sheets. Returns (rows written on all
    sheets, rows per case).
    """
    main = _open_contribution_sheet(workbook, main_title, COLUMNS)
    sheets = {case_id: _open_contribution_sheet(workbook, title, COLUMNS) for case_id, title in case_titles.items()}
    case_rows = dict.fromkeys(case_titles, 0)
    cells = _row_maker(main, COLUMNS)
    written = main_rows = 0
    next_progress = PROGRESS_EVERY
    for case_id, row in rows:
        values = cells(row)
        main.append(values)
        main_rows += 1
        written += 1
        case_sheet = sheets.get(case_id)
        if case_sheet is not None:
            case_sheet.append(values)
            case_rows[case_id] += 1
            written += 1
        if progress is not None and written >= next_progress:
            progress(written)
            next_progress = (written // PROGRESS_EVERY + 1) * PROGRESS_EVERY
    _close_contribution_sheet(main, COLUMNS, main_rows, categories_ref)
    for case_id, sheet in sheets.items():
        _close_contribution_sheet(sheet, COLUMNS, case_rows[case_id], categories_ref)
    return written, case_rows


def _category_validation(categories_ref: str, cells: str) -> DataValidation:
    """A drop-down of the codebook that warns, not refuses: "A; B" (several categories) stays possible."""
    validation = DataValidation(
        type="list",
        formula1=categories_ref,
        allow_blank=True,
        showDropDown=False,  # (sic) False shows the arrow
        showInputMessage=True,
        showErrorMessage=True,
        errorStyle="warning",
        promptTitle=_("Category")[:32],
        prompt=_("Pick a category from the list. Several: separate them with a semicolon (;).")[:255],
        errorTitle=_("Not in the codebook")[:32],
        error=_("This category is not on the Categories sheet. Keep it anyway?")[:225],
    )
    validation.add(cells)
    return validation


def categories_range(title: str, categories: list) -> str | None:
    """Where the codebook's names are, for the drop-downs; None for an empty codebook.

    An empty codebook gets no drop-down at all: a list validation over an empty
    range would reject every entry, and people may classify freely in Excel.
    """
    return f"{quote_sheetname(title)}!$A$2:$A${len(categories) + 1}" if categories else None


def _write_categories(workbook: Workbook, title: str, categories: list) -> None:
    """The codebook sheet: name and description of each category, or a note on how to get one."""
    sheet = workbook.create_sheet(title)
    _prepare(sheet, (30, 60))
    sheet.append([cell(sheet, _("Name"), HEADER), cell(sheet, _("Description"), HEADER)])
    for category in categories:
        sheet.append([cell(sheet, category.name), cell(sheet, category.description, WRAPPED)])
    if not categories:
        sheet.append([])
        note = _(
            "The workshop has no categories yet. Type categories freely in the Category column, "
            "or add them on the platform and export again to get a drop-down list."
        )
        sheet.append([cell(sheet, note, WRAPPED)])
        return
    sheet.auto_filter.ref = f"A1:B{len(categories) + 1}"


def _write_participation(workbook: Workbook, title: str, workshop, case_rows: dict[int, int]) -> None:
    """Counts only, never names of participants: who took part, and contributions per case, round and room."""
    sheet = workbook.create_sheet(title)
    _prepare(sheet, (44, 14, 28, 24, 12, 12, 14))

    def heading(*labels):
        sheet.append([cell(sheet, str(label), HEADER) for label in labels])

    def line(*values):
        sheet.append([cell(sheet, value) for value in values])

    people = Participant.objects.filter(workshop=workshop).aggregate(
        total=Count("pk"),
        invited=Count("pk", filter=Q(invited_at__isnull=False)),
        joined=Count("pk", filter=Q(first_joined_at__isnull=False)),
    )
    active = (
        Comment.objects.filter(workshop=workshop, deleted_at__isnull=True, author_participant__isnull=False)
        .values("author_participant")
        .distinct()
        .count()
    )
    heading(_("Participants"), _("Count"))
    line(_("On the participant list"), people["total"])
    line(_("Invited"), people["invited"])
    line(_("Joined"), people["joined"])
    line(_("Active (wrote at least one contribution)"), active)
    line()

    heading(_("Case"), _("Contributions"))
    for case in workshop.cases.order_by("position", "pk"):
        line(case.title, case_rows.get(case.pk, 0))
    line()

    notes = Q(comments__deleted_at__isnull=True)
    rounds = (
        Round.objects.filter(workshop=workshop)
        .annotate(
            room_count=Count("rooms", distinct=True),
            member_count=Count("members", distinct=True),
            note_count=Count("comments", filter=notes, distinct=True),
        )
        .order_by("number")
    )
    heading(_("Round"), _("Rooms"), _("Members"), _("Room notes"))
    for round_ in rounds:
        line(round_.number, round_.room_count, round_.member_count, round_.note_count)
    line()

    rooms = (
        Room.objects.filter(round__workshop=workshop)
        .select_related("round", "case", "leader")
        .annotate(
            member_count=Count("members", distinct=True), note_count=Count("comments", filter=notes, distinct=True)
        )
        .order_by("round__number", "index")
    )
    heading(_("Round"), _("Room"), _("Case"), _("Group leader"), _("Members"), _("Room notes"), _("Summary written"))
    yes = _("yes")
    for room in rooms:
        line(
            room.round.number,
            room.label,
            room.case.title if room.case else "",
            room.leader.name if room.leader else "",
            room.member_count,
            room.note_count,
            yes if room.summary.strip() else "",
        )


def workbook_row_total(workshop) -> tuple[int, dict[int, int]]:
    """How many contribution rows the workbook will have (all sheets), and the rows of each case."""
    per_case = {case_id: contribution_count(workshop, case_id) for case_id in _case_ids(workshop)}
    return contribution_count(workshop) + sum(per_case.values()), per_case


def _case_ids(workshop) -> list[int]:
    return list(workshop.cases.order_by("position", "pk").values_list("pk", flat=True))


def build_workbook(workshop, path: str | Path, *, language: str, progress: Progress | None = None) -> int:
    """Write the workshop's workbook to ``path`` in ``language``; returns the contribution rows written (all sheets).

    Reads the rows in chunks through ``reports.contributions`` and reports the
    running total of rows to ``progress`` every 500 rows and once at the end.
    """
    # The idea and feedback sheets use this module's cell helpers, so they are imported here.
    from reports.sheet_feedback import write_feedback_sheet
    from reports.sheet_ideas import write_ideas_sheet

    with translation.override(language):
        workbook = new_workbook()
        taken: set[str] = set()
        # Our own sheets keep their names; a case called "Categories" becomes "Categories (2)".
        main_title = sheet_title(_("All contributions"), taken, "Contributions")
        categories_title = sheet_title(_("Categories"), taken, "Categories")
        participation_title = sheet_title(_("Participation"), taken, "Participation")
        ideas_title = sheet_title(_("Ideas"), taken, "Ideas")
        feedback_title = sheet_title(_("Feedback"), taken, "Feedback")
        cases = list(workshop.cases.order_by("position", "pk"))
        case_titles = [
            sheet_title(case.title, taken, _("Case %(number)d") % {"number": n}) for n, case in enumerate(cases, 1)
        ]

        # The codebook is read first (its range feeds the drop-downs); its sheet goes after the rows.
        categories = codebook(workshop)
        categories_ref = categories_range(categories_title, categories)
        written, case_rows = _write_contribution_sheets(
            workbook,
            main_title,
            {case.pk: title for case, title in zip(cases, case_titles, strict=True)},
            contribution_rows_by_case(workshop),
            categories_ref=categories_ref,
            progress=progress,
        )
        _write_categories(workbook, categories_title, categories)
        _write_participation(workbook, participation_title, workshop, case_rows)
        write_ideas_sheet(workbook, ideas_title, workshop)
        write_feedback_sheet(workbook, feedback_title, workshop)
        workbook.save(str(path))
    if progress is not None:
        progress(written)
    return written
