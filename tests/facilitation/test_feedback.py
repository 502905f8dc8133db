"""The anonymous feedback survey: defaults, answering once (live and afterwards), the editor, anonymity."""

from __future__ import annotations

import inspect
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from accounts.models import User
from facilitation import selectors_feedback, services
from facilitation.models import (
    FEEDBACK_TEXT_MAX_LENGTH,
    Event,
    FeedbackAnswer,
    FeedbackReceipt,
    FeedbackResponse,
    Phase,
    Survey,
    SurveyQuestion,
)
from tests.facilitation.conftest import guest_client, make_guest, viewer_of
from tests.workshops.factories import ParticipantFactory, WorkshopFactory
from workshops import views as workshop_views
from workshops.models import Participant, Workshop, WorkshopStatusChange

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
CANARY_NAME = "Kanarialintu Palautteenantaja"


def url(name: str, workshop, *args) -> str:
    return reverse(f"facilitation:{name}", args=[workshop.pk, *args])


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def questions(workshop) -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id"))


def by_kind(workshop) -> dict[str, SurveyQuestion]:
    found: dict[str, SurveyQuestion] = {}
    for question in questions(workshop):
        found.setdefault(question.kind, question)
    return found


def answer_data(workshop, *, rating="4", worked="Hyvä rytmi", improve="Enemmän aikaa", again="yes") -> dict:
    first_text, second_text = [q for q in questions(workshop) if q.kind == SurveyQuestion.Kind.TEXT][:2]
    kinds = by_kind(workshop)
    return {
        f"q{kinds['rating'].pk}": rating,
        f"q{first_text.pk}": worked,
        f"q{second_text.pk}": improve,
        f"q{kinds['yes_no'].pk}": again,
    }


def stored() -> tuple[int, int, int]:
    return FeedbackResponse.objects.count(), FeedbackAnswer.objects.count(), FeedbackReceipt.objects.count()


def english_workshop(workshop) -> None:
    """The default questions are made in the workshop's language; English keeps the asserts readable."""
    workshop.language = "en"
    workshop.save(update_fields=["language"])


@pytest.fixture
def feedback_live(live_workshop, django_capture_on_commit_callbacks):
    """The live workshop on its feedback phase; the survey has its default questions (in English)."""
    english_workshop(live_workshop)
    phase = live_workshop.phases.get(kind=Phase.Kind.FEEDBACK)
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=phase)
    services.survey_ensure(workshop=live_workshop)
    return live_workshop


@pytest.fixture
def closed_workshop(live_workshop, facilitator, django_capture_on_commit_callbacks):
    """The workshop closed just now; the survey stays open for its default 14 days."""
    english_workshop(live_workshop)
    services.survey_ensure(workshop=live_workshop)
    with django_capture_on_commit_callbacks(execute=True):
        services.live_close(workshop=live_workshop, by=facilitator)
    live_workshop.refresh_from_db()
    return live_workshop


def close_days_ago(workshop, days: int) -> None:
    WorkshopStatusChange.objects.filter(workshop=workshop, to_status=Workshop.Status.CLOSED).update(
        changed_at=timezone.now() - timedelta(days=days)
    )


# --- the survey and its defaults ---------------------------------------------------------------
def test_the_first_look_makes_the_default_questions_in_the_workshops_language(workshop):
    workshop.language = "sv"
    workshop.save()
    seen = []

    def spy(text):
        seen.append(translation.get_language())
        return f"[{translation.get_language()}] {text}"

    with mock.patch("facilitation.services.feedback._", side_effect=spy):
        survey = services.survey_ensure(workshop=workshop)
    assert survey.workshop_id == workshop.pk and survey.open_days_after == 14
    made = questions(workshop)
    assert [(q.position, q.kind, q.required) for q in made] == [
        (1, "rating", True),
        (2, "text", False),
        (3, "text", False),
        (4, "yes_no", False),
    ]
    assert set(seen) == {"sv"}
    assert made[1].text == "[sv] What worked?"
    # Opening it again makes nothing new, even after the facilitator removed every question.
    SurveyQuestion.objects.filter(workshop=workshop).delete()
    assert services.survey_ensure(workshop=workshop) == survey
    assert questions(workshop) == []


