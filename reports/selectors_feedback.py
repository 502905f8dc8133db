"""The report's feedback section: distributions of the ratings and yes/no answers, and the open answers.

Three queries however many responses there are. Nothing here carries a
person: a response has no link to whoever gave it. Open answers are listed by
day and then in a random order (their ids are random), never in the order
they were given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from facilitation.models import FeedbackAnswer, FeedbackResponse, SurveyQuestion

Kind = SurveyQuestion.Kind
YES_NO = FeedbackAnswer.YesNo


@dataclass
class QuestionResult:
    """One question's answers: a distribution (rating, yes/no) or a list of texts."""

    key: str
    text: str
    kind: str
    answered: int = 0
    counts: dict = field(default_factory=dict)  # rating 1-5 or yes/no choice -> answers
    texts: list[str] = field(default_factory=list)
    removed: bool = False  # the question was removed from the survey after it was answered
    chart: object | None = None  # reports.charts.BarChart

    @property
    def mean(self) -> float | None:
        if self.kind != Kind.RATING or not self.answered:
            return None
        return round(sum(rating * count for rating, count in self.counts.items()) / self.answered, 1)


@dataclass
class FeedbackReport:
    responses: int
    questions: list[QuestionResult]


def _kind_of(row: dict) -> str:
    if row["rating"] is not None:
        return Kind.RATING
    if row["choice"]:
        return Kind.YES_NO
    return Kind.TEXT


def feedback_results(workshop) -> tuple[int, list[QuestionResult]]:
    """The number of responses, and each question's answers: the survey's questions in order, then removed ones."""
    responses = FeedbackResponse.objects.filter(workshop=workshop).count()
    if not responses:
        return 0, []
    results: dict[str, QuestionResult] = {}
    for question in SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id"):
        results[f"q{question.pk}"] = QuestionResult(key=f"q{question.pk}", text=question.text, kind=question.kind)
    answers = (
        FeedbackAnswer.objects.filter(response__workshop=workshop)
        .order_by("response__submitted_on", "id")
        .values("question_id", "question_text", "rating", "choice", "text")
    )
    for row in answers:
        key = f"q{row['question_id']}" if row["question_id"] else f"t{_kind_of(row)}:{row['question_text']}"
        result = results.get(key)
        if result is None:
            result = results[key] = QuestionResult(key=key, text=row["question_text"], kind=_kind_of(row), removed=True)
        if result.kind == Kind.RATING and row["rating"] is not None:
            result.counts[row["rating"]] = result.counts.get(row["rating"], 0) + 1
        elif result.kind == Kind.YES_NO and row["choice"]:
            result.counts[row["choice"]] = result.counts.get(row["choice"], 0) + 1
        elif result.kind == Kind.TEXT and row["text"]:
            result.texts.append(row["text"])
        else:
            continue
        result.answered += 1
    return responses, list(results.values())


def feedback_report(workshop) -> FeedbackReport | None:
    """The survey's results with a chart per rating and yes/no question, or None when nobody has answered."""
    from reports.charts import bar_chart  # reports.charts imports reports.selectors, which imports this module
    from reports.selectors import Bar

    responses, questions = feedback_results(workshop)
    if not responses:
        return None
    for number, result in enumerate(questions, start=1):
        if result.kind == Kind.RATING:
            bars = [Bar(label=str(rating), value=result.counts.get(rating, 0)) for rating in range(1, 6)]
            heading = _("Rating")
        elif result.kind == Kind.YES_NO:
            bars = [Bar(label=str(label), value=result.counts.get(value, 0)) for value, label in YES_NO.choices]
            heading = _("Answer")
        else:
            continue
        result.chart = bar_chart(
            bars,
            chart_id=f"chart-feedback-{number}",
            title=result.text,
            label_heading=heading,
            value_heading=_("Answers"),
        )
    return FeedbackReport(responses=responses, questions=questions)
