"""The workbook's Feedback sheet (Palaute): one row per anonymous response, a column per question.

A row is the day, the language and the answers; nothing names the person.
Rows go by day and then in a random order (response ids are random), not in
the order the answers were given. Every text goes through ``workbook.cell``,
so an answer such as "=HYPERLINK(...)" stays text.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from facilitation.models import FeedbackAnswer, FeedbackResponse, Survey, SurveyQuestion
from reports.workbook import HEADER, WRAPPED, _prepare, cell

CHUNK = 500


def _columns(workshop) -> list[tuple[str, str, str]]:
    """(key, header, kind) per question: the survey's questions in order, then texts of removed ones."""
    columns = [
        (f"q{question.pk}", question.text, question.kind)
        for question in SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id")
    ]
    removed = (
        FeedbackAnswer.objects.filter(response__workshop=workshop, question__isnull=True)
        .values_list("question_text", flat=True)
        .distinct()
        .order_by("question_text")
    )
    columns += [(f"t{text}", text, "") for text in removed]
    return columns


def _value(answer: FeedbackAnswer, choices: dict):
    if answer.rating is not None:
        return answer.rating
    if answer.choice:
        return choices.get(answer.choice, answer.choice)
    return answer.text


def write_feedback_sheet(workbook, title: str, workshop) -> int:
    """Write the sheet if the workshop has a feedback survey; returns the response rows written."""
    responses = FeedbackResponse.objects.filter(workshop=workshop)
    if not Survey.objects.filter(pk=workshop.pk).exists() and not responses.exists():
        return 0
    columns = _columns(workshop)
    sheet = workbook.create_sheet(title)
    _prepare(sheet, [12, 12, *(40 if kind in ("text", "") else 18 for _key, _header, kind in columns)])
    headers = [_("Date"), _("Language"), *(header for _key, header, _kind in columns)]
    sheet.append([cell(sheet, str(header), HEADER) for header in headers])
    languages = {code: str(name) for code, name in settings.LANGUAGES}
    choices = {value: str(label) for value, label in FeedbackAnswer.YesNo.choices}
    written = 0
    rows = responses.order_by("submitted_on", "id").prefetch_related("answers").iterator(chunk_size=CHUNK)
    for response in rows:
        by_key = {}
        for answer in response.answers.all():
            key = f"q{answer.question_id}" if answer.question_id else f"t{answer.question_text}"
            by_key[key] = answer
        line = [cell(sheet, response.submitted_on), cell(sheet, languages.get(response.language, response.language))]
        for key, _header, _kind in columns:
            answer = by_key.get(key)
            value = _value(answer, choices) if answer is not None else None
            line.append(cell(sheet, value, WRAPPED if isinstance(value, str) else None))
        sheet.append(line)
        written += 1
    if written:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{written + 1}"
    else:
        sheet.append([])
        sheet.append([cell(sheet, _("Nobody has answered the feedback survey yet."), WRAPPED)])
    return written
