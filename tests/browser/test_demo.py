"""After `make run`: the demo workshop is there for the facilitator and for a participant's link."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_workshop_for_facilitator_and_participant(live_server, new_page, assert_accessible):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    output = out.getvalue()
    password = re.search(r"password for both: (\S+)\)", output).group(1)
    join_path = urlsplit(re.search(r"http://\S+/j/\S+/", output).group(0)).path

    facilitator = new_page()
    facilitator.goto(live_server.url + "/account/login/")
    facilitator.get_by_label("Sähköposti").fill("fasilitaattori@example.fi")
    facilitator.get_by_label("Salasana").fill(password)
    facilitator.get_by_role("button", name="Kirjaudu sisään").click()
    expect(facilitator.get_by_role("heading", level=1)).to_have_text("Kaikki työpajat")
    row = facilitator.get_by_role("row").filter(has_text="Parastaminen: hyvät käytännöt kiertoon")
    expect(row).to_contain_text("Esimerkkilän kaupunki")
    assert_accessible(facilitator, "facilitator home")

    guest = new_page(viewport=PHONE)
    guest.goto(live_server.url + join_path)
    expect(guest).to_have_url(re.compile(r"/w/\d+/$"))  # the token is gone from the address bar
    expect(guest.get_by_role("heading", level=1)).to_have_text("Parastaminen: hyvät käytännöt kiertoon")
    expect(guest.get_by_role("heading", level=3)).to_have_count(3)
    expect(guest.get_by_text("Roolisi")).to_be_visible()
    assert_accessible(guest, "participant lobby")
    guest.reload()
    expect(guest.get_by_role("heading", level=1)).to_have_text("Parastaminen: hyvät käytännöt kiertoon")
