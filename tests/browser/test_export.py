"""A facilitator creates the Excel workbook, follows it being built and downloads it, in English."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from reports import tasks
from reports.models import Export
from tests.accounts.factories import PASSWORD, FacilitatorFactory
from tests.browser.helpers import in_english
from tests.facilitation.factories import CommentFactory, PhaseFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_facilitator_creates_follows_and_downloads_the_workbook(
    live_server, new_page, assert_accessible, celery_eager, settings, tmp_path
):
    # the build runs inside the live server; a worker process could not see this test's database
    celery_eager(True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    workshop = WorkshopFactory(title="Hyvinvoinnin kehittämisiltapäivä")
    case = CaseFactory(workshop=workshop, title="Kiusaamisen ehkäisy")
    phase = PhaseFactory(workshop=workshop, case=case)
    author = ParticipantFactory(workshop=workshop, name="Åsa Öhman")
    CommentFactory(phase=phase, author_participant=author, text="Yhteinen välitunti\nkaikille luokille")
    CommentFactory(phase=phase, author_participant=author, text="Nimetön ajatus", anonymous=True)

    page = new_page()
    in_english(page, base)
    page.goto(base + "/account/login/")
    page.get_by_label("Email").fill(facilitator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(base + f"/w/{workshop.pk}/export/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Export the contributions")
    expect(page.get_by_text("No workbook has been created yet.")).to_be_visible()
    assert_accessible(page, "export page, nothing exported yet")

    # creating the workbook (built at once here, by the eager task) lands on a ready workbook
    page.get_by_role("button", name="Create the workbook").click()
    status = page.locator("#export-status")
    expect(status).to_have_text("The workbook is ready: 4 rows.")
    bar = page.locator("#export-bar")
    assert bar.evaluate("bar => bar.value === bar.max")
    assert_accessible(page, "export page, workbook ready")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the workbook", exact=True).click()
    download = download_info.value
    assert re.fullmatch(r"hyvinvoinnin-kehittamisiltapaiva-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["All contributions", "Kiusaamisen ehkäisy", "Categories", "Participation"]
    texts = [row[20] for row in book["All contributions"].iter_rows(min_row=2, values_only=True)]
    assert texts == ["Yhteinen välitunti\nkaikille luokille", "Nimetön ajatus"]

    # a build under way: the page follows it every second and offers the file once it is ready
    building = Export.objects.create(
        workshop=workshop, requested_by=facilitator, language="en", status=Export.Status.RUNNING, rows_total=10
    )
    Export.objects.filter(pk=building.pk).update(rows_written=4)
    page.reload()
    expect(status).to_have_text("Being built: 4 of 10 rows written (40 %).")
    assert bar.evaluate("bar => [bar.value, bar.max]") == [4, 10]
    latest_download = page.locator("#export-download")
    expect(latest_download).to_be_hidden()
    assert_accessible(page, "export page, workbook being built")

    tasks.export_build.apply(args=[building.pk])  # the worker finishes it
    expect(status).to_have_text("The workbook is ready: 4 rows.")
    expect(latest_download).to_be_visible()
    row = page.locator(f'[data-export="{building.pk}"]')
    expect(row.locator('[data-field="status"]')).to_have_text("Ready")
    expect(row.get_by_role("link", name=re.compile("^Download"))).to_be_visible()
    assert bar.evaluate("bar => bar.value === bar.max")
    with page.expect_download() as download_info:
        latest_download.get_by_role("link", name="Download the workbook").click()
    again = tmp_path / "again.xlsx"
    download_info.value.save_as(again)
    assert "All contributions" in load_workbook(again).sheetnames
    assert_accessible(page, "export page, after following the build")
    assert page.console_errors == []
