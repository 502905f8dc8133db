"""The whole "before" of a workshop in a browser, in Finnish, with axe on every page visited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import ContactPersonFactory, FacilitatorFactory
from tests.browser.helpers import sign_in_finnish as sign_in
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db(transaction=True)
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_register_accept_cases_upload_invite_and_join(
    live_server, new_page, assert_accessible, smtp_sink, settings, celery_eager
):
    # the invitation task runs inside the live server; a worker process could not see this test's database
    celery_eager(True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.KEHITTAMO_SITE_URL = live_server.url
    base = live_server.url
    contact = ContactPersonFactory(email="yhteys@vaasa.fi", organisation__name="Vaasan kaupunki")
    facilitator = FacilitatorFactory(email="fasilitaattori@example.fi")

    # the contact person registers a workshop
    cp = new_page()
    sign_in(cp, base, contact.email)
    cp.get_by_role("link", name="Ilmoita työpaja").click()
    assert_accessible(cp, "registration form")
    cp.get_by_label(re.compile(r"^Organisaatio")).select_option(label="Vaasan kaupunki")
    cp.get_by_label("Otsikko").fill("Hyvät käytännöt kiertoon")
    cp.get_by_label("Teema ja tavoite").fill("Opitaan toisiltamme.")
    cp.get_by_label("Kuntalainen").check()
    cp.get_by_role("button", name="Lähetä pyyntö").click()
    expect(cp.get_by_role("heading", level=1)).to_have_text("Hyvät käytännöt kiertoon")
    assert_accessible(cp, "workshop page (requested)")
    workshop = Workshop.objects.get(title="Hyvät käytännöt kiertoon")

    # the facilitator accepts it
    fac = new_page()
    sign_in(fac, base, facilitator.email)
    fac.get_by_role("link", name="Pyynnöt").click()
    assert_accessible(fac, "queue")
    fac.get_by_role("link", name=re.compile("^Hyväksy")).click()
    fac.get_by_label("Päivämäärä").fill("2027-02-10")
    fac.get_by_label("Alkamisaika").fill("13:00")
    assert_accessible(fac, "accept form")
    fac.get_by_role("button", name="Hyväksy ja ilmoita yhteyshenkilölle").click()
    expect(fac.get_by_role("status").first).to_be_visible()
    workshop.refresh_from_db()
    assert workshop.status == "planned"
    smtp_sink.wait_for(1)  # the contact person's acceptance mail

    # the contact person adds three cases and uploads the Finnish Excel CSV
    cp.reload()
    for n in range(1, 4):
        cp.get_by_role("link", name="Lisää tapausesimerkki").click()
        cp.get_by_label("Otsikko").fill(f"Esimerkki {n}")
        cp.get_by_label("Esittelijän nimi").fill(f"Esittelijä {n}")
        cp.get_by_role("button", name="Tallenna").click()
    expect(cp.get_by_role("heading", level=3)).to_have_count(3)
    cp.get_by_role("link", name="Osallistujalista").first.click()
    assert_accessible(cp, "participant list")
    cp.get_by_label("Osallistujalista (CSV tai Excel)").set_input_files(str(SHARED_DATA / "participants_excel_fi.csv"))
    cp.get_by_role("button", name="Tarkista tiedosto").first.click()
    assert_accessible(cp, "import preview")
    cp.get_by_role("button", name=re.compile("^Tuo")).click()
    expect(cp.get_by_role("status").first).to_contain_text("lisättiin")
    count = Participant.objects.filter(workshop=workshop).count()
    assert count >= 20

    # the facilitator sends the invitations
    fac.goto(base + f"/w/{workshop.pk}/invitations/")
    assert_accessible(fac, "invitations")
    fac.get_by_role("button", name="Lähetä niille, joita ei ole vielä kutsuttu").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Kutsut")
    mails = smtp_sink.wait_for(1 + count, timeout=30)
    invitation = next(m for m in mails[1:] if "lyydia.lehtonen@vaasa.fi" in m["To"])
    body = invitation.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/j/\S+/", body).group(0)
    assert any(part.get_content_type() == "text/calendar" for part in invitation.iter_attachments())

    # the participant opens the link in a fresh browser and lands in the lobby, in Finnish
    guest = new_page()
    guest.goto(link)
    expect(guest).to_have_url(re.compile(r"/w/\d+/$"))
    expect(guest.locator("html")).to_have_attribute("lang", "fi")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Hyvät käytännöt kiertoon")
    expect(guest.get_by_text("Tervetuloa, Lyydia Lehtonen!")).to_be_visible()
    assert_accessible(guest, "lobby")
