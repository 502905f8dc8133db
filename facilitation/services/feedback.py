"""Writes of the feedback survey: the facilitator's editing, and the participants' anonymous answers.

An answer is stored as a ``FeedbackResponse`` with ``FeedbackAnswer`` rows
that name nobody and keep only the day; a ``FeedbackReceipt`` in the same
transaction records only that this person has answered, so nobody answers
twice. Nothing that could tie the two together is logged or broadcast: the
facilitators' screens get the number of responses, nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from facilitation import realtime
from facilitation.models import (
    FEEDBACK_TEXT_MAX_LENGTH,
    FeedbackAnswer,
    FeedbackReceipt,
    FeedbackResponse,
    Survey,
    SurveyQuestion,
)
from facilitation.permissions import LiveViewer
from facilitation.selectors_feedback import can_answer, receipt_filter, survey_questions, survey_window
from facilitation.services.common import LiveError
from workshops.importing import looks_like_formula
from workshops.models import Workshop

__all__ = [
    "FEEDBACK_STAT",
    "FeedbackAlreadyGiven",
    "feedback_submit",
    "question_add",
    "question_delete",
    "question_move",
    "question_update",
    "survey_ensure",
    "survey_update",
]

Kind = SurveyQuestion.Kind
QUESTION_MAX_LENGTH = SurveyQuestion._meta.get_field("text").max_length
INTRO_MAX_LENGTH = 2000
OPEN_DAYS_MAX = 365
MAX_QUESTIONS = 20
FEEDBACK_STAT = "feedback_responses"  # the facilitators' counter: <... data-stat="feedback_responses">

# Marked for translation here, translated into the workshop's language when the survey is made.
DEFAULT_QUESTIONS = (
    (Kind.RATING, gettext_noop("Overall, how would you rate the workshop?"), True),
    (Kind.TEXT, gettext_noop("What worked?"), False),
    (Kind.TEXT, gettext_noop("What could be improved?"), False),
    (Kind.YES_NO, gettext_noop("Would you use this method again?"), False),
)


class FeedbackAlreadyGiven(LiveError):
    """The person has answered this survey already; nothing more is stored."""


# --- the facilitator's survey --------------------------------------------------------------
def survey_ensure(*, workshop: Workshop) -> Survey:
    """The workshop's survey; the first call makes it with the default questions in the workshop's language."""
    survey = Survey.objects.filter(pk=workshop.pk).first()
    if survey is not None:
        return survey
    language = workshop.language if workshop.language in dict(settings.LANGUAGES) else "fi"
    try:
        with transaction.atomic():
            survey = Survey.objects.create(workshop=workshop)
            with translation.override(language):
                SurveyQuestion.objects.bulk_create(
                    SurveyQuestion(workshop=workshop, position=position, kind=kind, text=_(text), required=required)
                    for position, (kind, text, required) in enumerate(DEFAULT_QUESTIONS, start=1)
                )
    except IntegrityError:
        # Hundreds of screens open the feedback phase at once; the first one made the survey.
        return Survey.objects.get(pk=workshop.pk)
    return survey


@transaction.atomic
def survey_update(*, workshop: Workshop, intro: str, open_days_after: int) -> Survey:
    """Change the survey's introduction and how many days it stays open after the workshop."""
    survey = survey_ensure(workshop=workshop)
    intro = (intro or "").replace("\r\n", "\n").strip()
    if len(intro) > INTRO_MAX_LENGTH:
        raise LiveError(
            _("The introduction is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(intro), "limit": INTRO_MAX_LENGTH}
        )
    if not isinstance(open_days_after, int) or not 0 <= open_days_after <= OPEN_DAYS_MAX:
        raise LiveError(_("Give the number of days as a whole number from 0 to 365."))
    survey.intro = intro
    survey.open_days_after = open_days_after
    survey.save(update_fields=["intro", "open_days_after"])
    return survey


def _question_text(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise LiveError(_("Write the question."))
    if len(text) > QUESTION_MAX_LENGTH:
        raise LiveError(
            _("The question is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(text), "limit": QUESTION_MAX_LENGTH}
        )
    if looks_like_formula(text):
        raise LiveError(_("Starts like a spreadsheet formula (=, +, -, @); remove that character."))
    return text


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise LiveError(_("Choose the kind of question."))
    return kind


@transaction.atomic
def question_add(*, workshop: Workshop, text: str, kind: str, required: bool = False) -> SurveyQuestion:
    """Add a question at the end of the survey."""
    survey_ensure(workshop=workshop)
    text, kind = _question_text(text), _kind(kind)
    questions = SurveyQuestion.objects.select_for_update().filter(workshop=workshop)
    count = questions.count()
    if count >= MAX_QUESTIONS:
        raise LiveError(_("A survey has at most %(max)d questions.") % {"max": MAX_QUESTIONS})
    last = questions.aggregate(last=Max("position"))["last"] or 0
    return SurveyQuestion.objects.create(
        workshop=workshop, position=last + 1, kind=kind, text=text, required=bool(required)
    )


@transaction.atomic
def question_update(*, question: SurveyQuestion, text: str, kind: str, required: bool) -> SurveyQuestion:
    """Change a question. Answers given so far keep the text they answered; their kind cannot change."""
    text, kind = _question_text(text), _kind(kind)
    if kind != question.kind and question.answers.exists():
        raise LiveError(_("This question already has answers, so its kind cannot change. Add a new question instead."))
    question.text, question.kind, question.required = text, kind, bool(required)
    question.save(update_fields=["text", "kind", "required"])
    return question


def _renumber(questions: list[SurveyQuestion]) -> None:
    for position, question in enumerate(questions, start=1):
        question.position = position
    SurveyQuestion.objects.bulk_update(questions, ["position"])


def _locked_questions(workshop_id: int) -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.select_for_update().filter(workshop_id=workshop_id).order_by("position", "id"))


@transaction.atomic
def question_move(*, question: SurveyQuestion, offset: int) -> SurveyQuestion:
    """Move a question one step up (-1) or down (+1); the first up and the last down change nothing."""
    if offset not in (-1, 1):
        raise LiveError(_("Choose whether to move the question up or down."))
    questions = _locked_questions(question.workshop_id)
    index = next((i for i, q in enumerate(questions) if q.pk == question.pk), None)
    if index is None:
        raise LiveError(_("The question is no longer there."))
    target = index + offset
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    _renumber(questions)
    question.position = next(q.position for q in questions if q.pk == question.pk)
    return question


@transaction.atomic
def question_delete(*, question: SurveyQuestion) -> int:
    """Remove a question; its answers stay with the text they answered. Returns how many answers it had."""
    kept = question.answers.count()
    workshop_id = question.workshop_id
    question.delete()
    _renumber(_locked_questions(workshop_id))
    return kept


# --- answering -------------------------------------------------------------------------------
def _clean_text(value) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _clean_answer(question: SurveyQuestion, value) -> dict | None:
    """The answer's stored fields, None when left empty; LiveError when it is not a possible answer."""
    if question.kind == Kind.RATING:
        if value in (None, ""):
            return None
        try:
            rating = int(value)
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            raise LiveError(_("“%(question)s”: choose a number from 1 to 5.") % {"question": question.text})
        return {"rating": rating}
    if question.kind == Kind.YES_NO:
        if value in (None, ""):
            return None
        if value not in FeedbackAnswer.YesNo.values:
            raise LiveError(_("“%(question)s”: choose yes, no or not sure.") % {"question": question.text})
        return {"choice": value}
    text = _clean_text(value)
    if not text:
        return None
    if len(text) > FEEDBACK_TEXT_MAX_LENGTH:
        raise LiveError(
            _("“%(question)s”: the answer is %(length)d characters long; the limit is %(limit)d.")
            % {"question": question.text, "length": len(text), "limit": FEEDBACK_TEXT_MAX_LENGTH}
        )
    return {"text": text}


def _answers_for(questions: list[SurveyQuestion], answers: dict) -> list[tuple[SurveyQuestion, dict]]:
    cleaned = []
    for question in questions:
        value = answers.get(question.pk, answers.get(str(question.pk)))
        fields = _clean_answer(question, value)
        if fields is None:
            if question.required:
                raise LiveError(_("“%(question)s” needs an answer.") % {"question": question.text})
            continue
        cleaned.append((question, fields))
    if not cleaned:
        raise LiveError(_("Answer at least one question."))
    return cleaned


def _response_count_push(workshop_id: int) -> None:
    """After commit, the facilitators' counter of responses (not recorded, nothing but the number)."""

    def push() -> None:
        count = FeedbackResponse.objects.filter(workshop_id=workshop_id).count()
        realtime.publish_ephemeral(
            workshop_id=workshop_id, kind="stats", payload={FEEDBACK_STAT: count}, staff_only=True
        )

    transaction.on_commit(push)


@transaction.atomic
def feedback_submit(*, viewer: LiveViewer, answers: dict, language: str) -> FeedbackResponse:
    """Store one anonymous response and the viewer's receipt together, once per person.

    ``answers`` maps a question's id to the answer (a rating, "yes"/"no"/"unsure", or text).
    The response names nobody and keeps only the day. Pushes the new number of
    responses to the facilitators after commit. Raises ``FeedbackAlreadyGiven``
    for a second answer and ``LiveError`` for anything else that is refused;
    either way nothing is stored.
    """
    workshop = viewer.workshop
    if not can_answer(viewer):
        raise LiveError(_("Facilitators do not answer the feedback survey; the participants do."))
    survey = survey_ensure(workshop=workshop)
    is_open, _closes_on = survey_window(workshop, survey)
    if not is_open:
        raise LiveError(_("The feedback survey is not open right now."))
    cleaned = _answers_for(survey_questions(workshop), answers or {})
    who = receipt_filter(viewer)
    already = _("You have already given your feedback. Thank you!")
    if FeedbackReceipt.objects.filter(workshop=workshop, **who).exists():
        raise FeedbackAlreadyGiven(already)
    try:
        with transaction.atomic():
            FeedbackReceipt.objects.create(workshop=workshop, **who)
    except IntegrityError:
        # The same person's second tab got there first.
        raise FeedbackAlreadyGiven(already) from None
    response = FeedbackResponse.objects.create(
        workshop=workshop,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        submitted_on=timezone.localdate(),
    )
    FeedbackAnswer.objects.bulk_create(
        FeedbackAnswer(response=response, question=question, question_text=question.text, **fields)
        for question, fields in cleaned
    )
    _response_count_push(workshop.pk)
    return response
