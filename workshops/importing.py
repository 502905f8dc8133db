"""Reading the participant lists that contact persons upload (Excel workbooks and CSV files).

Pure: bytes in, an :class:`ImportPreview` out. Nothing is saved, so the page can show
every row with its problems before anyone decides to import. Whatever the bytes are,
the only exception that leaves :func:`read_participant_file` is
:class:`ParticipantFileError`, whose message can be shown to the user as it is.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

import openpyxl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext

from workshops.models import Participant

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
FIELDS = ("name", "email", "organisation_name", "department", "role_group", "role")

# Columns after this one are never read (a row of 16 384 cells is not a participant).
MAX_COLUMNS = 100
# Reading stops after this many rows. Excel often leaves thousands of formatted empty rows
# after the list; a participant further down would be over MAX_ROWS anyway.
_MAX_SCANNED_ROWS = MAX_ROWS * 10
# An .xlsx is a zip: refuse one that claims to unpack into more than this (a "zip bomb").
_MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
_MAX_ZIP_ENTRIES = 1000

_CSV_SEPARATORS = ";,\t"
_SNIFF_CHARS = 16 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
# Old binary Excel (.xls) and password-protected .xlsx are both OLE2 compound files.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})

# A spreadsheet treats a cell starting with these as a formula ("CSV injection").
_FORMULA_STARTS = frozenset("=+-@＝＋－＠")
# Leading characters that hide a formula from a quick look; trimming would silently drop them.
_HIDDEN_FORMULA_STARTS = frozenset("\t\r")
_LEADING_IGNORED = re.compile(r"^[\s\x00-\x1f\x7f]+")

_DEFAULT_ROLE = Participant.Role.PARTICIPANT.value
_OTHER_GROUP = Participant.RoleGroup.OTHER.value

# Column headings, "|"-separated, as _normalise_heading() leaves them. Keys are "sources":
# the fields plus first_name/last_name, joined into the name when there is no name column.
_HEADINGS: dict[str, str] = {
    "name": "name|full name|nimi|koko nimi|namn|fullständigt namn",
    "first_name": "first name|firstname|given name|etunimi|förnamn",
    "last_name": "last name|lastname|surname|family name|sukunimi|efternamn",
    "email": "email|e-mail|email address|e-mail address|sähköposti|sähköpostiosoite|e-post|e-postadress",
    "organisation_name": "organisation|organization|organisation name|organization name|organisaatio",
    "department": "department|toimiala|osasto|sektor|avdelning",
    "role_group": "role group|ryhmä",
    "role": "role|rooli|roll",
}
_HEADING_SOURCE = {heading: source for source, headings in _HEADINGS.items() for heading in headings.split("|")}
_SOURCE_FIELD = {"first_name": "name", "last_name": "name"}

# Words in the role and role group columns (fi, sv, en), as _normalise_word() leaves them.
_RG = Participant.RoleGroup
_ROLE_GROUP_WORDS: dict[str, str] = {
    _RG.STAFF.value: "staff|employee|henkilöstö|henkilökunta|työntekijä|työntekijät|viranhaltija|personal|anställd",
    _RG.ELECTED_OFFICIAL.value: "elected official|elected officials|luottamushenkilö|luottamushenkilöt|"
    "förtroendevald|förtroendevalda",
    _RG.RESIDENT.value: "resident|residents|kuntalainen|kuntalaiset|asukas|asukkaat|kommuninvånare|invånare",
    _RG.ASSOCIATION.value: "association|associations|järjestö|järjestöt|yhdistys|förening|föreningar",
    _RG.ENTREPRENEUR.value: "entrepreneur|entrepreneurs|yrittäjä|yrittäjät|företagare",
    _RG.OTHER.value: "other|muu|annan|övrig|övriga",
}
_ROLE_WORDS: dict[str, str] = {
    Participant.Role.PARTICIPANT.value: "participant|osallistuja|deltagare",
    Participant.Role.PRESENTER.value: "presenter|esittelijä|presentatör",
    Participant.Role.GROUP_LEADER.value: "group leader|ryhmänvetäjä|ryhmän vetäjä|gruppledare",
}
_WORD_GROUP = {word: group for group, words in _ROLE_GROUP_WORDS.items() for word in words.split("|")}
_WORD_ROLE = {word: role for role, words in _ROLE_WORDS.items() for word in words.split("|")}
# "Henkilöstö, esittelijä" or "staff / group leader": one cell may say both things.
_ROLE_SPLIT = re.compile(r"[,;/|+&\n]")


class ParticipantFileError(Exception):
    """The file is not a participant list at all (or is too big).

    ``str(exc)`` and ``exc.message`` are a translated message for the user.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ImportRow:
    """One data row of the file, cleaned, with what stops it from being imported."""

    number: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the row can be imported as it is."""
        return not self.problems


@dataclass
class ImportPreview:
    """Everything read from one file: every data row in file order, and what the headings meant."""

    rows: list[ImportRow]
    recognised_columns: list[str]
    ignored_columns: list[str]

    @property
    def valid_rows(self) -> list[ImportRow]:
        """The rows that can be imported."""
        return [row for row in self.rows if row.ok]

    @property
    def invalid_rows(self) -> list[ImportRow]:
        """The rows with at least one problem."""
        return [row for row in self.rows if not row.ok]


@dataclass
class _Header:
    """What the heading row says: which column feeds which source, and what was left over."""

    columns: dict[str, int]
    recognised: list[str]
    ignored: list[str]

    @property
    def has_name(self) -> bool:
        return bool({"name", "first_name", "last_name"} & self.columns.keys())

    @property
    def has_email(self) -> bool:
        return "email" in self.columns


_Table = list[tuple[int, list[str]]]


def read_participant_file(*, filename: str, data: bytes, existing_emails: Iterable[str] = ()) -> ImportPreview:
    """Read an uploaded participant list (.xlsx, or CSV/text in any common Excel flavour).

    The format is decided by the content, not by ``filename``; the name only picks the
    better error message. ``existing_emails`` are the workshop's current participants, so
    that re-importing the same list flags them instead of creating duplicates.

    Raises :class:`ParticipantFileError` when the file is too big, has too many rows,
    cannot be read, or has no heading row with at least a name and an e-mail column.
    Problems in single rows never raise; they are listed on the row.
    """
    if not data:
        raise ParticipantFileError(gettext("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise ParticipantFileError(
            gettext("The file is too large. The largest file that can be read is %(limit)s MB.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    header, body = _read_table(filename=filename, data=data)
    return ImportPreview(
        rows=_build_rows(body, header, existing_emails),
        recognised_columns=header.recognised,
        ignored_columns=header.ignored,
    )


# --- reading the bytes into a table ------------------------------------------------------


def _read_table(*, filename: str, data: bytes) -> tuple[_Header, _Table]:
    """Dispatch on the content: zip means .xlsx, OLE2 means .xls, anything else must be text."""
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE2_MAGIC):
        raise ParticipantFileError(
            gettext(
                "This is an old Excel file (.xls) or a password-protected workbook, which cannot be read. "
                "Save it as an Excel workbook (.xlsx) without a password, or as CSV, and try again."
            )
        )
    return _read_csv(_decode_text(data, filename=filename))


def _read_xlsx(data: bytes) -> tuple[_Header, _Table]:
    """Read the first worksheet of an .xlsx workbook."""
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises almost anything on a malformed workbook
        logger.info("participant file is not a readable workbook", exc_info=True)
        raise _unreadable_excel_error() from exc
    try:
        if not workbook.worksheets:
            raise ParticipantFileError(gettext("The file is empty."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
        rows = ([_cell_text(value) for value in row] for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
        return _read_rows(rows)
    except ParticipantFileError:
        raise
    except Exception as exc:  # the sheet XML is parsed lazily, so errors surface here too
        logger.info("participant file has an unreadable worksheet", exc_info=True)
        raise _unreadable_excel_error() from exc
    finally:
        with contextlib.suppress(Exception):
            workbook.close()


def _check_zip(data: bytes) -> None:
    """Refuse broken zips and zips that would unpack into far more than a participant list."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, but also OSError/ValueError/EOFError on odd headers
        raise _unreadable_excel_error() from exc
    if len(entries) > _MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > _MAX_UNZIPPED_BYTES:
        raise _unreadable_excel_error()