def test_the_defaults_are_finnish_for_a_finnish_workshop_and_english_for_an_english_one(organisation):
    english_workshop = WorkshopFactory(organisation=organisation, language="en")
    services.survey_ensure(workshop=english_workshop)
    assert [q.text for q in questions(english_workshop)] == [
        "Overall, how would you rate the workshop?",
        "What worked?",
        "What could be improved?",
        "Would you use this method again?",
    ]
    finnish = WorkshopFactory(organisation=organisation)
    assert finnish.language == "fi"
    with mock.patch("facilitation.services.feedback._", side_effect=lambda text: translation.get_language()):
        services.survey_ensure(workshop=finnish)
    assert {q.text for q in questions(finnish)} == {"fi"}


def test_showing_the_feedback_phase_makes_the_survey(live_workshop, django_capture_on_commit_callbacks):
    assert not Survey.objects.filter(pk=live_workshop.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=live_workshop, phase=live_workshop.phases.get(kind=Phase.Kind.FEEDBACK))
    _person, client = make_guest(live_workshop)
    page = english(client).get(url("live", live_workshop)).content.decode()
    assert Survey.objects.filter(pk=live_workshop.pk).exists()
    assert len(questions(live_workshop)) == 4
    assert "Send feedback" in page and f'name="q{by_kind(live_workshop)["rating"].pk}"' in page


def test_the_survey_view_costs_the_same_queries_for_few_and_many_questions(
    feedback_live, django_assert_max_num_queries
):
    person = ParticipantFactory(workshop=feedback_live)
    viewer = viewer_of(feedback_live, participant=person)
    with django_assert_max_num_queries(4):
        view = selectors_feedback.survey_view(viewer)
    assert view.open and view.shows_form and not view.already_answered and len(view.questions) == 4
    for number in range(12):
        services.question_add(workshop=feedback_live, text=f"Kysymys {number}", kind="text")
    with django_assert_max_num_queries(4):
        view = selectors_feedback.survey_view(viewer)
    assert len(view.questions) == 16


# --- answering in the feedback phase --------------------------------------------------------------
def test_a_participant_answers_once_and_gets_thanks(feedback_live, django_capture_on_commit_callbacks):
    _person, client = make_guest(feedback_live)
    english(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("feedback", feedback_live), answer_data(feedback_live, improve="Lisää taukoja"))
    assert response.status_code == 302 and response["Location"] == url("live", feedback_live)
    assert stored() == (1, 4, 1)
    answer = FeedbackAnswer.objects.get(question=by_kind(feedback_live)["rating"])
    assert answer.rating == 4 and answer.question_text == "Overall, how would you rate the workshop?"
    assert FeedbackAnswer.objects.get(question=by_kind(feedback_live)["yes_no"]).choice == "yes"
    assert set(FeedbackAnswer.objects.exclude(text="").values_list("text", flat=True)) == {
        "Hyvä rytmi",
        "Lisää taukoja",
    }
    live = client.get(response["Location"])
    page = live.content.decode()
    assert "Thank you, your feedback was saved." in page
    assert "Send feedback" not in page


def test_a_second_answer_is_refused_kindly_and_nothing_is_stored(feedback_live):
    person, client = make_guest(feedback_live)
    english(client)
    client.post(url("feedback", feedback_live), answer_data(feedback_live))
    assert stored() == (1, 4, 1)
    again = client.post(url("feedback", feedback_live), answer_data(feedback_live, worked="Toinen kerta"))
    assert again.status_code == 409
    assert "You have already given your feedback. Thank you!" in again.content.decode()
    assert stored() == (1, 4, 1)
    assert not FeedbackAnswer.objects.filter(text="Toinen kerta").exists()
    # The service refuses too (a second tab that still showed the form).
    viewer = viewer_of(feedback_live, participant=person)
    with pytest.raises(services.FeedbackAlreadyGiven):
        services.feedback_submit(viewer=viewer, answers={by_kind(feedback_live)["rating"].pk: 5}, language="fi")
    assert stored() == (1, 4, 1)
    assert client.post(url("feedback", feedback_live), answer_data(feedback_live), **JSON).status_code == 409


