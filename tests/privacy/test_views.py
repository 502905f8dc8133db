"""The data protection pages: who may see and do what, confirmation first, downloads that hold only one person."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from privacy.models import DeletionRequest, Erasure
from tests.accounts.factories import FacilitatorFactory
from tests.facilitation.conftest import guest_client
from tests.privacy.conftest import close
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops.models import Participant

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"privacy:{name}", args=args)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- public pages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_privacy_notice_and_accessibility_statement_are_public_and_in_every_language(client, settings, language):
    settings.KEHITTAMO_CONTROLLER_NAME = "Esimerkkilän kaupunki"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    notice = client.get(url("notice"))
    statement = client.get(url("accessibility"))
    assert notice.status_code == statement.status_code == 200
    expected = {
        "fi": ("Tietosuojaseloste", "Saavutettavuusseloste", "Traficom"),
        "sv": ("Dataskyddsbeskrivning", "Tillgänglighetsutlåtande", "Traficom"),
        "en": ("Privacy notice", "Accessibility statement", "Traficom"),
    }[language]
    assert f"<h1>{expected[0]}</h1>" in notice.content.decode()
    page = statement.content.decode()
    assert f"<h1>{expected[1]}</h1>" in page and expected[2] in page
    assert "Esimerkkilän kaupunki" in notice.content.decode() and "Esimerkkilän kaupunki" in page
    assert f'href="mailto:{settings.KEHITTAMO_ACCESSIBILITY_EMAIL}"' in page  # the feedback channel


def test_the_supervisory_authorities_are_the_real_ones_by_default(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    notice = client.get(url("notice")).content.decode()
    assert "Tietosuojavaltuutetun toimisto" in notice and 'href="mailto:tietosuoja@om.fi"' in notice
    assert 'href="https://tietosuoja.fi"' in notice and "029 566 6700" in notice
    statement = client.get(url("accessibility")).content.decode()
    assert "Traficom" in statement and 'href="mailto:saavutettavuus@traficom.fi"' in statement
    assert "029 534 5000" in statement and "Tämä seloste on laadittu 23.11.2026." in statement


def test_the_authorities_the_statement_date_and_the_controller_come_from_the_settings(client, settings):
    settings.KEHITTAMO_DATA_PROTECTION_AUTHORITY = {
        "name": "Ahvenanmaan tietosuojaviranomainen",
        "url": "https://www.dib.ax",
        "email": "info@dib.ax",
        "phone": "018 123 456",
        "address": "PB 1, AX-22100 Mariehamn",
    }
    settings.KEHITTAMO_ACCESSIBILITY_AUTHORITY = {
        "name": "Valvova Virasto",
        "url": "https://valvonta.example.fi",
        "email": "valvonta@example.fi",
        "phone": "",
    }
    settings.KEHITTAMO_ACCESSIBILITY_STATEMENT_DATE = date(2027, 3, 14)
    settings.KEHITTAMO_CONTROLLER_NAME = "Esimerkkilän kaupunki"
    settings.KEHITTAMO_CONTROLLER_ADDRESS = "Kaupungintalo, PL 1, 00100 Esimerkkilä"
    settings.KEHITTAMO_PRIVACY_EMAIL = "tietosuoja@esimerkkila.fi"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    notice = client.get(url("notice")).content.decode()
    for shown in ("Ahvenanmaan tietosuojaviranomainen", 'href="https://www.dib.ax"', "mailto:info@dib.ax"):
        assert shown in notice
    assert "018 123 456" in notice
    assert "PB 1, AX-22100 Mariehamn" in notice and "tietosuoja@om.fi" not in notice
    assert "Kaupungintalo, PL 1, 00100 Esimerkkilä" in notice and "mailto:tietosuoja@esimerkkila.fi" in notice
    statement = client.get(url("accessibility")).content.decode()
    assert "Valvova Virasto" in statement and "mailto:valvonta@example.fi" in statement
    assert "Traficom" not in statement.split("<h2>", 4)[-1] and "029 534 5000" not in statement
    assert "Tämä seloste on laadittu 14.3.2027." in statement and "23.11.2026" not in statement


def test_every_page_footer_links_both(client, participant):
    for page in (
        client.get(reverse("home")),
        guest_client(participant.participant).get(
            reverse("workshops:lobby", args=[participant.participant.workshop_id])
        ),
    ):
        html = page.content.decode()
        assert f'href="{url("notice")}"' in html and f'href="{url("accessibility")}"' in html


def test_the_notice_states_the_retention_period(client, settings):
    settings.KEHITTAMO_RETENTION_DAYS = 90
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    assert "90 päivän kuluttua" in client.get(url("notice")).content.decode()


# --- my data ----------------------------------------------------------------------------------------
def test_a_participant_sees_their_own_data_and_nobody_elses(trail):
    client = guest_client(trail.canary)
    lobby = client.get(reverse("facilitation:live", args=[trail.workshop.pk])).content.decode()
    assert f'href="{url("my_data", trail.workshop.pk)}"' in lobby
    page = client.get(url("my_data", trail.workshop.pk)).content.decode()
    for shown in ("Kanarialintu Kaivosmies", "kanarialintu@example.fi", "Kaivosyhtiö", "Louhinta"):
        assert shown in page
    assert "Nimellä kirjoitettu havainto" in page and "Nimetty idea" in page
    assert "Salainen havainto" not in page and "Salainen idea" not in page
    assert "Toinen Osallistuja" not in page and "toinen@example.fi" not in page
    assert "2 nimetöntä kommenttia tai ideaa" in page  # linked until the workshop closes, and said so


def test_after_closing_no_anonymous_content_is_linked_to_the_participant(trail, facilitator):
    close(trail, facilitator)
    page = guest_client(trail.canary).get(url("my_data", trail.workshop.pk)).content.decode()
    assert "Sinuun ei ole liitetty yhtään nimetöntä kommenttia tai ideaa." in page


def test_my_data_download_holds_only_the_participant(trail):
    response = guest_client(trail.canary).get(url("my_data_export", trail.workshop.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["participant"]["email"] == "kanarialintu@example.fi"
    assert data["anonymous_contributions_still_linked"] == 2
    assert {item["text"] for item in data["contributions"]} == {"Nimellä kirjoitettu havainto", "Nimetty idea"}
    assert "Toinen" not in response.content.decode() and "Salainen" not in response.content.decode()


@pytest.mark.parametrize("name", ["my_data", "my_data_export", "my_data_delete"])
def test_my_data_is_404_for_anyone_without_a_participant_row(trail, name, outsider, facilitator):
    other_workshop = WorkshopFactory()
    stranger = guest_client(ParticipantFactory(workshop=other_workshop))
    for client in (Client(), stranger, logged_in(outsider), logged_in(facilitator)):
        assert client.get(url(name, trail.workshop.pk)).status_code == 404
    assert guest_client(trail.canary).get(url(name, 999999)).status_code == 404


def test_asking_for_deletion_asks_first_then_records_and_shows_it_to_facilitators(trail, facilitator_client):
    client = guest_client(trail.canary)
    confirm = client.get(url("my_data_delete", trail.workshop.pk))
    assert confirm.status_code == 200 and "Tätä ei voi perua." in confirm.content.decode()
    assert not DeletionRequest.objects.exists()
    response = client.post(url("my_data_delete", trail.workshop.pk))
    assert response.status_code == 302 and response["Location"] == url("my_data", trail.workshop.pk)
    request = DeletionRequest.objects.get()
    assert request.participant == trail.canary and request.is_open
    assert "Pyysit" in client.get(url("my_data", trail.workshop.pk)).content.decode()
    manage = facilitator_client.get(reverse("workshops:manage", args=[trail.workshop.pk])).content.decode()
    assert "Henkilötiedot (1 poistopyyntö odottaa)" in manage
    staff_page = facilitator_client.get(url("workshop", trail.workshop.pk)).content.decode()
    assert "Kanarialintu Kaivosmies" in staff_page and "odottaa" in staff_page
    assert url("participant_erase", trail.workshop.pk, trail.canary.pk) in staff_page


# --- the facilitator's tools --------------------------------------------------------------------------
STAFF_PAGES = [
    ("workshop", lambda trail: [trail.workshop.pk]),
    ("workshop_erase", lambda trail: [trail.workshop.pk]),
    ("participant_erase", lambda trail: [trail.workshop.pk, trail.canary.pk]),
    ("participant_export", lambda trail: [trail.workshop.pk, trail.canary.pk, "json"]),
    ("participant_export", lambda trail: [trail.workshop.pk, trail.canary.pk, "xlsx"]),
]


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_only_facilitators_reach_the_erasure_and_export_tools(trail, name, args, contact_person, outsider):
    target = url(name, *args(trail))
    assert Client().get(target).status_code == 302  # to the log-in page
    assert logged_in(contact_person).get(target).status_code == 403
    assert logged_in(outsider).get(target).status_code == 404
    assert guest_client(trail.canary).get(target).status_code == 302
    assert logged_in(FacilitatorFactory()).get(target).status_code == 200


def test_the_workshop_and_the_participant_must_belong_together(trail, facilitator_client):
    foreign = ParticipantFactory(workshop=WorkshopFactory())
    for target in (
        url("participant_erase", trail.workshop.pk, foreign.pk),
        url("participant_export", trail.workshop.pk, foreign.pk, "json"),
        url("participant_export", trail.workshop.pk, trail.canary.pk, "pdf"),
        url("workshop", 999999),
    ):
        assert facilitator_client.get(target).status_code == 404
    assert facilitator_client.post(url("participant_erase", trail.workshop.pk, foreign.pk)).status_code == 404
    assert Participant.objects.get(pk=foreign.pk).name == foreign.name


def test_erasing_the_workshop_asks_first_and_refuses_while_it_runs(trail, facilitator_client, facilitator):
    confirm = facilitator_client.get(url("workshop_erase", trail.workshop.pk)).content.decode()
    assert "vasta, kun työpaja on päättynyt" in confirm and "<form" not in confirm.split("<main")[1]
    response = facilitator_client.post(url("workshop_erase", trail.workshop.pk), follow=True)
    assert "vasta, kun työpaja on päättynyt" in response.content.decode()
    assert not Erasure.objects.exists()

    close(trail, facilitator)
    confirm = facilitator_client.get(url("workshop_erase", trail.workshop.pk)).content.decode()
    assert "Tätä ei voi perua." in confirm and 'type="submit"' in confirm
    response = facilitator_client.post(url("workshop_erase", trail.workshop.pk))
    assert response.status_code == 302
    erasure = Erasure.objects.get()
    assert erasure.erased_by == facilitator and not erasure.automatic
    assert Participant.objects.get(pk=trail.canary.pk).name.startswith("Osallistuja ")
    page = facilitator_client.get(url("workshop", trail.workshop.pk)).content.decode()
    assert "Fanni Fasilitaattori" in page  # who erased, and when


def test_a_contact_person_cannot_erase(trail, contact_person, facilitator):
    close(trail, facilitator)
    client = logged_in(contact_person)
    assert client.post(url("workshop_erase", trail.workshop.pk)).status_code == 403
    assert client.post(url("participant_erase", trail.workshop.pk, trail.canary.pk)).status_code == 403
    assert not Erasure.objects.exists()
    assert Participant.objects.get(pk=trail.canary.pk).name == "Kanarialintu Kaivosmies"


def test_a_facilitator_erases_one_participant_after_confirming(trail, facilitator_client):
    confirm = facilitator_client.get(url("participant_erase", trail.workshop.pk, trail.canary.pk)).content.decode()
    assert "Kanarialintu Kaivosmies" in confirm and "Tätä ei voi perua." in confirm
    facilitator_client.post(url("participant_erase", trail.workshop.pk, trail.canary.pk))
    assert Participant.objects.get(pk=trail.canary.pk).email == ""
    assert Participant.objects.get(pk=trail.other.pk).email == "toinen@example.fi"


def test_the_export_of_one_person_is_json_or_a_workbook_without_formulas(trail, facilitator_client):
    trail.canary.department = '=HYPERLINK("http://evil.example")'
    trail.canary.save()
    as_json = facilitator_client.get(url("participant_export", trail.workshop.pk, trail.canary.pk, "json"))
    assert as_json["Content-Disposition"].startswith("attachment;")
    assert json.loads(as_json.content)["participant"]["name"] == "Kanarialintu Kaivosmies"
    # How many anonymous contributions are still tied to the person is theirs alone to know.
    assert "anonymous" not in as_json.content.decode()
    as_xlsx = facilitator_client.get(url("participant_export", trail.workshop.pk, trail.canary.pk, "xlsx"))
    book = load_workbook(io.BytesIO(as_xlsx.content))
    values = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    texts = [cell.value for cell in values if cell.value is not None]
    assert "Kanarialintu Kaivosmies" in texts and "Nimellä kirjoitettu havainto" in texts
    assert not any(cell.data_type == "f" for cell in values)
    assert "Toinen Osallistuja" not in texts and "Salainen havainto" not in texts


def test_the_participant_list_links_to_the_export_for_facilitators_only(trail, facilitator_client, contact_person):
    target = url("participant_export", trail.workshop.pk, trail.canary.pk, "xlsx")
    page = reverse("workshops:participants", args=[trail.workshop.pk])
    assert target in facilitator_client.get(page).content.decode()
    assert target not in logged_in(contact_person).get(page).content.decode()
    manage = facilitator_client.get(reverse("workshops:manage", args=[trail.workshop.pk])).content.decode()
    assert url("workshop", trail.workshop.pk) in manage


def test_the_participants_admin_page_links_to_their_data_and_erasure(trail, facilitator):
    facilitator.is_superuser = True
    facilitator.save()
    page = logged_in(facilitator).get(reverse("admin:workshops_participant_change", args=[trail.canary.pk]))
    html = page.content.decode()
    for target in (
        url("participant_export", trail.workshop.pk, trail.canary.pk, "xlsx"),
        url("participant_export", trail.workshop.pk, trail.canary.pk, "json"),
        url("participant_erase", trail.workshop.pk, trail.canary.pk),
    ):
        assert f'href="{target}"' in html
