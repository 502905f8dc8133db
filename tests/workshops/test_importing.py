"""Reading uploaded participant lists: real sample files, Excel's many CSV flavours, bad rows, junk."""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.utils.translation import override

from workshops import importing
from workshops.importing import (
    FIELDS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportPreview,
    ImportRow,
    ParticipantFileError,
    read_participant_file,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

NOT_A_LIST = (
    "This file does not look like a participant list. The first row must have column headings "
    "such as Name and E-mail (Nimi, Sähköposti)."
)
UNREADABLE = "This file could not be read. Upload an Excel workbook (.xlsx) or a CSV file with one participant per row."
UNREADABLE_EXCEL = (
    "This file could not be read as an Excel workbook (.xlsx). It may be damaged or in another format. "
    "Save it as an Excel workbook (.xlsx) or as CSV and try again."
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the Finnish and Swedish catalogues are filled in elsewhere."""
    with override("en"):
        yield


def read_sample(name: str, **kwargs) -> ImportPreview:
    return read_participant_file(filename=name, data=(DATA / name).read_bytes(), **kwargs)


def read_text(text: str, *, encoding: str = "utf-8", filename: str = "list.csv", **kwargs) -> ImportPreview:
    return read_participant_file(filename=filename, data=text.encode(encoding), **kwargs)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems_by_row(preview: ImportPreview) -> dict[int, list[str]]:
    return {row.number: row.problems for row in preview.rows}


def file_error(**kwargs) -> str:
    with pytest.raises(ParticipantFileError) as caught:
        read_participant_file(**kwargs)
    assert caught.value.message == str(caught.value)
    return caught.value.message


# --- the real sample files ----------------------------------------------------------------


def test_utf8_comma_csv_reads_all_thirty_participants():
    preview = read_sample("participants_30.csv")

    assert len(preview.rows) == 30
    assert preview.invalid_rows == []
    assert [row.number for row in preview.rows] == list(range(2, 32))
    assert preview.recognised_columns == ["name", "email", "organisation_name", "department", "role"]
    assert preview.ignored_columns == []
    assert preview.rows[0].values == {
        "name": "Kerttu Nieminen",
        "email": "kerttu.nieminen@tyrnava.fi",
        "organisation_name": "Tyrnävä",
        "department": "Konsernipalvelut",
        "role_group": "staff",
        "role": "participant",
    }
    assert Counter(row.values["role_group"] for row in preview.rows) == {
        "staff": 10,
        "association": 10,
        "entrepreneur": 4,
        "elected_official": 3,
        "resident": 3,
    }


def test_xlsx_gives_exactly_what_the_same_list_as_csv_gives():
    from_xlsx = read_sample("participants_30.xlsx")
    from_csv = read_sample("participants_30.csv")

    assert [(row.number, row.values) for row in from_xlsx.rows] == [(row.number, row.values) for row in from_csv.rows]
    assert from_xlsx.recognised_columns == from_csv.recognised_columns


def test_three_hundred_row_workbook():
    preview = read_sample("participants_300.xlsx")

    assert len(preview.valid_rows) == 300
    assert preview.rows[-1].number == 301
    assert preview.rows[0].values["name"] == "Aino Hämäläinen"
    assert preview.rows[-1].values["email"] == "siiri.lofgren@vantaa.fi"
    assert Counter(row.values["role_group"] for row in preview.rows) == {
        "entrepreneur": 74,
        "staff": 68,
        "elected_official": 56,
        "resident": 52,
        "association": 50,
    }


def test_finnish_excel_csv_in_windows_1252_with_semicolons_and_crlf():
    preview = read_sample("participants_excel_fi.csv")

    assert len(preview.valid_rows) == 25
    assert preview.invalid_rows == []
    assert preview.recognised_columns == ["name", "email", "organisation_name", "department", "role"]
    assert preview.rows[1].values["name"] == "Jööns Åström"
    assert preview.rows[0].values == {
        "name": "Lyydia Lehtonen",
        "email": "lyydia.lehtonen@vaasa.fi",
        "organisation_name": "Vaasa",
        "department": "Tekniset palvelut",
        "role_group": "elected_official",
        "role": "participant",
    }
    assert all(not row.values["department"].endswith("\r") for row in preview.rows)


def test_bad_rows_each_get_their_own_row_number_and_message():
    preview = read_sample("participants_bad.csv")

    assert problems_by_row(preview) == {
        2: [],
        3: ["E-mail address is missing."],
        4: ["E-mail address is not valid."],
        5: ["Same e-mail address as row 2."],
        6: ["Name starts like a spreadsheet formula (=, +, -, @); remove that character."],
        7: ["Name is too long: 400 characters, at most 150."],
        8: ["Name is missing."],
        9: ["Empty row."],
        10: [],
    }
    assert [row.values["name"] for row in preview.valid_rows] == ["Saara Hämäläinen", "Eero Virtanen"]
    assert [row.number for row in preview.invalid_rows] == [3, 4, 5, 6, 7, 8, 9]
    assert preview.rows[3].values["email"] == "saara.hamalainen@kunta.fi"  # row 5, lowercased


def test_binary_junk_is_not_a_participant_list():
    with pytest.raises(ParticipantFileError) as caught:
        read_sample("participants_not_a_list.csv")
    assert caught.value.message == UNREADABLE


# --- encodings and separators -------------------------------------------------------------


def test_utf8_with_bom_does_not_spoil_the_first_heading():
    preview = read_participant_file(
        filename="lista.csv",
        data=codecs.BOM_UTF8 + "Nimi;Sähköposti\r\nÄlli Öljy;alli@kunta.fi\r\n".encode(),
    )

    assert preview.recognised_columns == ["name", "email"]
    assert preview.rows[0].values["name"] == "Älli Öljy"


def test_tab_separated_text_file():
    preview = read_text(
        "Name\tE-mail\tDepartment\nAino Asukas\taino@kunta.fi\tKirjasto, Pääkirjasto\n", filename="a.txt"
    )

    assert preview.rows[0].values["department"] == "Kirjasto, Pääkirjasto"
    assert preview.valid_rows == preview.rows


def test_excel_unicode_text_is_utf16_with_tabs():
    preview = read_text("Nimi\tSähköposti\r\nÅsa Öberg\tasa@kunta.fi\r\n", encoding="utf-16", filename="export.txt")

    assert preview.rows[0].values["name"] == "Åsa Öberg"


def test_windows_1252_without_semicolons_falls_back_from_utf8():
    preview = read_text("name,email\nJyrki Mäkelä,jyrki@kunta.fi\n", encoding="cp1252")

    assert preview.rows[0].values["name"] == "Jyrki Mäkelä"


def test_commas_inside_values_do_not_fool_the_separator_guess():
    text = "Nimi;Sähköposti;Toimiala\n" + "".join(
        f"Henkilö {n};h{n}@kunta.fi;Sosiaali-, terveys- ja hyvinvointipalvelut, hallinto\n" for n in range(5)
    )

    preview = read_text(text)

    assert preview.rows[0].values["department"] == "Sosiaali-, terveys- ja hyvinvointipalvelut, hallinto"
    assert len(preview.valid_rows) == 5


def test_single_data_row_with_heading_only_sniffable_by_count():
    preview = read_text("name;email\n")

    assert preview.rows == []
    assert preview.recognised_columns == ["name", "email"]


def test_quoted_cell_with_a_line_break_is_one_spreadsheet_row():
    preview = read_text(
        'name,email,department\n"Aino\nAsukas",aino@kunta.fi,"Kirjasto\nja kulttuuri"\nEero,eero@kunta.fi,\n'
    )

    assert [row.number for row in preview.rows] == [2, 3]
    assert preview.rows[0].values["name"] == "Aino Asukas"
    assert preview.rows[0].values["department"] == "Kirjasto ja kulttuuri"


# --- deciding the format by content -------------------------------------------------------


def test_xlsx_content_with_a_csv_name_is_read_as_a_workbook():
    data = (DATA / "participants_30.xlsx").read_bytes()

    preview = read_participant_file(filename="osallistujat.csv", data=data)

    assert len(preview.valid_rows) == 30


def test_csv_content_with_an_xlsx_name_is_read_as_text():
    data = (DATA / "participants_30.csv").read_bytes()

    preview = read_participant_file(filename="osallistujat.xlsx", data=data)

    assert len(preview.valid_rows) == 30


def test_workbook_whose_first_row_is_not_a_heading():
    data = xlsx_bytes([["Osallistujat 12.5."], ["Nimi", "Sähköposti"], ["Aino Asukas", "aino@kunta.fi"]])

    assert file_error(filename="lista.xlsx", data=data) == NOT_A_LIST


def test_workbook_whose_first_row_is_already_a_participant():
    data = xlsx_bytes([["Aino Asukas", "aino@kunta.fi"], ["Eero Esimerkki", "eero@kunta.fi"]])

    assert file_error(filename="lista.xlsx", data=data) == NOT_A_LIST


def test_old_xls_or_password_protected_workbook():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)

    message = file_error(filename="lista.xls", data=data)

    assert message.startswith("This is an old Excel file (.xls) or a password-protected workbook")


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "name,email\n")

    assert file_error(filename="lista.xlsx", data=buffer.getvalue()) == UNREADABLE_EXCEL


def test_truncated_workbook():
    data = (DATA / "participants_30.xlsx").read_bytes()

    assert file_error(filename="lista.xlsx", data=data[: len(data) // 2]) == UNREADABLE_EXCEL


def test_zip_bomb_is_refused_before_unpacking():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))

    assert file_error(filename="lista.xlsx", data=buffer.getvalue()) == UNREADABLE_EXCEL


def test_broken_file_named_xlsx_gets_the_excel_message():
    assert file_error(filename="LISTA.XLSX", data=b"\x00\x01\x02junk") == UNREADABLE_EXCEL


def test_image_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"

    assert file_error(filename="kuva.png", data=png) == UNREADABLE


def test_empty_file():
    assert file_error(filename="lista.csv", data=b"") == "The file is empty."
    assert file_error(filename="lista.csv", data=b"\r\n;;;\r\n") == "The file is empty."
    assert file_error(filename="lista.xlsx", data=xlsx_bytes([])) == "The file is empty."


# --- limits -------------------------------------------------------------------------------


def test_file_over_the_size_limit():
    data = b"name,email\n" + b"x" * MAX_FILE_BYTES

    message = file_error(filename="lista.csv", data=data)

    assert message == "The file is too large. The largest file that can be read is 2 MB."


def test_too_many_rows():
    rows = "".join(f"P {n},p{n}@kunta.fi\n" for n in range(MAX_ROWS + 1))

    message = file_error(filename="lista.csv", data=f"name,email\n{rows}".encode())

    assert message == "The file has more than 2000 participant rows. Split it into smaller files."


def test_exactly_the_row_limit_with_trailing_empty_rows_is_fine():
    rows = "".join(f"P {n};p{n}@kunta.fi\r\n" for n in range(MAX_ROWS))

    preview = read_text(f"Nimi;Sähköposti\r\n{rows}" + ";\r\n" * 500)

    assert len(preview.valid_rows) == MAX_ROWS
    assert preview.rows[-1].number == MAX_ROWS + 1


def test_too_many_rows_in_a_workbook():
    data = xlsx_bytes([["Name", "Email"], *([f"P {n}", f"p{n}@kunta.fi"] for n in range(MAX_ROWS + 1))])

    assert "2000" in file_error(filename="lista.xlsx", data=data)


# --- headings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headings", "recognised"),
    [
        ("Name,E-mail,Organisation,Department,Role", ["name", "email", "organisation_name", "department", "role"]),
        (" FULL NAME , EMAIL ,Organization", ["name", "email", "organisation_name"]),
        ("Nimi;Sähköpostiosoite;Organisaatio;Toimiala;Ryhmä;Rooli", list(FIELDS)),
        ("NIMI*;SÄHKÖPOSTI:", ["name", "email"]),
        ("name,email,role_group,organisation_name", ["name", "email", "organisation_name", "role_group"]),
        ("Namn,E-post,Organisation,Sektor,Roll", ["name", "email", "organisation_name", "department", "role"]),
    ],
)
def test_headings_in_three_languages(headings, recognised):
    preview = read_text(headings + "\n")

    assert preview.recognised_columns == recognised
    assert preview.ignored_columns == []


def test_unknown_and_repeated_headings_are_listed_as_ignored():
    preview = read_text("Nimi;Puhelin;Sähköposti;;email;Lisätietoja\nAino;040 123;aino@kunta.fi;;toinen@kunta.fi;x\n")

    assert preview.ignored_columns == ["Puhelin", "email", "Lisätietoja"]
    assert preview.rows[0].values["email"] == "aino@kunta.fi"


def test_first_and_last_name_columns_are_joined():
    preview = read_text("Etunimi;Sukunimi;Sähköposti\nAino ; Korhonen ;aino@kunta.fi\n;Virtanen;v@kunta.fi\n")

    assert preview.recognised_columns == ["name", "email"]
    assert [row.values["name"] for row in preview.rows] == ["Aino Korhonen", "Virtanen"]
    assert preview.invalid_rows == []


def test_full_name_column_wins_over_first_and_last_name():
    preview = read_text("First name,Last name,Name,Email\nAino,Korhonen,Aino K.,aino@kunta.fi\n")

    assert preview.rows[0].values["name"] == "Aino K."
    assert preview.ignored_columns == ["First name", "Last name"]


def test_swedish_list():
    text = (
        "Förnamn,Efternamn,E-post,Organisation,Sektor,Roll\n"
        "Sören,Nyström,soren@kommun.fi,Kommunen,Bildning,förtroendevald\n"
        "Åsa,Berg,asa@kommun.fi,Kommunen,Teknik,gruppledare\n"
        "Stig,Lind,stig@kommun.fi,Kommunen,,kommuninvånare\n"
    )

    preview = read_text(text)

    assert [(row.values["name"], row.values["role_group"], row.values["role"]) for row in preview.rows] == [
        ("Sören Nyström", "elected_official", "participant"),
        ("Åsa Berg", "", "group_leader"),
        ("Stig Lind", "resident", "participant"),
    ]
    assert preview.recognised_columns == ["name", "email", "organisation_name", "department", "role"]


def test_missing_email_column_is_named():
    message = file_error(filename="lista.csv", data=b"Nimi;Puhelin\nAino;040\n")

    assert message == "The first row has no e-mail column. Add a column with the heading E-mail (Sähköposti, E-post)."


def test_missing_name_column_is_named():
    message = file_error(filename="lista.csv", data=b"email,phone\na@kunta.fi,040\n")

    assert message.startswith("The first row has no name column.")


def test_leading_empty_rows_are_skipped_and_numbers_stay_true():
    data = xlsx_bytes([[], [], ["Name", "Email"], ["Aino", "aino@kunta.fi"], [], ["Eero", "eero@kunta.fi"], [], []])

    preview = read_participant_file(filename="lista.xlsx", data=data)

    assert problems_by_row(preview) == {4: [], 5: ["Empty row."], 6: []}


def test_thousands_of_formatted_empty_rows_after_the_list_are_not_reported():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nimi", "Sähköposti"])
    sheet.append(["Aino", "aino@kunta.fi"])
    for number in range(3, 3000):
        sheet.cell(row=number, column=1).font = openpyxl.styles.Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)

    preview = read_participant_file(filename="lista.xlsx", data=buffer.getvalue())

    assert problems_by_row(preview) == {2: []}


def test_reading_stops_in_a_sea_of_empty_lines():
    data = b"name,email\nAino,aino@kunta.fi\n" + b",\n" * (MAX_ROWS * 20) + b"Far,away@kunta.fi\n"

    preview = read_participant_file(filename="lista.csv", data=data)

    assert problems_by_row(preview) == {2: []}


def test_every_row_has_every_field_even_an_empty_one():
    preview = read_sample("participants_bad.csv")

    assert all(tuple(row.values) == FIELDS for row in preview.rows)
    assert preview.rows[7].values == {**dict.fromkeys(FIELDS, ""), "role": "participant"}  # row 9


def test_workbook_cells_that_are_not_text():
    data = xlsx_bytes(
        [["Name", "Email", "Department"], ["Aino", "aino@kunta.fi", 12.0], ["Eero", "e@kunta.fi", date(2025, 5, 1)]]
    )

    preview = read_participant_file(filename="lista.xlsx", data=data)

    assert [row.values["department"] for row in preview.rows] == ["12", "2025-05-01"]


def test_only_the_first_worksheet_is_read():
    workbook = openpyxl.Workbook()
    workbook.active.append(["Nimi", "Sähköposti"])
    workbook.active.append(["Aino", "aino@kunta.fi"])
    workbook.create_sheet("Muut").append(["Nimi", "Sähköposti"])
    workbook["Muut"].append(["Eero", "eero@kunta.fi"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    preview = read_participant_file(filename="lista.xlsx", data=buffer.getvalue())

    assert [row.values["name"] for row in preview.rows] == ["Aino"]


# --- cleaning values ----------------------------------------------------------------------


def test_values_are_trimmed_names_collapsed_and_emails_lowercased():
    preview = read_text(
        'name,email,organisation\n"  Aino \u00a0  Maria\t Asukas "," Aino.Asukas@Kunta.FI ","  Iso   Kunta "\n'
    )

    assert preview.rows[0].values == {
        "name": "Aino Maria Asukas",
        "email": "aino.asukas@kunta.fi",
        "organisation_name": "Iso Kunta",
        "department": "",
        "role_group": "",
        "role": "participant",
    }
    assert preview.rows[0].ok


def test_decomposed_umlauts_from_a_mac_are_composed():
    decomposed = "Nimi;Sa\u0308hko\u0308posti\nA\u0308lli;alli@kunta.fi\n"

    preview = read_text(decomposed)

    assert preview.recognised_columns == ["name", "email"]
    assert preview.rows[0].values["name"] == "Älli"


@pytest.mark.parametrize(
    ("cell", "role_group", "role"),
    [
        ("henkilöstö", "staff", "participant"),
        ("Työntekijä", "staff", "participant"),
        ("staff", "staff", "participant"),
        ("Personal", "staff", "participant"),
        ("luottamushenkilö", "elected_official", "participant"),
        ("Elected official", "elected_official", "participant"),
        ("förtroendevald", "elected_official", "participant"),
        ("kuntalainen", "resident", "participant"),
        ("asukas", "resident", "participant"),
        ("Resident", "resident", "participant"),
        ("kommuninvånare", "resident", "participant"),
        ("järjestö", "association", "participant"),
        ("yhdistys", "association", "participant"),
        ("Association", "association", "participant"),
        ("förening", "association", "participant"),
        ("yrittäjä", "entrepreneur", "participant"),
        ("entrepreneur", "entrepreneur", "participant"),
        ("företagare", "entrepreneur", "participant"),
        ("esittelijä", "", "presenter"),
        ("Presenter", "", "presenter"),
        ("presentatör", "", "presenter"),
        ("ryhmänvetäjä", "", "group_leader"),
        ("Group leader", "", "group_leader"),
        ("group_leader", "", "group_leader"),
        ("gruppledare", "", "group_leader"),
        ("Henkilöstö, esittelijä", "staff", "presenter"),
        ("konsultti", "other", "participant"),
        ("muu", "other", "participant"),
        ("", "", "participant"),
    ],
)
def test_role_column_understands_groups_and_workshop_roles(cell, role_group, role):
    preview = read_text(f"nimi;sähköposti;rooli\nAino;aino@kunta.fi;{cell}\n")

    assert (preview.rows[0].values["role_group"], preview.rows[0].values["role"]) == (role_group, role)
    assert preview.rows[0].ok


def test_separate_role_group_and_role_columns():
    preview = read_text(
        "Nimi;Sähköposti;Ryhmä;Rooli\nAino;a@kunta.fi;asukas;ryhmänvetäjä\nEero;e@kunta.fi;vieras;yrittäjä\n"
    )

    assert [(row.values["role_group"], row.values["role"]) for row in preview.rows] == [
        ("resident", "group_leader"),
        ("entrepreneur", "participant"),
    ]


# --- row problems -------------------------------------------------------------------------


FORMULA = "{} starts like a spreadsheet formula (=, +, -, @); remove that character."


@pytest.mark.parametrize(
    "name",
    ["=1+1", "+358 40 123", "-", "-2+3", "@SUM(A1)", "＝1+1", "＋358", "－", "＠SUM(A1)", "\t=1+1", "\tAino", "\rAino"],
)
def test_formula_like_names(name):
    data = b'name,email\n"' + name.encode() + b'",aino@kunta.fi\n'

    preview = read_participant_file(filename="lista.csv", data=data)

    assert preview.rows[0].problems == [FORMULA.format("Name")]


def test_formula_like_values_in_every_column_are_named():
    preview = read_text("Nimi;Sähköposti;Organisaatio;Toimiala;Rooli\nAino;@kunta.fi;＝X;+Y;-\n")

    assert preview.rows[0].problems == [
        "E-mail address is not valid.",
        FORMULA.format("E-mail"),
        FORMULA.format("Organisation"),
        FORMULA.format("Department"),
        FORMULA.format("Role"),
    ]


def test_formula_in_last_name_is_reported_for_the_name():
    preview = read_text("Etunimi;Sukunimi;Sähköposti\nAino;=HYPERLINK(1);aino@kunta.fi\n")

    assert preview.rows[0].problems == [FORMULA.format("Name")]


def test_plain_hyphen_inside_a_value_is_fine():
    preview = read_text("name,email,department\nAnna-Liisa Mäki-Petäjä,al@kunta.fi,Sosiaali- ja terveyspalvelut\n")

    assert preview.rows[0].ok


def test_a_row_can_have_several_problems():
    preview = read_text("name,email,department\n,not-an-address," + "x" * 201 + "\n")

    assert preview.rows[0].problems == [
        "Name is missing.",
        "E-mail address is not valid.",
        "Department is too long: 201 characters, at most 200.",
    ]


def test_long_organisation():
    preview = read_text("name,email,organisation\nAino,a@kunta.fi," + "Kunta " * 40 + "\n")

    assert preview.rows[0].problems == ["Organisation is too long: 239 characters, at most 200."]


def test_longest_allowed_values_pass():
    preview = read_text("name,email,organisation\n" + "n" * 150 + ",a@kunta.fi," + "o" * 200 + "\n")

    assert preview.rows[0].ok


def test_email_longer_than_the_model_allows_is_invalid():
    address = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.fi"  # fine for validate_email, too long for the field
    assert len(address) > 254

    preview = read_text(f"name,email\nAino,{address}\n")

    assert preview.rows[0].problems == ["E-mail address is not valid."]


def test_duplicates_are_found_case_insensitively_and_name_the_first_row():
    text = "name,email\nA,aino@kunta.fi\nB,eero@kunta.fi\nC,AINO@Kunta.fi\nD,aino@kunta.fi\n"

    preview = read_text(text)

    assert problems_by_row(preview) == {
        2: [],
        3: [],
        4: ["Same e-mail address as row 2."],
        5: ["Same e-mail address as row 2."],
    }


def test_existing_participants_are_flagged_case_insensitively():
    text = "name,email\nAino,aino@kunta.fi\nEero,eero@kunta.fi\nAino again,Aino@Kunta.fi\n"

    preview = read_text(text, existing_emails=[" AINO@KUNTA.FI ", "", "muu@kunta.fi"])

    already = "Someone with this e-mail address is already a participant in this workshop."
    assert problems_by_row(preview) == {2: [already], 3: [], 4: ["Same e-mail address as row 2.", already]}


def test_existing_emails_may_be_any_iterable():
    preview = read_text("name,email\nAino,aino@kunta.fi\n", existing_emails=(e for e in ["aino@kunta.fi"]))

    assert not preview.rows[0].ok


def test_preview_and_row_helpers():
    good = ImportRow(number=2, values=dict.fromkeys(FIELDS, ""), problems=[])
    bad = ImportRow(number=3, values=dict.fromkeys(FIELDS, ""), problems=["Name is missing."])
    preview = ImportPreview(rows=[good, bad], recognised_columns=["name"], ignored_columns=[])

    assert good.ok and not bad.ok
    assert preview.valid_rows == [good]
    assert preview.invalid_rows == [bad]


# --- translation --------------------------------------------------------------------------


def test_messages_are_translated_when_made_not_when_imported(monkeypatch):
    monkeypatch.setattr(importing, "gettext", lambda message: f"«{message}»")

    preview = read_text("name,email,department\nAino,,=X\n")

    assert preview.rows[0].problems == [
        "«E-mail address is missing.»",
        "««Department» starts like a spreadsheet formula (=, +, -, @); remove that character.»",
    ]
    with pytest.raises(ParticipantFileError, match=r"^«The file is empty\.»$"):
        read_participant_file(filename="x.csv", data=b"")


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_messages_are_plain_strings_in_every_language(language):
    with override(language):
        preview = read_sample("participants_bad.csv")
        with pytest.raises(ParticipantFileError) as caught:
            read_sample("participants_not_a_list.csv")

    assert all(type(problem) is str and problem for row in preview.rows for problem in row.problems)
    assert type(caught.value.message) is str


# --- nothing but ParticipantFileError escapes -----------------------------------------------


def _assert_reads_or_refuses(data: bytes, filename: str) -> None:
    try:
        preview = read_participant_file(filename=filename, data=data)
    except ParticipantFileError as exc:
        assert exc.message
    else:
        assert isinstance(preview, ImportPreview)


def test_random_bytes_never_raise_anything_else():
    rng = random.Random(20250512)
    prefixes = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]
    for _ in range(200):
        data = rng.choice(prefixes) + rng.randbytes(rng.randint(0, 4096))
        _assert_reads_or_refuses(data, rng.choice(["a.csv", "a.xlsx", "a.txt", "a"]))


def test_random_text_with_a_valid_heading_never_raises_anything_else():
    rng = random.Random(7)
    alphabet = "ab=+-@\"';,\t\r\n äö＝\x00\x7f"
    for _ in range(200):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        encoding = rng.choice(["utf-8", "utf-16", "cp1252"])
        data = f"name;email;rooli\n{body}".encode(encoding, errors="replace")
        _assert_reads_or_refuses(data, "a.csv")


@pytest.mark.parametrize("sample", ["participants_30.xlsx", "participants_30.csv", "participants_excel_fi.csv"])
def test_damaged_sample_files_never_raise_anything_else(sample):
    rng = random.Random(sample)
    original = (DATA / sample).read_bytes()
    for _ in range(60):
        data = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        _assert_reads_or_refuses(bytes(data), sample)


def test_a_cell_larger_than_the_csv_field_limit():
    data = b'name,email\n"' + b"x" * 200_000 + b'",a@kunta.fi\n'

    assert file_error(filename="lista.csv", data=data) == UNREADABLE
