"""The feedback survey: participants answer it (live and afterwards), facilitators edit it.

Answers arrive as a plain form POST: the response is stored without any link
to the person, and the page says thanks. Nothing here logs or shows who
answered what.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from facilitation import selectors_feedback, services
from facilitation.forms_feedback import FeedbackForm, QuestionForm, SurveySettingsForm
from facilitation.models import FeedbackResponse, SurveyQuestion
from facilitation.permissions import LiveViewer, live_viewer
from facilitation.services import LiveError
from facilitation.services.feedback import MAX_QUESTIONS
from facilitation.views import wants_json
from workshops.models import Workshop
from workshops.permissions import workshop_for_facilitator

MOVES = {"up": -1, "down": 1}


# --- answering -------------------------------------------------------------------------------
def _feedback_page(request, viewer: LiveViewer, sv, status: int = 200):
    context = {"viewer": viewer, "workshop": viewer.workshop, "sv": sv}
    return render(request, "facilitation/feedback.html", context, status=status)


def _refused(request, viewer: LiveViewer, sv, message: str, status: int, form: FeedbackForm | None = None):
    """A refused answer: JSON for a script; otherwise the page again, the message on top and the text kept."""
    if wants_json(request):
        errors = {name: [str(e) for e in errs] for name, errs in (form.errors.items() if form else [])}
        return JsonResponse({"error": message, "errors": errors}, status=status)
    sv.errors = [message]
    if form is not None and sv.shows_form:
        sv.form = form
    return _feedback_page(request, viewer, sv, status=status)


@never_cache
def feedback(request, workshop_id: int):
    """GET: the survey, or thanks when already answered. POST: answer it once, anonymously."""
    viewer = live_viewer(request, workshop_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not selectors_feedback.survey_available(viewer.workshop):
        raise Http404
    sv = selectors_feedback.survey_view(viewer)
    if request.method == "GET":
        return _feedback_page(request, viewer, sv)
    if sv.already_answered:
        return _refused(request, viewer, sv, _("You have already given your feedback. Thank you!"), 409)
    form = FeedbackForm(request.POST, questions=sv.questions)
    if not form.is_valid():
        return _refused(request, viewer, sv, _("Please check the answers marked below."), 400, form)
    try:
        services.feedback_submit(
            viewer=viewer, answers=form.answers(), language=getattr(request, "LANGUAGE_CODE", "fi")
        )
    except services.FeedbackAlreadyGiven as error:
        sv.already_answered = True
        return _refused(request, viewer, sv, str(error), 409)
    except LiveError as error:
        return _refused(request, viewer, sv, str(error), 400, form)
    thanks = _("Thank you, your feedback was saved.")
    if wants_json(request):
        return JsonResponse({"ok": True, "message": thanks}, status=201)
    # The page we go back to says thank you itself; a flash message would say it twice.
    if viewer.workshop.status == Workshop.Status.LIVE:
        return redirect("facilitation:live", workshop_id=workshop_id)
    return redirect("facilitation:feedback", workshop_id=workshop_id)


# --- the facilitator's editor ------------------------------------------------------------------
def _question_of(workshop: Workshop, question_id: int) -> SurveyQuestion:
    return get_object_or_404(SurveyQuestion, pk=question_id, workshop=workshop)


def _to_editor(workshop: Workshop, question: SurveyQuestion | None = None):
    response = redirect("facilitation:survey_edit", workshop_id=workshop.pk)
    if question is not None:
        response["Location"] += f"#question-{question.pk}"
    return response


def _editor(
    request,
    workshop: Workshop,
    *,
    settings_form=None,
    bound: QuestionForm | None = None,
    bound_id=None,
    add_form: QuestionForm | None = None,
    status: int = 200,
):
    """The editor page; a form that was refused is shown in its place with its errors and the typed text."""
    survey = services.survey_ensure(workshop=workshop)
    questions = list(
        SurveyQuestion.objects.filter(workshop=workshop)
        .annotate(answer_count=Count("answers"))
        .order_by("position", "id")
    )
    for question in questions:
        if bound is not None and question.pk == bound_id:
            question.form = bound
        else:
            question.form = QuestionForm(
                prefix=f"q{question.pk}",
                initial={"text": question.text, "kind": question.kind, "required": question.required},
            )
    is_open, closes_on = selectors_feedback.survey_window(workshop, survey)
    context = {
        "workshop": workshop,
        "survey": survey,
        "questions": questions,
        "settings_form": settings_form
        or SurveySettingsForm(initial={"intro": survey.intro, "open_days_after": survey.open_days_after}),
        "add_form": add_form or QuestionForm(prefix="new", initial={"kind": SurveyQuestion.Kind.TEXT}),
        "response_count": FeedbackResponse.objects.filter(workshop=workshop).count(),
        "survey_open": is_open,
        "closes_on": closes_on,
        "max_questions": MAX_QUESTIONS,
    }
    return render(request, "facilitation/survey_edit.html", context, status=status)


@never_cache
@login_required
def survey_edit(request, workshop_id: int):
    """The survey editor; POST saves the introduction and how long it stays open after the workshop."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET":
        return _editor(request, workshop)
    form = SurveySettingsForm(request.POST)
    if form.is_valid():
        try:
            services.survey_update(workshop=workshop, **form.cleaned_data)
        except LiveError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Changes saved."))
            return _to_editor(workshop)
    return _editor(request, workshop, settings_form=form, status=400)


@login_required
@require_POST
def survey_question_add(request, workshop_id: int):
    """Add a question at the end."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    form = QuestionForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            question = services.question_add(workshop=workshop, **form.cleaned_data)
        except LiveError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The question was added."))
            return _to_editor(workshop, question)
    return _editor(request, workshop, add_form=form, status=400)


@login_required
@require_POST
def survey_question_edit(request, workshop_id: int, question_id: int):
    """Save a question's text, kind and whether it must be answered."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    question = _question_of(workshop, question_id)
    form = QuestionForm(request.POST, prefix=f"q{question.pk}")
    if form.is_valid():
        try:
            services.question_update(question=question, **form.cleaned_data)
        except LiveError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Changes saved."))
            return _to_editor(workshop, question)
    return _editor(request, workshop, bound=form, bound_id=question.pk, status=400)


@login_required
@require_POST
def survey_question_move(request, workshop_id: int, question_id: int):
    """Move a question one step up or down (``direction``)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    question = _question_of(workshop, question_id)
    offset = MOVES.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, _("Choose whether to move the question up or down."))
        return _to_editor(workshop, question)
    try:
        question = services.question_move(question=question, offset=offset)
    except LiveError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("“%(text)s” is now number %(position)d.") % {"text": question.text, "position": question.position},
        )
    return _to_editor(workshop, question)


@login_required
def survey_question_delete(request, workshop_id: int, question_id: int):
    """POST removes a question; one that has answers asks first (GET, or a POST without ``confirm``)."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    question = _question_of(workshop, question_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    answers = question.answers.count()
    if request.method == "GET" or (answers and request.POST.get("confirm") != "yes"):
        context = {"workshop": workshop, "question": question, "answer_count": answers}
        return render(request, "facilitation/survey_question_delete.html", context)
    services.question_delete(question=question)
    messages.success(request, _("The question “%(text)s” was removed.") % {"text": question.text})
    return _to_editor(workshop)
