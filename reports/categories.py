"""Categorising comments: the workshop's categories, tagging in the platform, and re-import from Excel.

Services (``category_*``, ``comment*_tag*``, ``reimport_apply``) do the writes, each in one
transaction. :func:`reimport_preview` only reads: it turns an exported workbook whose Category
column was filled in Excel into a :class:`ReimportPreview` that the page shows before anything
is saved. Whatever the uploaded bytes are, the only exception it raises is
:class:`ReimportError`, whose message can be shown to the user as it is.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Left
from django.utils import translation
from django.utils.translation import gettext

from facilitation.models import Comment
from reports.contributions import COLUMNS, COMMENT_PREFIX, SUMMARY_PREFIX, comment_row_id
from reports.models import Category, CommentCategory

logger = logging.getLogger(__name__)

DEFAULT_COLOUR = "#0b4f8a"
# Colours given to categories that a re-import creates, in turn.
IMPORT_PALETTE = ("#0b4f8a", "#1e6b34", "#a4161a", "#6b3fa0", "#8a5a00", "#00696b", "#b0306a", "#4a525c")

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200  # the export has ~25 columns; a user may add some
_HEADER_SEARCH_ROWS = 20  # the heading row may sit under a title
_MAX_EMPTY_RUN = 5_000  # Excel keeps formatted empty rows; stop reading a sheet after this many in a row
# An .xlsx is a zip: refuse one that claims to unpack into far more than any export (a "zip bomb").
_MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
_MAX_ZIP_ENTRIES = 2000
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx
_EXCEL_ERRORS = frozenset({"#NAME?", "#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})
_ID = re.compile(rf"^({re.escape(COMMENT_PREFIX)}|{re.escape(SUMMARY_PREFIX)})(\d{{1,18}})$", re.IGNORECASE)
_CHUNK = 1000  # ids per IN (...) query
_NAME_MAX = Category._meta.get_field("name").max_length


# --- categories -----------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """A category name as stored: NFC, single spaces, no space at the ends."""
    return " ".join(unicodedata.normalize("NFC", name or "").split())


def name_key(name: str) -> str:
    """Names are the same category when their keys are equal ("Talous" = "TALOUS ")."""
    return clean_name(name).casefold()


def _check_name_free(category: Category) -> None:
    # Compared in Python: SQLite's lower() does not fold "Ä", and a codebook is short.
    others = Category.objects.filter(workshop_id=category.workshop_id).exclude(pk=category.pk)
    if name_key(category.name) in {name_key(name) for name in others.values_list("name", flat=True)}:
        raise ValidationError(
            {"name": gettext("There is already a category called “%(name)s”.") % {"name": category.name}}
        )


def _category_save(category: Category, *, name: str, colour: str, description: str) -> Category:
    category.name = clean_name(name)
    category.colour = (colour or "").strip().lower()
    category.description = " ".join((description or "").split())
    category.full_clean(exclude=["workshop"], validate_constraints=False)
    _check_name_free(category)
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError as exc:  # created by someone else at the same moment
        raise ValidationError(
            {"name": gettext("There is already a category called “%(name)s”.") % {"name": category.name}}
        ) from exc
    return category


def category_create(*, workshop, name: str, colour: str = DEFAULT_COLOUR, description: str = "") -> Category:
    """Add a category to the workshop's codebook.

    Raises ``ValidationError`` (by field) for an empty or taken name (case-insensitively) or a bad colour.
    """
    return _category_save(Category(workshop=workshop), name=name, colour=colour, description=description)


def category_update(*, category: Category, name: str, colour: str, description: str = "") -> Category:
    """Rename or recolour a category; the same rules as :func:`category_create`."""
    return _category_save(category, name=name, colour=colour, description=description)


def category_delete(*, category: Category) -> int:
    """Remove a category and its taggings; returns how many comments lost it."""
    with transaction.atomic():
        count = category.taggings.filter(comment__deleted_at__isnull=True).count()
        category.delete()
    return count


def category_merge(*, source: Category, target: Category) -> Category:
    """Move every tagging of ``source`` to ``target`` (no comment gets it twice), then delete ``source``."""
    if source.workshop_id != target.workshop_id:
        raise ValidationError(gettext("Categories of different workshops cannot be merged."))
    if source.pk == target.pk:
        raise ValidationError(gettext("Choose another category to merge into."))
    with transaction.atomic():
        already = CommentCategory.objects.filter(category=target).values("comment_id")
        CommentCategory.objects.filter(category=source).exclude(comment_id__in=already).update(category=target)
        source.delete()  # and the taggings left: comments that already had the target
    return target


# --- tagging ----------------------------------------------------------------------------------


def _check_taggable(comment: Comment, category: Category) -> None:
    if comment.workshop_id != category.workshop_id:
        raise ValidationError(gettext("The category belongs to another workshop."))
    if comment.deleted_at is not None:
        raise ValidationError(gettext("This comment has been deleted."))


def comment_tag(*, comment: Comment, category: Category) -> CommentCategory:
    """Tag one comment with a category of its own workshop (again is fine: nothing changes)."""
    _check_taggable(comment, category)
    tagging, _created = CommentCategory.objects.get_or_create(comment=comment, category=category)
    return tagging


def comment_untag(*, comment: Comment, category: Category) -> bool:
    """Take a category off one comment; False if it did not have it."""
    deleted, _ = CommentCategory.objects.filter(comment=comment, category=category).delete()
    return bool(deleted)


def comment_categories_set(*, comment: Comment, categories: Iterable[Category]) -> Comment:
    """Give one comment exactly these categories (all of its own workshop)."""
    wanted = {category.pk: category for category in categories}
    for category in wanted.values():
        _check_taggable(comment, category)
    with transaction.atomic():
        CommentCategory.objects.filter(comment=comment).exclude(category_id__in=wanted).delete()
        have = set(CommentCategory.objects.filter(comment=comment).values_list("category_id", flat=True))
        CommentCategory.objects.bulk_create(
            [CommentCategory(comment=comment, category=category) for pk, category in wanted.items() if pk not in have],
            ignore_conflicts=True,
        )
    return comment


def _workshop_comment_ids(workshop, comment_ids: Iterable[int]) -> list[int]:
    ids = {int(pk) for pk in comment_ids}
    return list(
        Comment.objects.filter(workshop=workshop, deleted_at__isnull=True, pk__in=ids).values_list("pk", flat=True)
    )


def comments_tag_bulk(*, workshop, comment_ids: Iterable[int], category: Category) -> int:
    """Tag many comments at once; ids of other workshops' or deleted comments are ignored.

    Returns how many comments got the category (those that had it already are not counted).
    """
    if category.workshop_id != workshop.pk:
        raise ValidationError(gettext("The category belongs to another workshop."))
    with transaction.atomic():
        ids = set(_workshop_comment_ids(workshop, comment_ids))
        ids -= set(
            CommentCategory.objects.filter(category=category, comment_id__in=ids).values_list("comment_id", flat=True)
        )
        CommentCategory.objects.bulk_create(
            [CommentCategory(comment_id=pk, category=category) for pk in sorted(ids)], ignore_conflicts=True
        )
    return len(ids)


def comments_untag_bulk(*, workshop, comment_ids: Iterable[int], category: Category) -> int:
    """Take a category off many comments of the workshop; returns how many lost it."""
    if category.workshop_id != workshop.pk:
        raise ValidationError(gettext("The category belongs to another workshop."))
    ids = {int(pk) for pk in comment_ids}
    deleted, _ = CommentCategory.objects.filter(
        category=category, comment__workshop=workshop, comment_id__in=ids
    ).delete()
    return deleted


# --- re-import: what the page shows -------------------------------------------------------


class ReimportError(Exception):
    """The file cannot be used at all; ``message`` is translated for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RowNote:
    """A row that was not used, and why."""

    sheet: str
    row: int
    row_id: str
    reason: str


