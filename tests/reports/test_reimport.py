"""Re-import of the exported workbook after the Category column was filled in Excel.

The workbooks are made here with openpyxl in the export's layout: one heading row from
``COLUMNS`` (in Finnish or English), one row per contribution, the same comment on the main
sheet and on its case's sheet.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from facilitation.models import Phase
from reports import categories as services
from reports.contributions import COLUMN_KEYS, COLUMNS, contribution_rows
from reports.models import Category, CommentCategory
from tests.facilitation.factories import CommentFactory, PhaseFactory
from tests.workshops.factories import CaseFactory, WorkshopFactory

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(name, workshop):
    return reverse(f"reports:{name}", args=[workshop.pk])


def write(workshop, count=1, **fields):
    phase = workshop.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position").first()
    return [CommentFactory(phase=phase, workshop=workshop, **fields) for _ in range(count)]


def tagged(comment) -> set[str]:
    return set(CommentCategory.objects.filter(comment=comment).values_list("category__name", flat=True))


def headings(language: str) -> list[str]:
    with translation.override(language):
        return [str(column.header) for column in COLUMNS]


def export_rows(workshop, cells: dict[str, str], language: str = "en") -> list[list]:
    """The main sheet as the export writes it, with the Category cells of ``cells`` (row id -> text) filled."""
    with translation.override(language):
        rows = list(contribution_rows(workshop))
    body = []
    for row in rows:
        if row["id"] in cells:
            row["category"] = cells[row["id"]]
        body.append([row[key] for key in COLUMN_KEYS])
    return [headings(language), *body]


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text, as in the export ("=…" too)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "tyopaja.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def preview_of(workshop, data: bytes):
    with translation.override("en"):
        return services.reimport_preview(workshop=workshop, file=upload(data))


@pytest.fixture
def codebook(live_workshop):
    return {
        name: services.category_create(workshop=live_workshop, name=name)
        for name in ("Talous", "Resurssit", "Yhteistyö")
    }


@pytest.fixture(autouse=True)
def _english(facilitator_client, settings):
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


# --- reading the file -----------------------------------------------------------------------


def test_finnish_headings_set_exactly_what_each_cell_says(live_workshop, codebook):
    a, b, c, d = write(live_workshop, 4)
    services.comment_tag(comment=a, category=codebook["Talous"])
    services.comment_tag(comment=b, category=codebook["Talous"])
    services.comment_tag(comment=d, category=codebook["Resurssit"])
    assert headings("fi")[0] != "Id"  # the Finnish export really has Finnish headings
    cells = {f"C{a.pk}": "Resurssit", f"C{b.pk}": "", f"C{c.pk}": "talous; YHTEISTYÖ", f"C{d.pk}": "Resurssit"}
    data = workbook({"Kaikki kommentit": export_rows(live_workshop, cells, "fi")})

    preview = preview_of(live_workshop, data)
    assert preview.sheets == ["Kaikki kommentit"] and preview.matched == 4
    assert {change.row_id: (change.before, change.after) for change in preview.changes} == {
        f"C{a.pk}": (["Talous"], ["Resurssit"]),
        f"C{c.pk}": ([], ["Talous", "Yhteistyö"]),
    }
    assert (preview.unchanged, preview.left_as_is, preview.new_categories) == (1, 1, [])
    assert tagged(a) == {"Talous"}  # nothing saved by the preview

    summary = services.reimport_apply(workshop=live_workshop, preview=preview, create_new=False)
    assert (summary.comments_changed, summary.added, summary.removed) == (2, 3, 1)
    assert tagged(a) == {"Resurssit"} and tagged(b) == {"Talous"}
    assert tagged(c) == {"Talous", "Yhteistyö"} and tagged(d) == {"Resurssit"}


def test_renamed_sheets_reordered_and_extra_columns_title_rows_and_deleted_rows(live_workshop, codebook):
    comments = write(live_workshop, 5)
    rows = export_rows(live_workshop, {f"C{comments[1].pk}": "Talous", f"C{comments[3].pk}": "Resurssit"})
    order = list(reversed(range(len(COLUMN_KEYS))))  # every column somewhere else
    shuffled = [["My own note", *(row[i] for i in order)] for row in rows]
    kept = [shuffled[0], shuffled[2], shuffled[4]]  # rows of comments 0, 2 and 4 deleted in Excel
    data = workbook(
        {
            "Ohjeet": [["Just some instructions"], ["Id is not here"]],
            "Luokittelu": [["Workshop export"], [], *kept, [], ["Total", *([""] * 5)]],
        }
    )
    preview = preview_of(live_workshop, data)
    assert preview.sheets == ["Luokittelu"] and preview.ignored_sheets == ["Ohjeet"]
    assert preview.matched == 2
    assert [(change.comment_id, change.after) for change in preview.changes] == [
        (comments[1].pk, ["Talous"]),
        (comments[3].pk, ["Resurssit"]),
    ]
    assert preview.unmatched == [] and preview.skipped == []


def test_ids_that_cannot_be_matched_and_summary_rows(live_workshop, codebook):
    own = write(live_workshop)[0]
    deleted = write(live_workshop, deleted_at=timezone.now())[0]
    other = WorkshopFactory()
    foreign = CommentFactory(phase=PhaseFactory(workshop=other, case=CaseFactory(workshop=other)))
    rows = [headings("en")]
    rows += [[f"C{pk}", *([""] * 20), "Talous"] for pk in (own.pk, deleted.pk, foreign.pk, 999_999)]
    rows += [["X12", *([""] * 20), "Talous"], ["S4", *([""] * 20), "Talous"], ["s5", *([""] * 21)]]
    rows += [["", *([""] * 20), "Talous"]]
    preview = preview_of(live_workshop, workbook({"Sheet": rows}))
    reasons = {note.row_id: note.reason for note in preview.unmatched}
    assert reasons == {
        f"C{deleted.pk}": "This comment has been deleted.",
        f"C{foreign.pk}": "This comment belongs to another workshop.",
        "C999999": "No comment has this Id.",
        "X12": "This is not an Id of a comment.",
    }
    assert preview.summaries_skipped == 2  # counted, not errors
    assert [note.reason for note in preview.skipped] == [
        "The row has categories but no Id, so its comment is not known."
    ]
    assert [change.comment_id for change in preview.changes] == [own.pk]
    services.reimport_apply(workshop=live_workshop, preview=preview, create_new=True)
    assert not foreign.taggings.exists() and not deleted.taggings.exists()
    assert tagged(own) == {"Talous"}


def test_new_categories_are_created_only_when_confirmed(live_workshop, codebook):
    a, b = write(live_workshop, 2)
    services.comment_tag(comment=a, category=codebook["Talous"])
    cells = {f"C{a.pk}": "Talous; Uusi luokka", f"C{b.pk}": "Resurssit"}
    data = workbook({"Sheet1": export_rows(live_workshop, cells)})
    preview = preview_of(live_workshop, data)
    assert preview.new_categories == ["Uusi luokka"] and preview.changes_needing_new == 1

    summary = services.reimport_apply(workshop=live_workshop, preview=preview, create_new=False)
    assert not Category.objects.filter(name="Uusi luokka").exists()
    assert tagged(a) == {"Talous"} and tagged(b) == {"Resurssit"}  # a's row named a new one: left as it is
    assert (summary.comments_changed, summary.left_as_is, summary.created) == (1, 1, [])

    preview = preview_of(live_workshop, data)
    summary = services.reimport_apply(workshop=live_workshop, preview=preview, create_new=True)
    created = Category.objects.get(workshop=live_workshop, name="Uusi luokka")
    assert summary.created == ["Uusi luokka"] and created.colour.startswith("#")
    created.full_clean()
    assert tagged(a) == {"Talous", "Uusi luokka"}


def test_cells_with_several_names(live_workshop, codebook):
    comma = services.category_create(workshop=live_workshop, name="Talous, rahoitus")
    a, b, c = write(live_workshop, 3)
    cells = {
        f"C{a.pk}": " talous ;resurssit;; TALOUS ",
        f"C{b.pk}": "Yhteistyö, Resurssit\nTalous",
        f"C{c.pk}": "talous, RAHOITUS; Uusi, Toinen uusi",
    }
    preview = preview_of(live_workshop, workbook({"S": export_rows(live_workshop, cells)}))
    after = {change.comment_id: change.after for change in preview.changes}
    assert after[a.pk] == ["Resurssit", "Talous"]
    assert after[b.pk] == ["Resurssit", "Talous", "Yhteistyö"]
    assert after[c.pk] == ["Talous, rahoitus", "Toinen uusi", "Uusi"]
    assert preview.new_categories == ["Toinen uusi", "Uusi"]
    services.reimport_apply(workshop=live_workshop, preview=preview, create_new=True)
    assert tagged(c) == {comma.name, "Toinen uusi", "Uusi"}


def test_the_same_comment_on_the_main_sheet_and_its_case_sheet(live_workshop, codebook):
    edited_once, edited_twice, same, untouched = write(live_workshop, 4)
    for comment in (edited_once, edited_twice, untouched):
        services.comment_tag(comment=comment, category=codebook["Talous"])
    main = {
        f"C{edited_once.pk}": "Resurssit",  # Talous -> Resurssit here, the case sheet still says Talous
        f"C{edited_twice.pk}": "Resurssit",
        f"C{same.pk}": "Yhteistyö",
        f"C{untouched.pk}": "Talous",
    }
    case = {**main, f"C{edited_once.pk}": "Talous", f"C{edited_twice.pk}": "Yhteistyö", f"C{untouched.pk}": ""}
    data = workbook({"Kaikki": export_rows(live_workshop, main), "Tapaus 1": export_rows(live_workshop, case)})
    preview = preview_of(live_workshop, data)
    after = {change.comment_id: change.after for change in preview.changes}
    assert after == {
        edited_once.pk: ["Resurssit"],  # the untouched copy does not undo the edit
        edited_twice.pk: ["Resurssit", "Yhteistyö"],  # edited differently on both: both kept
        same.pk: ["Yhteistyö"],
    }
    assert [(conflict.row_id, conflict.kept) for conflict in preview.conflicts] == [
        (f"C{edited_twice.pk}", ["Resurssit", "Yhteistyö"])
    ]
    assert "Kaikki" in preview.conflicts[0].places[0] and "Tapaus 1" in preview.conflicts[0].places[1]
    services.reimport_apply(workshop=live_workshop, preview=preview, create_new=False)
    assert tagged(edited_once) == {"Resurssit"} and tagged(edited_twice) == {"Resurssit", "Yhteistyö"}
    assert tagged(untouched) == {"Talous"}


def test_formula_looking_cells_are_text_and_error_cells_are_skipped(live_workshop, codebook):
    a, b = write(live_workshop, 2, text='=HYPERLINK("http://x")')
    cells = {f"C{a.pk}": "=SUM(A1:A3)", f"C{b.pk}": "#NAME?"}
    preview = preview_of(live_workshop, workbook({"S": export_rows(live_workshop, cells)}))
    assert preview.new_categories == ["=SUM(A1:A3)"]
    assert [(note.row_id, note.reason) for note in preview.skipped] == [
        (f"C{b.pk}", "The Category cell shows an Excel error (#NAME?).")
    ]
    assert preview.changes[0].text == '=HYPERLINK("http://x")'


def test_applying_skips_comments_deleted_after_the_preview(live_workshop, codebook):
    a, b = write(live_workshop, 2)
    data = workbook({"S": export_rows(live_workshop, {f"C{a.pk}": "Talous", f"C{b.pk}": "Talous"})})
    preview = services.ReimportPreview.from_session(preview_of(live_workshop, data).to_session())
    b.deleted_at = timezone.now()
    b.save()
    summary = services.reimport_apply(workshop=live_workshop, preview=preview, create_new=False)
    assert (summary.comments_changed, summary.left_as_is) == (1, 1)
    assert tagged(a) == {"Talous"} and tagged(b) == set()


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hei")
    return buffer.getvalue()


NOT_OUR_FILE = "This does not look like a workbook exported from Kehittämö"
NOT_XLSX = "This file is not an Excel workbook (.xlsx)"
UNREADABLE = "could not be read as an Excel workbook"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        ("Tunniste;Luokka\nC1;Talous\n".encode("cp1252"), NOT_XLSX),
        (b"PK\x03\x04" + b"\x00" * 200, UNREADABLE),
        (_zip_without_workbook(), UNREADABLE),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file (.xls)"),
        (workbook({"Osallistujat": [["Nimi", "Sähköposti"], ["Aino", "aino@example.fi"]]}), NOT_OUR_FILE),
        (workbook({"Tyhjä": []}), NOT_OUR_FILE),
    ],
    ids=["empty", "csv renamed", "broken zip", "zip of something else", "xls", "another workbook", "empty sheet"],
)
def test_files_that_are_not_our_workbook(live_workshop, facilitator_client, data, message):
    with pytest.raises(services.ReimportError) as error:
        preview_of(live_workshop, data)
    assert message in error.value.message
    response = facilitator_client.post(url("reimport", live_workshop), {"file": upload(data)})
    assert response.status_code == 200
    assert message in response.content.decode() and 'aria-invalid="true"' in response.content.decode()
    assert not any(key.startswith("kehittamo_reimport") for key in list(facilitator_client.session.keys()))


def test_too_large_files_and_too_many_rows(live_workshop, monkeypatch):
    write(live_workshop, 4)
    data = workbook({"S": export_rows(live_workshop, {})})
    monkeypatch.setattr(services, "MAX_ROWS", 3)
    with pytest.raises(services.ReimportError, match="more than 3 rows"):
        preview_of(live_workshop, data)
    monkeypatch.setattr(services, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(services.ReimportError, match="too large"):
        preview_of(live_workshop, data)
    with pytest.raises(services.ReimportError, match="too large"), translation.override("en"):
        services.reimport_preview(workshop=live_workshop, file=io.BytesIO(data))  # no size: read and counted


def test_messages_are_in_the_users_language(live_workshop, facilitator):
    from django.test import Client

    client = Client()
    client.force_login(facilitator)  # no language chosen: Finnish
    response = client.post(url("reimport", live_workshop), {"file": upload(b"")})
    assert "Tiedosto on tyhjä." in response.content.decode()


# --- the pages --------------------------------------------------------------------------------


def test_upload_shows_a_preview_and_apply_saves_it(live_workshop, codebook, facilitator_client):
    a, b = write(live_workshop, 2)
    services.comment_tag(comment=b, category=codebook["Talous"])
    data = workbook({"S": export_rows(live_workshop, {f"C{a.pk}": "Talous; Uusi", f"C{b.pk}": ""})})
    response = facilitator_client.post(url("reimport", live_workshop), {"file": upload(data)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing has been saved yet" in page and "An empty Category cell means no change" in page
    assert f"C{a.pk}" in page and "Uusi" in page and "Create the 1 new category" in page
    assert f"kehittamo_reimport_preview_{live_workshop.pk}" in facilitator_client.session
    assert tagged(a) == set()

    response = facilitator_client.post(url("reimport_apply", live_workshop), {"create_new": "on"}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == url("categories", live_workshop)
    assert "The categories of 1 comment were updated: 2 added, 0 removed." in page
    assert "New categories: Uusi." in page
    assert tagged(a) == {"Talous", "Uusi"} and tagged(b) == {"Talous"}
    assert f"kehittamo_reimport_preview_{live_workshop.pk}" not in facilitator_client.session

    again = facilitator_client.post(url("reimport_apply", live_workshop), follow=True)
    assert "The preview has expired" in again.content.decode()


def test_a_preview_applies_only_to_its_own_workshop(live_workshop, codebook, facilitator_client):
    comment = write(live_workshop)[0]
    data = workbook({"S": export_rows(live_workshop, {f"C{comment.pk}": "Talous"})})
    facilitator_client.post(url("reimport", live_workshop), {"file": upload(data)})
    other = WorkshopFactory()
    response = facilitator_client.post(url("reimport_apply", other), follow=True)
    assert "The preview has expired" in response.content.decode()
    assert tagged(comment) == set()
    session = facilitator_client.session
    session[f"kehittamo_reimport_preview_{other.pk}"] = session[f"kehittamo_reimport_preview_{live_workshop.pk}"]
    session.save()
    response = facilitator_client.post(url("reimport_apply", other), follow=True)
    assert "The preview has expired" in response.content.decode()
    assert tagged(comment) == set()


def test_round_trip_through_the_real_export(live_workshop, codebook, tmp_path):
    from reports.workbook import build_workbook

    a, b = write(live_workshop, 2)
    services.comment_tag(comment=a, category=codebook["Talous"])
    services.comment_tag(comment=b, category=codebook["Talous"])
    path = tmp_path / "export.xlsx"
    build_workbook(live_workshop, path, language="fi")

    book = openpyxl.load_workbook(path)
    main = book.worksheets[0]
    header = [cell.value for cell in main[1]]
    fi = headings("fi")
    id_column, category_column = (
        header.index(fi[COLUMN_KEYS.index("id")]),
        header.index(fi[COLUMN_KEYS.index("category")]),
    )
    for row in main.iter_rows(min_row=2):
        if row[id_column].value == f"C{a.pk}":
            row[category_column].value = "Resurssit; Ihan uusi"
    book.save(path)

    preview = preview_of(live_workshop, path.read_bytes())
    assert len(preview.sheets) >= 2  # the main sheet and the case sheets
    assert [(change.comment_id, change.after) for change in preview.changes] == [(a.pk, ["Ihan uusi", "Resurssit"])]
    assert preview.conflicts == [] and preview.unmatched == []
    services.reimport_apply(workshop=live_workshop, preview=preview, create_new=True)
    assert tagged(a) == {"Resurssit", "Ihan uusi"} and tagged(b) == {"Talous"}
