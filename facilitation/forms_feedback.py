"""Forms of the feedback survey: answering it, and the facilitator's editor. The services check again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from facilitation.models import FEEDBACK_TEXT_MAX_LENGTH, FeedbackAnswer, SurveyQuestion
from facilitation.services.feedback import INTRO_MAX_LENGTH, OPEN_DAYS_MAX, QUESTION_MAX_LENGTH
from workshops.forms import FormulaSafeMixin

RATINGS = [(str(number), str(number)) for number in range(1, 6)]
REQUIRED = _("This question needs an answer.")


class FeedbackTextField(forms.CharField):
    """An open answer: line breaks counted once, as the browser's counter counts them."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


def _field_for(question: SurveyQuestion) -> forms.Field:
    common = {"label": question.text, "required": question.required}
    if question.kind == SurveyQuestion.Kind.RATING:
        return forms.TypedChoiceField(
            choices=RATINGS,
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            help_text=_("1 = poor, 5 = excellent."),
            error_messages={"required": REQUIRED, "invalid_choice": _("Choose a number from 1 to 5.")},
            **common,
        )
    if question.kind == SurveyQuestion.Kind.YES_NO:
        return forms.ChoiceField(
            choices=FeedbackAnswer.YesNo.choices,
            widget=forms.RadioSelect,
            error_messages={"required": REQUIRED, "invalid_choice": _("Choose yes, no or not sure.")},
            **common,
        )
    return FeedbackTextField(
        max_length=FEEDBACK_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("At most %(limit)d characters.") % {"limit": FEEDBACK_TEXT_MAX_LENGTH},
        error_messages={
            "required": REQUIRED,
            "max_length": _("The answer is %(show_value)d characters long; the limit is %(limit_value)d."),
        },
        **common,
    )


class FeedbackForm(forms.Form):
    """One field per question, named ``q<id>``; ``answers()`` gives what ``feedback_submit`` takes."""

    def __init__(self, *args, questions: list[SurveyQuestion], **kwargs):
        kwargs.setdefault("auto_id", "feedback-%s")
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"q{question.pk}"] = _field_for(question)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(value not in (None, "") for value in cleaned.values()):
            raise forms.ValidationError(_("Answer at least one question."))
        return cleaned

    def answers(self) -> dict[int, object]:
        return {question.pk: self.cleaned_data.get(f"q{question.pk}") for question in self.questions}

    def items(self) -> list[tuple[SurveyQuestion, forms.BoundField]]:
        """Each question with its bound field, for the template."""
        return [(question, self[f"q{question.pk}"]) for question in self.questions]


class SurveySettingsForm(forms.Form):
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=INTRO_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown above the questions. The page always tells that the answers are anonymous."),
    )
    open_days_after = forms.IntegerField(
        label=_("Open for days after the workshop"),
        min_value=0,
        max_value=OPEN_DAYS_MAX,
        help_text=_(
            "Participants can still answer through their own link for this many days after the workshop closed. "
            "0 means until the end of the day it closed."
        ),
        error_messages={
            "required": _("Give the number of days, from 0 to 365."),
            "invalid": _("Give the number of days as a whole number."),
            "min_value": _("Give the number of days, from 0 to 365."),
            "max_value": _("The survey can stay open for at most %(limit_value)s days."),
        },
    )


class QuestionForm(FormulaSafeMixin, forms.Form):
    """One question of the survey; its text goes to the export's header row, so no formulas."""

    text = forms.CharField(
        label=_("Question"),
        max_length=QUESTION_MAX_LENGTH,
        error_messages={
            "required": _("Write the question."),
            "max_length": _("The question is %(show_value)d characters long; the limit is %(limit_value)d."),
        },
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SurveyQuestion.Kind.choices,
        error_messages={"invalid_choice": _("Choose the kind of question.")},
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    formula_exempt = ("kind",)

    def clean_text(self) -> str:
        return " ".join(self.cleaned_data["text"].split())
