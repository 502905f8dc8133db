from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import PASSWORD, FacilitatorFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:workshops_workshop_changelist") + "?status__exact=planned&q=Parastaminen",
        reverse("admin:workshops_participant_changelist") + "?invitation_status__exact=sent&q=aino",
        reverse("admin:workshops_invitationbatch_changelist"),
        reverse("admin:accounts_user_changelist") + "?is_staff__exact=1&q=example",
        reverse("admin:accounts_organisation_changelist") + "?q=kaupunki",
    ],
)
def test_admin_lists_with_filters_and_search_work_for_support(client, workshop, participant, url):
    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    assert client.get(url).status_code == 200


def test_admin_workshop_page_shows_the_status_history(client, workshop):
    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.post(reverse("account_login"), {"login": admin.email, "password": PASSWORD})
    response = client.get(reverse("admin:workshops_workshop_change", args=[workshop.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["x", "1.5", "-5.960464477539063e-08", str(2**70), "not-a-uuid"])
@pytest.mark.parametrize(
    ("page", "field"),
    [
        ("workshops_workshop_change", "organisation"),
        ("workshops_workshop_change", "created_by"),
        ("workshops_workshop_add", "organisation"),
        ("accounts_user_change", "organisation"),
    ],
)
def test_a_non_key_in_an_autocomplete_field_is_a_form_error_not_a_500(client, workshop, page, field, value):
    """The admin's autocomplete widget looked the submitted value up to label it again: "x" for an integer id
    raised there (found by tests/security/test_fuzz_admin.py)."""
    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.force_login(admin)
    args = [] if page.endswith("_add") else [admin.pk if page.startswith("accounts") else workshop.pk]
    url = reverse(f"admin:{page}", args=args)
    data = {"title": "Uusi nimi", "email": "admin@example.fi", "format": "parastaminen_a", "language": "fi"}
    data[field] = value
    response = client.post(url, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    workshop.refresh_from_db()
    assert workshop.title != "Uusi nimi"


@pytest.mark.parametrize("page", ["change", "delete"])
@pytest.mark.parametrize("model", ["workshops_workshop", "accounts_organisation", "account_emailaddress"])
def test_an_empty_to_field_parameter_is_ignored_not_a_500(client, workshop, page, model):
    """``?_to_field=`` passed the admin's allowed-field check ("" is falsy) and reached the lookup as a field
    name: a 500 on every change and delete page (found by tests/security/test_fuzz_admin.py). config/admin_site.py
    drops it; a bad non-empty one is still refused with 400."""
    from allauth.account.models import EmailAddress

    admin = FacilitatorFactory(email="admin@example.fi", is_superuser=True)
    client.force_login(admin)
    pk = {
        "workshops_workshop": workshop.pk,
        "accounts_organisation": workshop.organisation_id,
        "account_emailaddress": EmailAddress.objects.get(user=admin).pk,
    }[model]
    url = reverse(f"admin:{model}_{page}", args=[pk])
    assert client.get(url + "?_to_field=").status_code == 200
    assert client.post(url + "?_to_field=", {"_to_field": ""}).status_code in (200, 302)
    assert client.get(url + "?_to_field=nonexistent").status_code == 400


@pytest.mark.parametrize("selected", ["x", "-1.6501093590858371e+177", str(2**70), "1.5"])
@pytest.mark.parametrize("model", ["workshops_workshop", "auth_group", "account_emailaddress"])
def test_an_action_on_a_selection_that_is_no_key_selects_nothing_not_a_500(client, workshop, model, selected):
    """An action's ``_selected_action`` went into ``pk__in`` unchecked (found by tests/security/test_fuzz_admin.py):
    config/admin_site.py drops what cannot be a key; the admin then asks for a selection."""
    client.force_login(FacilitatorFactory(email="admin@example.fi", is_superuser=True))
    data = {"action": "delete_selected", "_selected_action": [selected, str(workshop.pk)], "index": "0"}
    response = client.post(reverse(f"admin:{model}_changelist"), data)
    assert response.status_code in (200, 302)
    assert Workshop.objects.filter(pk=workshop.pk).exists()  # only the confirmation page, nothing deleted


@pytest.mark.parametrize(
    "query",
    [
        "starts_at__year=99999999999999999999",
        "starts_at__year=9999",
        "starts_at__year=9999&starts_at__month=12&starts_at__day=31",
        "starts_at__year=2026&starts_at__month=13",
        "starts_at__year=-1",
    ],
)
def test_a_date_drill_down_beyond_the_calendar_is_a_bad_filter_not_a_500(client, workshop, query):
    """The workshop list's date drill-down raised OverflowError/ValueError for years Python's dates cannot
    hold (found by tests/security/test_fuzz_admin.py): now answered like any bad filter, the list with ?e=1."""
    client.force_login(FacilitatorFactory(email="admin@example.fi", is_superuser=True))
    response = client.get(reverse("admin:workshops_workshop_changelist") + "?" + query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert client.get(response["Location"]).status_code == 200


def test_view_on_site_with_an_id_that_is_no_uuid_is_a_404_not_a_500(client):
    """contenttypes' shortcut let a ValidationError out for a model keyed by a UUID (found by
    tests/security/test_fuzz_admin.py); config/admin_site.py answers 404 as for any id that names nothing."""
    from django.contrib.contenttypes.models import ContentType

    from facilitation.models import FeedbackResponse

    client.force_login(FacilitatorFactory(email="admin@example.fi", is_superuser=True))
    content_type = ContentType.objects.get_for_model(FeedbackResponse)
    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, "ei-uuid"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("workshops_participant", "created_at"),
        ("workshops_workshop", "starts_at"),
        ("accounts_organisation", "created_at"),
    ],
)
def test_an_add_forms_initial_date_from_the_query_string_is_read_or_left_out_not_a_500(client, workshop, model, field):
    """``?created_at=x`` went into the add form as it was, and the split date-time widget raised on a string
    (found by tests/security/test_fuzz_admin.py). A value the field can read starts the form with it; one it
    cannot is left out."""
    client.force_login(FacilitatorFactory(email="admin@example.fi", is_superuser=True))
    url = reverse(f"admin:{model}_add")
    for value in ["x", "2026-13-40 10:00", "9" * 30]:
        response = client.get(url, {field: value, "name": "Aino"})
        assert response.status_code == 200
        initial = response.context["adminform"].form.initial
        assert field not in initial and (model != "workshops_participant" or initial["name"] == "Aino")
    response = client.get(url, {field: "2026-05-04 10:30"})
    assert response.status_code == 200
    local = timezone.localtime(response.context["adminform"].form.initial[field])
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2026-05-04", "10:30")
    assert f'name="{field}_0" value="04.05.2026"' in response.content.decode()  # shown in Finnish