@dataclass
class CategoryChange:
    """A comment whose categories the file changes: ``after`` replaces ``before``; ``new`` do not exist yet."""

    comment_id: int
    row_id: str
    after: list[str]
    before: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class Conflict:
    """One comment on several rows with different categories; the union is kept."""

    row_id: str
    places: list[str]
    kept: list[str]


@dataclass
class ReimportPreview:
    """What applying the file would do. Only ``workshop_id``, ``changes`` and ``new_categories`` are
    needed to apply it (and kept in the session); the rest is for the page."""

    workshop_id: int
    changes: list[CategoryChange]
    new_categories: list[str]
    sheets: list[str] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    rows_read: int = 0
    matched: int = 0
    unchanged: int = 0
    left_as_is: int = 0
    summaries_skipped: int = 0
    unmatched: list[RowNote] = field(default_factory=list)
    skipped: list[RowNote] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def changes_needing_new(self) -> int:
        """Comments that change only if the new categories are created."""
        return sum(1 for change in self.changes if change.new)

    def to_session(self) -> dict:
        return {
            "workshop": self.workshop_id,
            "changes": [[change.comment_id, change.row_id, change.after, change.new] for change in self.changes],
            "new": self.new_categories,
        }

    @classmethod
    def from_session(cls, data: dict) -> ReimportPreview:
        changes = [
            CategoryChange(comment_id=int(pk), row_id=str(row_id), after=list(after), new=list(new))
            for pk, row_id, after, new in data["changes"]
        ]
        return cls(workshop_id=int(data["workshop"]), changes=changes, new_categories=list(data["new"]))


