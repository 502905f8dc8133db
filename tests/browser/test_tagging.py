"""A facilitator categorises comments: creates categories, tags with the keyboard, and applies an Excel file."""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from facilitation.models import Phase
from reports.contributions import COLUMN_KEYS, COLUMNS, contribution_rows
from reports.models import Category, CommentCategory
from tests.accounts.factories import FacilitatorFactory
from tests.browser.helpers import in_english, sign_in
from tests.facilitation.factories import CommentFactory, PhaseFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory

pytestmark = pytest.mark.django_db(transaction=True)


def tagged(comment) -> set[str]:
    return set(CommentCategory.objects.filter(comment=comment).values_list("category__name", flat=True))


def filled_workbook(workshop, path, cells: dict[str, str]) -> None:
    """The export's main sheet (English headings) with some Category cells filled, as a person would in Excel."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Luokiteltu"
    sheet.append([str(column.header) for column in COLUMNS])
    for row in contribution_rows(workshop):
        row["category"] = cells.get(row["id"], row["category"])
        sheet.append([row[key] for key in COLUMN_KEYS])
    book.save(path)


def test_facilitator_creates_categories_tags_with_the_keyboard_and_imports_excel(
    live_server, new_page, assert_accessible, tmp_path
):
    base = live_server.url
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")
    workshop = WorkshopFactory(title="Strategian jalkautus")
    case = CaseFactory(workshop=workshop, title="Kirjasto olohuoneena")
    phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.PRESENTATION, case=case, title="Esittely")
    author = ParticipantFactory(workshop=workshop, name="Aino Asukas")
    first, second, third = (
        CommentFactory(phase=phase, author_participant=author, text=text)
        for text in ("Ensimmäinen havainto", "Toinen havainto", "Kolmas havainto")
    )
    CommentFactory(phase=phase, author_participant=author, anonymous=True, text="Nimetön havainto")

    fac = new_page()
    in_english(fac, base)
    sign_in(fac, base, facilitator.email)

    # two categories; a duplicate name is refused with a clear message
    fac.goto(base + f"/w/{workshop.pk}/categories/")
    expect(fac.get_by_role("heading", level=1)).to_have_text("Categories")
    assert_accessible(fac, "categories page, empty")
    for name, colour in (("Resources", "#1e6b34"), ("Ideas", "#6b3fa0")):
        fac.get_by_label("Name").fill(name)
        fac.get_by_label("Colour").fill(colour)
        fac.get_by_role("button", name="Add category").click()
        expect(fac.get_by_role("status").first).to_contain_text(f"The category “{name}” was added.")
    fac.get_by_label("Name").fill("ideas")
    fac.get_by_role("button", name="Add category").click()
    expect(fac.get_by_role("alert")).to_contain_text("There is already a category called “ideas”.")
    expect(fac.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    assert_accessible(fac, "categories page, with an error")
    assert Category.objects.get(workshop=workshop, name="Resources").colour == "#1e6b34"
    assert Category.objects.filter(workshop=workshop).count() == 2

    # bulk tagging, keyboard only: tick two comments, pick the category by typing, press the button
    fac.get_by_role("link", name="Tag comments").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Tag comments")
    expect(fac.get_by_text("anonymous", exact=True)).to_be_visible()
    assert_accessible(fac, "tagging page")
    for text in ("Ensimmäinen", "Kolmas"):
        box = fac.get_by_label(re.compile(f"^Select: {text}"))
        box.focus()
        fac.keyboard.press("Space")
        expect(box).to_be_checked()
    expect(fac.locator("#selection-count")).to_have_text("2 selected")
    expect(fac.get_by_label(re.compile("^Select all on this page"))).to_have_js_property("indeterminate", True)
    category = fac.get_by_label("Category to add or remove")
    category.focus()
    fac.keyboard.type("Res")
    expect(category).to_have_value(str(Category.objects.get(name="Resources").pk))
    fac.get_by_role("button", name="Add to selected").focus()
    fac.keyboard.press("Enter")
    expect(fac.get_by_role("status").first).to_contain_text("“Resources” was added to 2 comments.")
    assert tagged(first) == tagged(third) == {"Resources"} and tagged(second) == set()
    expect(fac.get_by_role("row").filter(has_text="Ensimmäinen havainto")).to_contain_text("Resources")
    assert_accessible(fac, "tagging page after tagging")

    # the workbook comes back from Excel: one cell changed (with a new category), one left empty
    path = tmp_path / "Strategian jalkautus.xlsx"
    filled_workbook(workshop, path, {f"C{first.pk}": "ideas; Brand new", f"C{second.pk}": "Ideas", f"C{third.pk}": ""})
    fac.get_by_role("link", name="Import categories from Excel").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Import categories from Excel")
    assert_accessible(fac, "import form")
    fac.get_by_label("Exported workbook (.xlsx)").set_input_files(str(path))
    fac.get_by_role("button", name="Check the file").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Check the changes")
    expect(fac.get_by_role("status").first).to_contain_text("changes the categories of 2 comments")
    expect(fac.get_by_role("row").filter(has_text=f"C{first.pk}")).to_contain_text("Brand new")
    assert_accessible(fac, "import preview")
    assert tagged(first) == {"Resources"}  # nothing saved yet

    create = fac.get_by_label("Create the 1 new category")
    create.focus()
    fac.keyboard.press("Space")
    expect(create).to_be_checked()
    fac.get_by_role("button", name="Apply the changes").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Categories")
    expect(fac.get_by_role("status").first).to_contain_text("The categories of 2 comments were updated")
    expect(fac.get_by_role("status").first).to_contain_text("New categories: Brand new.")
    assert tagged(first) == {"Ideas", "Brand new"}
    assert tagged(second) == {"Ideas"}
    assert tagged(third) == {"Resources"}  # the empty cell changed nothing
    assert_accessible(fac, "categories page after the import")
    assert fac.console_errors == []