def test_a_signed_in_contact_person_answers_once_under_the_account(feedback_live, contact_person):
    client = english(Client())
    client.force_login(contact_person)
    assert client.post(url("feedback", feedback_live), answer_data(feedback_live)).status_code == 302
    receipt = FeedbackReceipt.objects.get()
    assert receipt.user_id == contact_person.pk and receipt.participant_id is None
    assert client.post(url("feedback", feedback_live), answer_data(feedback_live)).status_code == 409
    assert stored() == (1, 4, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": "7"}, "Choose a number from 1 to 5."),
        ({"rating": "0"}, "Choose a number from 1 to 5."),
        ({"rating": "kolme"}, "Choose a number from 1 to 5."),
        ({"rating": ""}, "This question needs an answer."),
        ({"again": "maybe"}, "Choose yes, no or not sure."),
        ({"improve": "x" * (FEEDBACK_TEXT_MAX_LENGTH + 1)}, "the limit is 2000"),
    ],
)
def test_bad_answers_are_refused_with_the_typed_text_kept(feedback_live, change, message):
    _person, client = make_guest(feedback_live)
    english(client)
    data = answer_data(feedback_live, worked="Tämä teksti säilyy <b>ehjänä</b>", **change)
    response = client.post(url("feedback", feedback_live), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Tämä teksti säilyy &lt;b&gt;ehjänä&lt;/b&gt;" in page  # kept, and escaped
    assert 'aria-invalid="true"' in page or "field-has-error" in page
    assert stored() == (0, 0, 0)


def test_line_breaks_count_once_against_the_limit(feedback_live):
    _person, client = make_guest(feedback_live)
    text = ("a" * 99 + "\r\n") * 20  # 2,000 characters once a line break counts as one
    response = client.post(url("feedback", feedback_live), answer_data(feedback_live, worked=text.strip()))
    assert response.status_code == 302
    assert len(FeedbackAnswer.objects.exclude(text="").exclude(text="Enemmän aikaa").get().text) == 1999


def test_an_empty_answer_is_refused(feedback_live):
    rating = by_kind(feedback_live)["rating"]
    services.question_update(question=rating, text=rating.text, kind=rating.kind, required=False)
    _person, client = make_guest(feedback_live)
    response = english(client).post(
        url("feedback", feedback_live), answer_data(feedback_live, rating="", worked=" ", improve="", again="")
    )
    assert response.status_code == 400
    assert "Answer at least one question." in response.content.decode()
    assert stored() == (0, 0, 0)


def test_the_service_checks_the_answers_again(feedback_live):
    person = ParticipantFactory(workshop=feedback_live)
    viewer = viewer_of(feedback_live, participant=person)
    kinds = by_kind(feedback_live)
    with translation.override("en"):
        for answers, message in [
            ({kinds["rating"].pk: 6}, "choose a number from 1 to 5"),
            ({kinds["yes_no"].pk: "yes"}, "needs an answer"),
            ({kinds["rating"].pk: 3, kinds["yes_no"].pk: "perhaps"}, "choose yes, no or not sure"),
            ({kinds["rating"].pk: 3, kinds["text"].pk: "y" * 2001}, "the limit is 2000"),
        ]:
            with pytest.raises(services.LiveError, match=message):
                services.feedback_submit(viewer=viewer, answers=answers, language="en")
    assert stored() == (0, 0, 0)
    response = services.feedback_submit(viewer=viewer, answers={str(kinds["rating"].pk): "2"}, language="xx")
    assert response.language == "fi" and response.submitted_on == timezone.localdate()


def test_facilitators_see_the_count_and_the_editor_link_but_do_not_answer(feedback_live, facilitator_client):
    english(facilitator_client)
    page = facilitator_client.get(url("control", feedback_live)).content.decode()
    assert 'data-stat="feedback_responses">0<' in page
    assert url("survey_edit", feedback_live) in page
    assert "Send feedback" not in page
    response = facilitator_client.post(url("feedback", feedback_live), answer_data(feedback_live))
    assert response.status_code == 400
    assert "Facilitators do not answer the feedback survey" in response.content.decode()
    assert stored() == (0, 0, 0)


def test_outsiders_get_404_and_store_nothing(feedback_live, outsider, organisation):
    elsewhere = WorkshopFactory(organisation=organisation)
    stranger = guest_client(ParticipantFactory(workshop=elsewhere))
    signed_in = Client()
    signed_in.force_login(outsider)
    for client in (Client(), stranger, signed_in):
        assert client.get(url("feedback", feedback_live)).status_code == 404
        assert client.post(url("feedback", feedback_live), answer_data(feedback_live)).status_code == 404
    assert stored() == (0, 0, 0)


def test_the_survey_is_closed_outside_the_feedback_phase(live_workshop):
    services.survey_ensure(workshop=live_workshop)
    _person, client = make_guest(live_workshop)
    english(client)
    page = client.get(url("feedback", live_workshop)).content.decode()
    assert "The feedback survey is not open right now." in page and "Send feedback" not in page
    response = client.post(url("feedback", live_workshop), answer_data(live_workshop))
    assert response.status_code == 400
    assert stored() == (0, 0, 0)


def test_a_workshop_without_a_survey_or_a_feedback_phase_has_no_feedback_page(live_workshop):
    live_workshop.phases.filter(kind=Phase.Kind.FEEDBACK).delete()
    _person, client = make_guest(live_workshop)
    assert client.get(url("feedback", live_workshop)).status_code == 404
    assert not Survey.objects.exists()


# --- after the workshop -------------------------------------------------------------------------
def test_after_the_workshop_the_personal_link_opens_the_survey_for_the_set_days(closed_workshop):
    person = ParticipantFactory(workshop=closed_workshop, name=CANARY_NAME)
    client = english(guest_client(person))
    page = client.get(url("feedback", closed_workshop)).content.decode()
    closes_on = timezone.localdate() + timedelta(days=14)
    assert "Send feedback" in page and f"You can answer until {closes_on:%-d.%-m.%Y}." in page
    response = client.post(url("feedback", closed_workshop), answer_data(closed_workshop))
    assert response.status_code == 302 and response["Location"] == url("feedback", closed_workshop)
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you, your feedback was saved." in thanks and "Send feedback" not in thanks
    assert stored() == (1, 4, 1)


def test_the_window_counts_days_from_the_close_and_then_shuts(closed_workshop):
    _person, client = make_guest(closed_workshop)
    english(client)
    close_days_ago(closed_workshop, 14)  # the last day
    assert "Send feedback" in client.get(url("feedback", closed_workshop)).content.decode()
    close_days_ago(closed_workshop, 15)
    page = client.get(url("feedback", closed_workshop)).content.decode()
    assert "The feedback survey closed on" in page and "Send feedback" not in page
    response = client.post(url("feedback", closed_workshop), answer_data(closed_workshop))
    assert response.status_code == 400
    assert "The feedback survey is not open right now." in response.content.decode()
    assert stored() == (0, 0, 0)
    # The facilitator gives more time.
    services.survey_update(workshop=closed_workshop, intro="", open_days_after=30)
    assert client.post(url("feedback", closed_workshop), answer_data(closed_workshop)).status_code == 302


def test_the_window_follows_the_clock(closed_workshop):
    services.survey_update(workshop=closed_workshop, intro="", open_days_after=0)
    _person, client = make_guest(closed_workshop)
    later = timezone.now() + timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.post(url("feedback", closed_workshop), answer_data(closed_workshop)).status_code == 400
    assert stored() == (0, 0, 0)
    assert client.post(url("feedback", closed_workshop), answer_data(closed_workshop)).status_code == 302


def test_without_a_recorded_close_the_planned_end_counts(organisation):
    workshop = WorkshopFactory(
        organisation=organisation, status=Workshop.Status.CLOSED, starts_at=timezone.now() - timedelta(days=20)
    )
    services.survey_ensure(workshop=workshop)
    survey = Survey.objects.get(pk=workshop.pk)
    assert selectors_feedback.workshop_closed_at(workshop) == workshop.ends_at
    expected_last_day = timezone.localdate(workshop.ends_at) + timedelta(days=14)
    assert selectors_feedback.survey_window(workshop, survey) == (False, expected_last_day)
    survey.open_days_after = 30
    assert selectors_feedback.survey_window(workshop, survey)[0] is True
    workshop.starts_at = None
    assert selectors_feedback.survey_window(workshop, survey) == (False, None)


def lobby_html(workshop, client_user=None, participant=None) -> str:
    """The lobby as ``workshops.views.lobby`` renders it once it passes ``lobby_feedback``."""
    request = RequestFactory().get("/")
    request.user = client_user or mock.Mock(is_authenticated=False, is_facilitator=False)
    request.session = {}
    access = mock.Mock(
        workshop=workshop, participant=participant, is_facilitator=bool(client_user), is_contact_person=False
    )
    feedback = selectors_feedback.lobby_feedback(request, access)
    with translation.override("en"):
        return render_to_string(
            "workshops/lobby.html", {"access": access, "workshop": workshop, "feedback": feedback}, request=request
        )


def test_the_lobby_offers_feedback_then_thanks(closed_workshop, facilitator):
    person = ParticipantFactory(workshop=closed_workshop)
    page = lobby_html(closed_workshop, participant=person)
    assert "Give feedback" in page and url("feedback", closed_workshop) in page
    services.feedback_submit(
        viewer=viewer_of(closed_workshop, participant=person),
        answers={by_kind(closed_workshop)["rating"].pk: 5},
        language="fi",
    )
    page = lobby_html(closed_workshop, participant=person)
    assert "Thank you, your feedback was saved." in page and "Give feedback" not in page
    staff = lobby_html(closed_workshop, client_user=facilitator)
    assert url("survey_edit", closed_workshop) in staff and "Give feedback" not in staff
    close_days_ago(closed_workshop, 30)
    other = ParticipantFactory(workshop=closed_workshop)
    assert "The feedback survey has closed." in lobby_html(closed_workshop, participant=other)


def test_the_lobby_has_no_feedback_block_before_the_workshop(workshop):
    services.survey_ensure(workshop=workshop)
    person = ParticipantFactory(workshop=workshop)
    assert "Give feedback" not in lobby_html(workshop, participant=person)


# The lobby view belongs to the workshops app; this test runs once it passes ``lobby_feedback`` to the page.
LOBBY_WIRED = "lobby_feedback" in inspect.getsource(workshop_views.lobby)


@pytest.mark.skipif(
    not LOBBY_WIRED, reason="workshops.views.lobby does not pass lobby_feedback yet (the lead wires it)"
)
def test_the_personal_link_lands_in_the_lobby_with_the_feedback_link(closed_workshop):
    _person, client = make_guest(closed_workshop)
    page = english(client).get(reverse("workshops:lobby", args=[closed_workshop.pk])).content.decode()
    assert "Give feedback" in page
    client.post(url("feedback", closed_workshop), answer_data(closed_workshop))
    page = client.get(reverse("workshops:lobby", args=[closed_workshop.pk])).content.decode()
    assert "Thank you, your feedback was saved." in page and "Give feedback" not in page


# --- anonymity ----------------------------------------------------------------------------------
PERSON_MODELS = (Participant, User)


def test_nothing_stored_with_the_answers_points_to_the_person(
    feedback_live, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    person = ParticipantFactory(workshop=feedback_live, name=CANARY_NAME, email="kanarialintu@example.fi")
    client = english(guest_client(person))
    pushed = []
    with (
        mock.patch("facilitation.realtime.publish_ephemeral", side_effect=lambda **kw: pushed.append(kw)),
        mock.patch("facilitation.realtime.publish", side_effect=lambda **kw: pushed.append(kw)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url("feedback", feedback_live), answer_data(feedback_live, worked="Salainen palaute"))
    assert response.status_code == 302

    # The models cannot link: no key to a person, no time of day, and the receipt no key to the response.
    for model in (FeedbackResponse, FeedbackAnswer):
        for field in model._meta.concrete_fields:
            assert not (field.is_relation and field.related_model in PERSON_MODELS), field
            assert not isinstance(field, models.DateTimeField), field
    for field in FeedbackReceipt._meta.concrete_fields:
        assert not (field.is_relation and field.related_model in (FeedbackResponse, FeedbackAnswer)), field
        assert not isinstance(field, models.DateTimeField | models.DateField), field

    # And the stored values hold nothing of the person either.
    identifying = {str(person.pk), CANARY_NAME, person.email, str(FeedbackReceipt.objects.get().pk)}
    for row in [*FeedbackResponse.objects.all(), *FeedbackAnswer.objects.all()]:
        for field in row._meta.concrete_fields:
            value = field.value_from_object(row)
            if field.is_relation:
                assert field.related_model not in PERSON_MODELS
                continue
            assert str(value) not in identifying, (field.name, value)
            assert not any(marker in str(value) for marker in (CANARY_NAME, person.email)), field.name
    receipt = FeedbackReceipt.objects.get()
    assert receipt.participant_id == person.pk and receipt.pk != FeedbackResponse.objects.get().pk

    # Only the facilitators' counter is pushed, with nothing but the number.
    assert pushed == [
        {
            "workshop_id": feedback_live.pk,
            "kind": "stats",
            "payload": {"feedback_responses": 1},
            "staff_only": True,
        }
    ]
    assert not Event.objects.filter(payload__icontains="Salainen palaute").exists()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Salainen palaute" not in logged and CANARY_NAME not in logged


def test_the_facilitators_page_shows_the_count_not_the_answers(feedback_live, facilitator_client):
    _person, client = make_guest(feedback_live, name=CANARY_NAME)
    client.post(url("feedback", feedback_live), answer_data(feedback_live, worked="Salainen palaute"))
    page = english(facilitator_client).get(url("feedback", feedback_live)).content.decode()
    assert 'data-stat="feedback_responses">1<' in page
    assert "Salainen palaute" not in page and CANARY_NAME not in page


# --- the facilitator's editor ------------------------------------------------------------------
@pytest.fixture
def editor(workshop, facilitator):
    client = english(Client())
    client.force_login(facilitator)
    return client


def test_the_editor_opens_from_the_agenda_with_the_default_questions(workshop, editor):
    english_workshop(workshop)
    agenda = editor.get(url("agenda", workshop)).content.decode()
    assert url("survey_edit", workshop) in agenda
    page = editor.get(url("survey_edit", workshop)).content.decode()
    assert "What could be improved?" in page
    assert len(questions(workshop)) == 4


def test_only_the_facilitators_edit_the_survey(workshop, contact_person, outsider, participant):
    services.survey_ensure(workshop=workshop)
    question = questions(workshop)[0]
    contact = Client()
    contact.force_login(contact_person)
    stranger = Client()
    stranger.force_login(outsider)
    guest = guest_client(participant.participant)
    targets = [
        ("get", url("survey_edit", workshop), {}),
        ("post", url("survey_edit", workshop), {"intro": "x", "open_days_after": "3"}),
        ("post", url("survey_question_add", workshop), {"new-text": "Uusi", "new-kind": "text"}),
        (
            "post",
            url("survey_question_edit", workshop, question.pk),
            {f"q{question.pk}-text": "X", f"q{question.pk}-kind": "text"},
        ),
        ("post", url("survey_question_move", workshop, question.pk), {"direction": "down"}),
        ("post", url("survey_question_delete", workshop, question.pk), {"confirm": "yes"}),
    ]
    for method, target, data in targets:
        assert getattr(contact, method)(target, data).status_code == 403, target
        assert getattr(stranger, method)(target, data).status_code == 404, target
        anonymous = getattr(Client(), method)(target, data)
        assert anonymous.status_code == 302 and reverse("account_login") in anonymous["Location"], target
        assert getattr(guest, method)(target, data).status_code == 302, target
    assert next((q.text, q.kind) for q in questions(workshop)) == (question.text, question.kind)
    assert len(questions(workshop)) == 4
    assert Survey.objects.get(pk=workshop.pk).intro == ""


def test_a_question_from_another_workshop_is_404(workshop, editor, organisation):
    elsewhere = WorkshopFactory(organisation=organisation)
    services.survey_ensure(workshop=elsewhere)
    foreign = questions(elsewhere)[0]
    data = {f"q{foreign.pk}-text": "Kaapattu", f"q{foreign.pk}-kind": "text"}
    assert editor.post(url("survey_question_edit", workshop, foreign.pk), data).status_code == 404
    assert editor.post(url("survey_question_delete", workshop, foreign.pk), {"confirm": "yes"}).status_code == 404
    assert editor.post(url("survey_question_move", workshop, foreign.pk), {"direction": "up"}).status_code == 404
    assert questions(elsewhere)[0].text == foreign.text


def test_adding_editing_and_moving_questions(workshop, editor):
    response = editor.post(
        url("survey_question_add", workshop),
        {"new-text": "  Mikä  jäi mieleen? ", "new-kind": "text", "new-required": "on"},
    )
    assert response.status_code == 302
    added = questions(workshop)[-1]
    assert (added.text, added.kind, added.required, added.position) == ("Mikä jäi mieleen?", "text", True, 5)
    assert response["Location"].endswith(f"#question-{added.pk}")

    prefix = f"q{added.pk}"
    response = editor.post(
        url("survey_question_edit", workshop, added.pk),
        {f"{prefix}-text": "Arvosana fasilitoinnille", f"{prefix}-kind": "rating"},
    )
    assert response.status_code == 302
    added.refresh_from_db()
    assert (added.text, added.kind, added.required) == ("Arvosana fasilitoinnille", "rating", False)

    editor.post(url("survey_question_move", workshop, added.pk), {"direction": "up"})
    assert [q.pk for q in questions(workshop)].index(added.pk) == 3
    first = questions(workshop)[0]
    editor.post(url("survey_question_move", workshop, first.pk), {"direction": "up"})  # already first
    assert questions(workshop)[0].pk == first.pk
    assert [q.position for q in questions(workshop)] == [1, 2, 3, 4, 5]
    response = editor.post(url("survey_question_move", workshop, first.pk), {"direction": "sideways"}, follow=True)
    assert "Choose whether to move the question up or down." in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new-text": '=HYPERLINK("http://evil")', "new-kind": "text"}, "Starts like a spreadsheet formula"),
        ({"new-text": "@SUM(A1)", "new-kind": "text"}, "Starts like a spreadsheet formula"),
        ({"new-text": "", "new-kind": "text"}, "Write the question."),
        ({"new-text": "q" * 301, "new-kind": "text"}, "the limit is 300"),
        ({"new-text": "Hyvä kysymys", "new-kind": "essay"}, "Choose the kind of question."),
    ],
)
def test_a_bad_question_is_refused_with_the_text_kept(workshop, editor, data, message):
    services.survey_ensure(workshop=workshop)
    response = editor.post(url("survey_question_add", workshop), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    if data["new-text"]:
        assert escape(data["new-text"]) in page  # the typed text is kept
    assert len(questions(workshop)) == 4


def test_the_service_refuses_formulas_too(workshop):
    services.survey_ensure(workshop=workshop)
    with pytest.raises(services.LiveError):
        services.question_add(workshop=workshop, text="+358 40 123", kind="text")
    question = questions(workshop)[0]
    with pytest.raises(services.LiveError):
        services.question_update(question=question, text="-1", kind="text", required=False)


def test_editing_a_question_with_a_bad_text_shows_it_in_place(workshop, editor):
    english_workshop(workshop)
    services.survey_ensure(workshop=workshop)
    question = questions(workshop)[1]
    prefix = f"q{question.pk}"
    response = editor.post(
        url("survey_question_edit", workshop, question.pk), {f"{prefix}-text": "=1+1", f"{prefix}-kind": "text"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Starts like a spreadsheet formula" in page and 'value="=1+1"' in page
    question.refresh_from_db()
    assert question.text == "What worked?"


def test_a_question_with_answers_keeps_its_kind_and_its_answers_keep_their_text(closed_workshop, facilitator):
    editor = english(Client())
    editor.force_login(facilitator)
    person = ParticipantFactory(workshop=closed_workshop)
    kinds = by_kind(closed_workshop)
    services.feedback_submit(
        viewer=viewer_of(closed_workshop, participant=person),
        answers={kinds["rating"].pk: 5, kinds["text"].pk: "Toimi hyvin"},
        language="fi",
    )
    text_question = kinds["text"]
    prefix = f"q{text_question.pk}"
    response = editor.post(
        url("survey_question_edit", closed_workshop, text_question.pk),
        {f"{prefix}-text": "Mikä toimi?", f"{prefix}-kind": "rating"},
    )
    assert response.status_code == 400
    assert "its kind cannot change" in response.content.decode()
    editor.post(
        url("survey_question_edit", closed_workshop, text_question.pk),
        {f"{prefix}-text": "Mikä toimi?", f"{prefix}-kind": "text"},
    )
    text_question.refresh_from_db()
    assert text_question.text == "Mikä toimi?"
    assert FeedbackAnswer.objects.get(text="Toimi hyvin").question_text == "What worked?"

    # Removing it asks first, then keeps the answer and its text.
    ask = editor.post(url("survey_question_delete", closed_workshop, text_question.pk))
    assert ask.status_code == 200 and "It has 1 answer." in ask.content.decode()
    assert SurveyQuestion.objects.filter(pk=text_question.pk).exists()
    assert editor.get(url("survey_question_delete", closed_workshop, text_question.pk)).status_code == 200
    done = editor.post(url("survey_question_delete", closed_workshop, text_question.pk), {"confirm": "yes"})
    assert done.status_code == 302
    assert not SurveyQuestion.objects.filter(pk=text_question.pk).exists()
    kept = FeedbackAnswer.objects.get(text="Toimi hyvin")
    assert kept.question_id is None and kept.question_text == "What worked?"
    assert [q.position for q in questions(closed_workshop)] == [1, 2, 3]


def test_a_question_without_answers_is_removed_at_once(workshop, editor):
    services.survey_ensure(workshop=workshop)
    last = questions(workshop)[-1]
    assert editor.post(url("survey_question_delete", workshop, last.pk)).status_code == 302
    assert len(questions(workshop)) == 3


def test_the_introduction_and_the_days_are_saved_and_checked(workshop, editor):
    services.survey_ensure(workshop=workshop)
    response = editor.post(url("survey_edit", workshop), {"intro": "Kiitos osallistumisesta!", "open_days_after": "7"})
    assert response.status_code == 302
    survey = Survey.objects.get(pk=workshop.pk)
    assert (survey.intro, survey.open_days_after) == ("Kiitos osallistumisesta!", 7)
    for days, message in [
        ("-1", "from 0 to 365"),
        ("400", "at most 365 days"),
        ("viikko", "whole number"),
        ("", "from 0 to 365"),
    ]:
        response = editor.post(url("survey_edit", workshop), {"intro": "Uusi johdanto", "open_days_after": days})
        assert response.status_code == 400, days
        page = response.content.decode()
        assert message in page and "Uusi johdanto" in page
    survey.refresh_from_db()
    assert (survey.intro, survey.open_days_after) == ("Kiitos osallistumisesta!", 7)
    with pytest.raises(services.LiveError):
        services.survey_update(workshop=workshop, intro="", open_days_after=366)


def test_the_survey_has_at_most_twenty_questions(workshop, editor):
    services.survey_ensure(workshop=workshop)
    for number in range(16):
        services.question_add(workshop=workshop, text=f"Kysymys {number}", kind="yes_no")
    response = editor.post(url("survey_question_add", workshop), {"new-text": "Liikaa", "new-kind": "text"})
    assert response.status_code == 400 and "at most 20 questions" in response.content.decode()
    assert len(questions(workshop)) == 20
