"""Reads for the feedback survey: what a viewer may answer, and whether the survey is open.

The survey is open during the workshop while its feedback phase is on screen,
and afterwards, through the participant's own link, for ``open_days_after``
days counted from the day the workshop closed. The close time is the latest
``WorkshopStatusChange`` to "closed" (every close through the platform
records one); a workshop closed without such a record falls back on its
planned end (``starts_at`` + duration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from facilitation.models import FeedbackReceipt, FeedbackResponse, LiveState, Phase, Survey, SurveyQuestion
from facilitation.permissions import LiveViewer
from workshops.models import Workshop, WorkshopStatusChange

AFTER_STATUSES = frozenset({Workshop.Status.CLOSED, Workshop.Status.ARCHIVED})


@dataclass
class SurveyView:
    """The survey as one viewer sees it: the questions, and whether they may (still) answer."""

    survey: Survey
    questions: list[SurveyQuestion]
    already_answered: bool
    open: bool
    closes_on: date | None  # the last day to answer after the workshop; None while it runs or when not known
    can_answer: bool = True  # False for a facilitator without a participant row: they run the survey
    live: bool = False  # the workshop is running now (the feedback phase)
    response_count: int | None = None  # facilitators only
    form: object | None = None  # forms_feedback.FeedbackForm, bound when an answer was refused
    errors: list[str] = field(default_factory=list)

    @property
    def shows_form(self) -> bool:
        return self.open and self.can_answer and not self.already_answered and bool(self.questions)


def workshop_closed_at(workshop: Workshop) -> datetime | None:
    """When the workshop closed: its latest move to "closed", or its planned end when none was recorded."""
    closed = (
        WorkshopStatusChange.objects.filter(workshop=workshop, to_status=Workshop.Status.CLOSED)
        .order_by("-changed_at", "-id")
        .values_list("changed_at", flat=True)
        .first()
    )
    return closed or workshop.ends_at


def survey_window(workshop: Workshop, survey: Survey) -> tuple[bool, date | None]:
    """Whether answers are taken now, and the last day they are taken after the workshop (one query)."""
    if workshop.status == Workshop.Status.LIVE:
        kind = LiveState.objects.filter(pk=workshop.pk).values_list("current_phase__kind", flat=True).first()
        return kind == Phase.Kind.FEEDBACK, None
    if workshop.status not in AFTER_STATUSES:
        return False, None
    ended = workshop_closed_at(workshop)
    if ended is None:
        return False, None
    closes_on = timezone.localdate(ended) + timedelta(days=survey.open_days_after)
    return timezone.localdate() <= closes_on, closes_on


def survey_available(workshop: Workshop) -> bool:
    """The workshop has a survey, or a feedback phase on its agenda that will make one."""
    return Survey.objects.filter(pk=workshop.pk).exists() or workshop.phases.filter(kind=Phase.Kind.FEEDBACK).exists()


def can_answer(viewer: LiveViewer) -> bool:
    """Participants and the organisation's people answer; a facilitator without a participant row does not."""
    if viewer.participant is not None:
        return True
    return viewer.user is not None and not viewer.is_facilitator


def receipt_filter(viewer: LiveViewer) -> dict:
    """Who the receipt is for: the participant row, or the signed-in account without one."""
    if viewer.participant is not None:
        return {"participant": viewer.participant}
    return {"user": viewer.user}


def survey_questions(workshop: Workshop) -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.filter(workshop=workshop).order_by("position", "id"))


def survey_view(viewer: LiveViewer) -> SurveyView:
    """The survey as this viewer answers it, or whether they already have: four queries at most.

    The first look at a workshop's survey creates it with the default questions.
    """
    workshop = viewer.workshop
    survey = Survey.objects.filter(pk=workshop.pk).first()
    if survey is None:
        from facilitation.services.feedback import survey_ensure

        survey = survey_ensure(workshop=workshop)
    is_open, closes_on = survey_window(workshop, survey)
    answers = can_answer(viewer)
    answered = answers and FeedbackReceipt.objects.filter(workshop=workshop, **receipt_filter(viewer)).exists()
    view = SurveyView(
        survey=survey,
        questions=survey_questions(workshop),
        already_answered=answered,
        open=is_open,
        closes_on=closes_on,
        can_answer=answers,
        live=workshop.status == Workshop.Status.LIVE,
    )
    if viewer.is_staff:
        view.response_count = FeedbackResponse.objects.filter(workshop=workshop).count()
    if view.shows_form:
        from facilitation.forms_feedback import FeedbackForm

        view.form = FeedbackForm(questions=view.questions)
    return view


def lobby_feedback(request, access) -> SurveyView | None:
    """The survey block of the lobby (``workshops.views.lobby``): None when the workshop has no survey."""
    if access.workshop.status not in AFTER_STATUSES or not survey_available(access.workshop):
        return None
    viewer = LiveViewer(
        workshop=access.workshop,
        participant=access.participant,
        user=request.user if request.user.is_authenticated else None,
        is_facilitator=access.is_facilitator,
        is_contact_person=access.is_contact_person,
    )
    return survey_view(viewer)
