"""The whole "after" in one go, as a facilitator does it: export and download the workbook, tag a few
comments in the platform, bring the workbook back with its Category column filled in Excel, and see
the categories in the report."""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from facilitation.models import Phase
from reports.models import CommentCategory
from tests.accounts.factories import PASSWORD, FacilitatorFactory
from tests.facilitation.factories import CommentFactory, PhaseFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)


def fill_category(path, cells: dict[str, str]) -> None:
    """What a person does in Excel: type categories into the main sheet's Category column."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    id_column, category_column = headers.index("Id") + 1, headers.index("Category") + 1
    for row in range(2, sheet.max_row + 1):
        row_id = sheet.cell(row=row, column=id_column).value
        if row_id in cells:
            sheet.cell(row=row, column=category_column, value=cells[row_id])
    book.save(path)


def test_export_tag_reimport_and_report(live_server, new_page, assert_accessible, celery_eager, tmp_path):
    celery_eager(True)
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi", language="en")
    workshop = WorkshopFactory(title="Good practices", language="en", status=Workshop.Status.CLOSED)
    case = CaseFactory(workshop=workshop, title="Morning meeting")
    phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.PRESENTATION, case=case, title="Morning meeting")
    author = ParticipantFactory(workshop=workshop, name="Aino Asukas", first_joined_at=workshop.created_at)
    first, second, third = (
        CommentFactory(phase=phase, author_participant=author, text=text)
        for text in ("Saves ten minutes a day", "Needs a room with a screen", "Works for night shifts too")
    )

    page = new_page()
    page.context.add_cookies([{"name": "kehittamo_language", "value": "en", "url": base}])
    page.goto(base + "/account/login/")
    page.get_by_label("Email").fill(facilitator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # export: progress to ready, then download
    page.goto(f"{base}/w/{workshop.pk}/manage/")
    page.get_by_role("link", name="Excel export").click()
    page.get_by_role("button", name="Create the workbook").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the workbook", exact=True).click()
    path = tmp_path / "exported.xlsx"
    download_info.value.save_as(path)
    texts = [cell.value for cell in openpyxl.load_workbook(path).worksheets[0]["U"]]
    assert "Saves ten minutes a day" in texts
    assert_accessible(page, "export page")

    # tag one comment in the platform
    page.goto(f"{base}/w/{workshop.pk}/manage/")
    page.get_by_role("link", name="Categorise the contributions").click()
    page.get_by_label("Name").fill("Time")
    page.get_by_role("button", name="Add category").click()
    page.get_by_role("link", name="Tag comments").click()
    page.get_by_label(re.compile("^Select: Saves ten minutes")).check()
    page.get_by_label("Category to add or remove").select_option(label="Time")
    page.get_by_role("button", name="Add to selected").click()
    expect(page.get_by_role("status").first).to_contain_text("“Time” was added to 1 comment")

    # back from Excel: two more comments categorised, one with a new category
    fill_category(path, {f"C{second.pk}": "Facilities", f"C{third.pk}": "Time"})
    page.get_by_role("link", name="Import categories from Excel").click()
    page.get_by_label("Exported workbook (.xlsx)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the changes")
    assert_accessible(page, "re-import preview")
    page.get_by_label(re.compile("^Create the 1 new category")).check()
    page.get_by_role("button", name="Apply the changes").click()
    expect(page.get_by_role("status").first).to_contain_text("The categories of 2 comments were updated")
    assigned = set(CommentCategory.objects.values_list("comment_id", "category__name"))
    assert assigned == {(first.pk, "Time"), (second.pk, "Facilities"), (third.pk, "Time")}

    # the report shows them
    page.goto(f"{base}/w/{workshop.pk}/manage/")
    page.get_by_role("link", name="Results report").click()
    categories = page.locator("section").filter(has=page.get_by_role("heading", name="Categories"))
    expect(categories.first).to_contain_text("Time")
    expect(categories.first).to_contain_text("Facilities")
    assert_accessible(page, "report")