@dataclass
class ReimportSummary:
    """What :func:`reimport_apply` changed."""

    comments_changed: int = 0
    added: int = 0
    removed: int = 0
    created: list[str] = field(default_factory=list)
    left_as_is: int = 0  # named a new category that was not created, or deleted since the preview


# --- re-import: reading the workbook ------------------------------------------------------


@dataclass
class _FileRow:
    sheet: str
    row: int
    row_id: str
    comment_id: int | None
    category: str  # the cell as text; "" = no change
    problem: str = ""


def _normalise_heading(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split()).rstrip(" *:")


def _headings(key: str) -> frozenset[str]:
    """The heading of a column of the export in every language of the platform."""
    column = next(column for column in COLUMNS if column.key == key)
    texts = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.add(_normalise_heading(str(column.header)))
    return frozenset(texts)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _read_upload(file) -> bytes:
    size = getattr(file, "size", None)
    data = b"" if size is not None and size > MAX_FILE_BYTES else file.read(MAX_FILE_BYTES + 1)
    if (size is not None and size > MAX_FILE_BYTES) or len(data) > MAX_FILE_BYTES:
        raise ReimportError(
            gettext("The file is too large. The largest file that can be read is %(limit)s MB.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if not data:
        raise ReimportError(gettext("The file is empty."))
    return data


def _unreadable() -> ReimportError:
    return ReimportError(
        gettext(
            "This file could not be read as an Excel workbook (.xlsx). It may be damaged. "
            "Open it in Excel, save it as an Excel workbook (.xlsx) and try again."
        )
    )


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, but also OSError/ValueError/EOFError on odd headers
        raise _unreadable() from exc
    if len(entries) > _MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > _MAX_UNZIPPED_BYTES:
        raise _unreadable()


def _read_workbook(data: bytes) -> tuple[list[_FileRow], list[str], list[str], int]:
    """Every data row under an Id + Category heading on any sheet; (rows, sheets read, sheets ignored, summaries)."""
    if data.startswith(_OLE2_MAGIC):
        raise ReimportError(
            gettext(
                "This is an old Excel file (.xls) or a password-protected workbook, which cannot be read. "
                "Save it as an Excel workbook (.xlsx) without a password and try again."
            )
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ReimportError(
            gettext(
                "This file is not an Excel workbook (.xlsx). Upload the workbook exported from this workshop, "
                "saved in Excel as an Excel workbook."
            )
        )
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises almost anything on a malformed workbook
        logger.info("re-import file is not a readable workbook", exc_info=True)
        raise _unreadable() from exc
    rows: list[_FileRow] = []
    used: list[str] = []
    ignored: list[str] = []
    summaries = 0
    id_headings, category_headings = _headings("id"), _headings("category")
    try:
        for sheet in workbook.worksheets:
            with contextlib.suppress(AttributeError):
                sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
            cells = (list(row) for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
            found = _read_sheet(
                sheet.title, cells, id_headings, category_headings, budget=MAX_ROWS - len(rows) - summaries
            )
            if found is None:
                ignored.append(sheet.title)
                continue
            sheet_rows, sheet_summaries = found
            used.append(sheet.title)
            rows.extend(sheet_rows)
            summaries += sheet_summaries
    except ReimportError:
        raise
    except Exception as exc:  # the sheet XML is parsed lazily, so errors surface here too
        logger.info("re-import file has an unreadable worksheet", exc_info=True)
        raise _unreadable() from exc
    finally:
        with contextlib.suppress(Exception):
            workbook.close()
    if not used:
        raise ReimportError(
            gettext(
                "This does not look like a workbook exported from Kehittämö: no sheet has both an Id column "
                "and a Category column. Upload the exported workbook with its column headings kept."
            )
        )
    return rows, used, ignored, summaries


def _header_columns(cells: list, id_headings, category_headings) -> tuple[int, int] | None:
    texts = [_normalise_heading(_cell_text(cell)) for cell in cells]
    id_column = next((index for index, text in enumerate(texts) if text in id_headings), None)
    category_column = next((index for index, text in enumerate(texts) if text in category_headings), None)
    if id_column is None or category_column is None:
        return None
    return id_column, category_column


def _read_sheet(
    title: str, rows: Iterator[list], id_headings, category_headings, *, budget: int
) -> tuple[list[_FileRow], int] | None:
    """The rows of one sheet, or None when it has no heading row with Id and Category."""
    header, header_row = None, 0
    for header_row, cells in enumerate(islice(rows, _HEADER_SEARCH_ROWS), start=1):  # noqa: B007
        header = _header_columns(cells, id_headings, category_headings)
        if header is not None:
            break
    if header is None:
        return None
    id_column, category_column = header
    found: list[_FileRow] = []
    summaries = empty_run = 0
    for number, cells in enumerate(rows, start=header_row + 1):
        id_text = _cell_text(cells[id_column]) if id_column < len(cells) else ""
        category = _cell_text(cells[category_column]) if category_column < len(cells) else ""
        if not id_text and not category:
            empty_run += 1
            if empty_run >= _MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        if _normalise_heading(id_text) in id_headings:
            continue  # the heading row again (copied sheets)
        if len(found) + summaries >= budget:
            raise ReimportError(
                gettext("The file has more than %(limit)s rows. Split it into smaller workbooks.")
                % {"limit": f"{MAX_ROWS:,}".replace(",", " ")}
            )
        match = _ID.match(id_text.replace(" ", ""))
        if match and match.group(1).upper() == SUMMARY_PREFIX:
            summaries += 1
            continue
        row = _FileRow(title, number, id_text, int(match.group(2)) if match else None, category)
        if not id_text:
            row.problem = gettext("The row has categories but no Id, so its comment is not known.")
        elif category in _EXCEL_ERRORS:
            row.problem = gettext("The Category cell shows an Excel error (%(error)s).") % {"error": category}
        found.append(row)
    return found, summaries


def split_names(cell: str, known: dict[str, Category]) -> list[str]:
    """The category names in a cell: separated by ";" (or ","), case-insensitively unique.

    A part that is an existing category's name is kept whole, even with a comma in it.
    """
    names: dict[str, str] = {}
    for part in re.split(r"[;\n]", cell):
        part = clean_name(part)
        pieces = [part] if name_key(part) in known else [clean_name(piece) for piece in part.split(",")]
        for piece in pieces:
            if piece:
                key = name_key(piece)
                names.setdefault(key, known[key].name if key in known else piece)
    return list(names.values())


# --- re-import: comparing with the database ---------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _sorted_names(names: Iterable[str]) -> list[str]:
    return sorted(names, key=name_key)


def _current_taggings(comment_ids: list[int]) -> dict[int, set[int]]:
    current: dict[int, set[int]] = {}
    for chunk in _chunks(comment_ids):
        for comment_id, category_id in CommentCategory.objects.filter(comment_id__in=chunk).values_list(
            "comment_id", "category_id"
        ):
            current.setdefault(comment_id, set()).add(category_id)
    return current


def _place(row: _FileRow) -> str:
    return gettext("sheet “%(sheet)s”, row %(row)s") % {"sheet": row.sheet, "row": row.row}


def reimport_preview(*, workshop, file) -> ReimportPreview:
    """Read an exported workbook whose Category column was edited, and say what applying it would do.

    Saves nothing. A filled Category cell gives the row's comment exactly those categories; an empty
    cell leaves it as it is. Raises :class:`ReimportError` when the file cannot be used at all.
    """
    rows, sheets, ignored, summaries = _read_workbook(_read_upload(file))
    known = {name_key(category.name): category for category in Category.objects.filter(workshop=workshop)}
    preview = ReimportPreview(
        workshop_id=workshop.pk,
        changes=[],
        new_categories=[],
        sheets=sheets,
        ignored_sheets=ignored,
        rows_read=len(rows) + summaries,
        summaries_skipped=summaries,
    )
    wanted = _rows_by_comment(rows, known, preview)
    matched = _matched_comments(workshop, wanted, preview)
    preview.matched = len(matched)
    by_pk = {category.pk: category for category in known.values()}
    current = _current_taggings(matched)
    new_names: dict[str, str] = {}
    for comment_id in matched:
        before = {name_key(by_pk[pk].name): by_pk[pk].name for pk in current.get(comment_id, ()) if pk in by_pk}
        after = _wanted_names(comment_id, wanted[comment_id], before, preview)
        if after is None:
            preview.left_as_is += 1
        elif set(after) == set(before):
            preview.unchanged += 1
        else:
            new = [name for key, name in after.items() if key not in known]
            new_names.update((name_key(name), name) for name in new if name_key(name) not in new_names)
            preview.changes.append(
                CategoryChange(
                    comment_id=comment_id,
                    row_id=comment_row_id(comment_id),
                    after=_sorted_names(after.values()),
                    before=_sorted_names(before.values()),
                    new=_sorted_names(new),
                )
            )
    preview.new_categories = _sorted_names(new_names.values())
    preview.changes.sort(key=lambda change: change.comment_id)
    texts = {}
    for chunk in _chunks([change.comment_id for change in preview.changes]):
        texts.update(Comment.objects.filter(pk__in=chunk).annotate(start=Left("text", 120)).values_list("pk", "start"))
    for change in preview.changes:
        change.text = texts.get(change.comment_id, "")
    return preview


_Places = list[tuple[_FileRow, "list[str] | None"]]


def _rows_by_comment(rows: list[_FileRow], known: dict[str, Category], preview: ReimportPreview) -> dict[int, _Places]:
    """comment id -> its rows with their names (None: empty cell); other rows go to the preview's notes."""
    wanted: dict[int, _Places] = {}
    for row in rows:
        if row.problem:
            preview.skipped.append(RowNote(row.sheet, row.row, row.row_id, row.problem))
        elif row.comment_id is None:
            reason = gettext("This is not an Id of a comment.")
            preview.unmatched.append(RowNote(row.sheet, row.row, row.row_id, reason))
        else:
            names = split_names(row.category, known) if row.category else None
            if any(len(name) > _NAME_MAX for name in names or ()):
                reason = gettext("A category name is longer than %(limit)s characters.") % {"limit": _NAME_MAX}
                preview.skipped.append(RowNote(row.sheet, row.row, row.row_id, reason))
                continue
            wanted.setdefault(row.comment_id, []).append((row, names))
    return wanted


def _matched_comments(workshop, wanted: dict[int, _Places], preview: ReimportPreview) -> list[int]:
    """The ids that are live comments of the workshop; the others go to ``preview.unmatched`` with the reason."""
    found = {}
    for chunk in _chunks(sorted(wanted)):
        for item in Comment.objects.filter(pk__in=chunk).values("pk", "workshop_id", "deleted_at"):
            found[item["pk"]] = item
    matched = []
    for comment_id, places in wanted.items():
        item, first = found.get(comment_id), places[0][0]
        if item is None:
            reason = gettext("No comment has this Id.")
        elif item["workshop_id"] != workshop.pk:
            reason = gettext("This comment belongs to another workshop.")
        elif item["deleted_at"] is not None:
            reason = gettext("This comment has been deleted.")
        else:
            matched.append(comment_id)
            continue
        preview.unmatched.append(RowNote(first.sheet, first.row, comment_row_id(comment_id), reason))
    return matched


def _wanted_names(
    comment_id: int, places: _Places, before: dict[str, str], preview: ReimportPreview
) -> dict[str, str] | None:
    """What one comment's rows ask for (key -> name), or None when every Category cell was empty.

    The export has each comment on the main sheet and on its case's sheet. A row that still says what
    the platform says is an untouched copy, so the edited row wins; rows edited differently are joined
    (their union), and that is reported as a conflict.
    """
    filled = [(row, {name_key(name): name for name in names}) for row, names in places if names is not None]
    if not filled:
        return None
    edited = [(row, names) for row, names in filled if set(names) != set(before)]
    if not edited:
        return dict(before)
    after: dict[str, str] = {}
    for _row, names in edited:
        after.update(names)
    if len({frozenset(names) for _row, names in edited}) > 1:
        places_text = [_place(row) for row, _names in edited]
        preview.conflicts.append(Conflict(comment_row_id(comment_id), places_text, _sorted_names(after.values())))
    return after


def reimport_apply(*, workshop, preview: ReimportPreview, create_new: bool) -> ReimportSummary:
    """Set the categories of the previewed comments to what the file said, in one transaction.

    Creates the new categories only when ``create_new``; without them, a comment whose row names a
    new category is left as it is. Comments deleted since the preview are left out.
    """
    if preview.workshop_id != workshop.pk:
        raise ValidationError(gettext("The preview belongs to another workshop."))
    summary = ReimportSummary()
    ids = [change.comment_id for change in preview.changes]
    with transaction.atomic():
        categories = {name_key(category.name): category for category in Category.objects.filter(workshop=workshop)}
        alive: set[int] = set()
        for chunk in _chunks(ids):
            alive.update(
                Comment.objects.filter(workshop=workshop, deleted_at__isnull=True, pk__in=chunk).values_list(
                    "pk", flat=True
                )
            )
        current = _current_taggings(sorted(alive))
        to_add: list[CommentCategory] = []
        to_remove: dict[int, list[int]] = {}  # category id -> comment ids
        for change in preview.changes:
            missing = [name for name in change.after if name_key(name) not in categories]
            if change.comment_id not in alive or (missing and not create_new):
                summary.left_as_is += 1
                continue
            for name in missing:
                categories[name_key(name)] = _category_for_import(workshop, name, len(categories))
                summary.created.append(categories[name_key(name)].name)
            target = {categories[name_key(name)].pk for name in change.after}
            before = current.get(change.comment_id, set())
            added, removed = target - before, before - target
            if not (added or removed):
                continue
            summary.comments_changed += 1
            summary.added += len(added)
            summary.removed += len(removed)
            to_add.extend(CommentCategory(comment_id=change.comment_id, category_id=pk) for pk in added)
            for pk in removed:
                to_remove.setdefault(pk, []).append(change.comment_id)
        for category_id, comment_ids in to_remove.items():
            for chunk in _chunks(comment_ids):
                CommentCategory.objects.filter(category_id=category_id, comment_id__in=chunk).delete()
        CommentCategory.objects.bulk_create(to_add, batch_size=_CHUNK, ignore_conflicts=True)
    return summary


def _category_for_import(workshop, name: str, index: int) -> Category:
    colour = IMPORT_PALETTE[index % len(IMPORT_PALETTE)]
    try:
        return category_create(workshop=workshop, name=name, colour=colour)
    except ValidationError:
        # made meanwhile by someone else under the same name: use theirs
        existing = [c for c in Category.objects.filter(workshop=workshop) if name_key(c.name) == name_key(name)]
        if existing:
            return existing[0]
        raise