def _cell_text(value: object) -> str:
    """A worksheet value as the text the user sees (12.0 -> "12", dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()  # Excel stores a date as a datetime at midnight
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value))


def _decode_text(data: bytes, *, filename: str) -> str:
    """Decode a CSV/text file: BOM first, then UTF-8, then Windows-1252 (Finnish Excel)."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)  # Excel's "Unicode text"
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # binary that happens to decode
        return unicodedata.normalize("NFC", text)
    if PurePath(filename).suffix.lower() in _EXCEL_SUFFIXES:
        raise _unreadable_excel_error()
    raise _unreadable_error()


def _read_csv(text: str) -> tuple[_Header, _Table]:
    """Read delimited text, with the separator whose heading row makes sense."""
    candidates = _separator_candidates(text)
    separator = next((sep for sep in candidates if _is_usable_header(_first_row(text, sep))), candidates[0])
    try:
        return _read_rows(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as exc:  # e.g. a "cell" longer than csv.field_size_limit()
        raise _unreadable_error() from exc


def _separator_candidates(text: str) -> list[str]:
    """Separators to try, best guess first: csv.Sniffer's, then by count in the heading line."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    candidates: list[str] = []
    with contextlib.suppress(csv.Error):
        sniffed = csv.Sniffer().sniff(sample, delimiters=_CSV_SEPARATORS).delimiter
        if sniffed in _CSV_SEPARATORS:
            candidates.append(sniffed)
    heading_line = next((line for line in sample.splitlines() if line.strip()), "")
    by_count = sorted(_CSV_SEPARATORS, key=heading_line.count, reverse=True)
    return list(dict.fromkeys([*candidates, *by_count]))


def _first_row(text: str, separator: str) -> list[str]:
    """The first non-empty row of ``text`` split with ``separator`` ([] if there is none)."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        return next((row for row in itertools.islice(reader, _MAX_SCANNED_ROWS) if not _is_empty(row)), [])
    except csv.Error:
        return []


def _read_rows(rows: Iterable[Sequence[str]]) -> tuple[_Header, _Table]:
    """Find the heading row, check it, and collect the data rows under it with their row numbers.

    Empty rows before the heading and after the last participant are skipped; empty rows
    in between are kept so they can be reported. Row numbers are the spreadsheet's own.
    """
    header: _Header | None = None
    body: _Table = []
    pending_empty: list[int] = []
    for number, row in enumerate(rows, start=1):
        if number > _MAX_SCANNED_ROWS:
            break
        cells = list(row[:MAX_COLUMNS])
        if _is_empty(cells):
            if header is not None:
                pending_empty.append(number)
            continue
        if header is None:
            header = _parse_header(cells)
            continue
        body.extend((empty_number, []) for empty_number in pending_empty)
        pending_empty.clear()
        body.append((number, cells))
        if len(body) > MAX_ROWS:
            raise ParticipantFileError(
                gettext("The file has more than %(limit)s participant rows. Split it into smaller files.")
                % {"limit": MAX_ROWS}
            )
    if header is None:
        raise ParticipantFileError(gettext("The file is empty."))
    return header, body


def _is_empty(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells)


# --- the heading row ----------------------------------------------------------------------


def _normalise_heading(text: str) -> str:
    """ "  E-MAIL * " -> "e-mail"; "role_group" -> "role group". Accents stay as typed."""
    words = text.casefold().replace("_", " ").split()
    return " ".join(words).rstrip(" *:")


def _map_header(cells: Sequence[str]) -> _Header:
    """Which column feeds which source; the first of two same-meaning columns wins."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        source = _HEADING_SOURCE.get(_normalise_heading(cell))
        if source is None or source in columns:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        columns[source] = index
    if "name" in columns:  # a full-name column beats first + last name
        for source in ("first_name", "last_name"):
            if source in columns:
                ignored.append(cells[columns.pop(source)].strip())
    found = {_SOURCE_FIELD.get(source, source) for source in columns}
    return _Header(columns=columns, recognised=[name for name in FIELDS if name in found], ignored=ignored)


def _is_usable_header(cells: Sequence[str]) -> bool:
    header = _map_header(cells)
    return header.has_name and header.has_email


def _parse_header(cells: Sequence[str]) -> _Header:
    """Map the heading row, or say which required column is missing."""
    header = _map_header(cells)
    if header.has_name and header.has_email:
        return header
    if header.has_email:
        message = gettext(
            "The first row has no name column. Add a column with the heading Name (Nimi, Namn), "
            "or First name and Last name."
        )
    elif header.has_name:
        message = gettext(
            "The first row has no e-mail column. Add a column with the heading E-mail (Sähköposti, E-post)."
        )
    else:
        message = _not_a_list_error().message
    raise ParticipantFileError(message)


# --- the data rows ------------------------------------------------------------------------


def _build_rows(body: _Table, header: _Header, existing_emails: Iterable[str]) -> list[ImportRow]:
    """Clean and check every data row; duplicates are judged in file order."""
    existing = {_clean_email(email) for email in existing_emails if email}
    first_row_with: dict[str, int] = {}
    return [_build_row(number, cells, header, first_row_with, existing) for number, cells in body]


def _build_row(
    number: int, cells: Sequence[str], header: _Header, first_row_with: dict[str, int], existing: set[str]
) -> ImportRow:
    """One ImportRow; records its e-mail in ``first_row_with`` for the rows after it."""
    if _is_empty(cells):
        return ImportRow(number=number, values=_clean_values({}), problems=[gettext("Empty row.")])
    raw = {source: cells[index] if index < len(cells) else "" for source, index in header.columns.items()}
    values = _clean_values(raw)
    problems = [
        *_name_problems(values["name"]),
        *_email_problems(values["email"], number, first_row_with, existing),
        *_length_problems(values),
        *_formula_problems(raw),
    ]
    return ImportRow(number=number, values=values, problems=problems)


def _clean_values(raw: dict[str, str]) -> dict[str, str]:
    """Trimmed, whitespace-collapsed values keyed by FIELDS; roles as model choice values."""
    name = _clean_text(raw.get("name", "")) or _clean_text(f"{raw.get('first_name', '')} {raw.get('last_name', '')}")
    role_group, role = _parse_roles(raw.get("role_group", ""), raw.get("role", ""))
    return {
        "name": name,
        "email": _clean_email(raw.get("email", "")),
        "organisation_name": _clean_text(raw.get("organisation_name", "")),
        "department": _clean_text(raw.get("department", "")),
        "role_group": role_group,
        "role": role,
    }


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _clean_email(value: str) -> str:
    return value.strip().lower()


def _name_problems(name: str) -> list[str]:
    return [] if name else [gettext("Name is missing.")]


def _email_problems(email: str, number: int, first_row_with: dict[str, int], existing: set[str]) -> list[str]:
    """Missing, invalid, already earlier in the file, already in the workshop."""
    if not email:
        return [gettext("E-mail address is missing.")]
    problems = []
    if not _is_valid_email(email):
        problems.append(gettext("E-mail address is not valid."))
    earlier = first_row_with.setdefault(email, number)
    if earlier != number:
        problems.append(gettext("Same e-mail address as row %(row)s.") % {"row": earlier})
    if email in existing:
        problems.append(gettext("Someone with this e-mail address is already a participant in this workshop."))
    return problems


def _is_valid_email(email: str) -> bool:
    if len(email) > _max_length("email"):
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _length_problems(values: dict[str, str]) -> list[str]:
    """Values longer than the model field can hold."""
    problems = []
    for name in ("name", "organisation_name", "department"):
        limit = _max_length(name)
        if len(values[name]) > limit:
            problems.append(
                gettext("%(column)s is too long: %(length)s characters, at most %(limit)s.")
                % {"column": _column_label(name), "length": len(values[name]), "limit": limit}
            )
    return problems


def _formula_problems(raw: dict[str, str]) -> list[str]:
    """One problem per field whose cell would run as a formula when the list is opened in Excel."""
    fields = {_SOURCE_FIELD.get(source, source) for source, value in raw.items() if looks_like_formula(value)}
    return [
        gettext("%(column)s starts like a spreadsheet formula (=, +, -, @); remove that character.")
        % {"column": _column_label(name)}
        for name in FIELDS
        if name in fields
    ]


def looks_like_formula(value: str) -> bool:
    """True for "=SUM(A1)", "+358...", "-", "@x", their full-width forms, and "\\tx" / "\\rx".

    Leading whitespace and control characters do not hide a formula: a program reading the file may drop
    them (the workbook itself cannot hold control characters), and what follows would then run.
    """
    stripped = _LEADING_IGNORED.sub("", value)
    if not stripped.strip():
        return False
    return value[0] in _HIDDEN_FORMULA_STARTS or stripped[0] in _FORMULA_STARTS


def _max_length(field_name: str) -> int:
    return Participant._meta.get_field(field_name).max_length


def _column_label(field_name: str) -> str:
    """The column's name in messages, in the active language."""
    labels = {
        "name": gettext("Name"),
        "email": gettext("E-mail"),
        "organisation_name": gettext("Organisation"),
        "department": gettext("Department"),
        "role_group": gettext("Role group"),
        "role": gettext("Role"),
    }
    return labels[field_name]


# --- roles --------------------------------------------------------------------------------


def _parse_roles(role_group_cell: str, role_cell: str) -> tuple[str, str]:
    """(role_group, role) from the role group and role columns; either may hold either kind.

    A recognised group wins over an unrecognised word; an unrecognised non-empty value
    means the group "other". The role defaults to "participant".
    """
    groups: list[str] = []
    roles: list[str] = []
    unknown = False
    for word in _role_words(role_group_cell, role_cell):
        if word in _WORD_GROUP:
            groups.append(_WORD_GROUP[word])
        elif word in _WORD_ROLE:
            roles.append(_WORD_ROLE[word])
        else:
            unknown = True
    role_group = next((group for group in groups if group != _OTHER_GROUP), "")
    if not role_group and (unknown or groups):
        role_group = _OTHER_GROUP
    role = next((role for role in roles if role != _DEFAULT_ROLE), _DEFAULT_ROLE)
    return role_group, role


def _role_words(*cells: str) -> Iterator[str]:
    """The normalised words of the cells, in order: "Henkilöstö, Esittelijä" -> henkilöstö, esittelijä."""
    for cell in cells:
        for part in _ROLE_SPLIT.split(cell):
            word = _normalise_word(part)
            if word:
                yield word


def _normalise_word(text: str) -> str:
    """ " Group_Leader " -> "group leader"; a lone "-" (meaning "none") -> ""."""
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


# --- file-level errors --------------------------------------------------------------------


def _not_a_list_error() -> ParticipantFileError:
    return ParticipantFileError(
        gettext(
            "This file does not look like a participant list. The first row must have column headings "
            "such as Name and E-mail (Nimi, Sähköposti)."
        )
    )


def _unreadable_error() -> ParticipantFileError:
    return ParticipantFileError(
        gettext(
            "This file could not be read. Upload an Excel workbook (.xlsx) or a CSV file with one participant per row."
        )
    )


def _unreadable_excel_error() -> ParticipantFileError:
    return ParticipantFileError(
        gettext(
            "This file could not be read as an Excel workbook (.xlsx). It may be damaged or in another format. "
            "Save it as an Excel workbook (.xlsx) or as CSV and try again."
        )
    )
