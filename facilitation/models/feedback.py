"""The anonymous feedback survey.

A ``FeedbackResponse`` has no link to whoever answered: a random id, the day
(not the time) and the language. A separate ``FeedbackReceipt`` records only
that a person has answered, so nobody answers twice; it has no time and no
link to the response, so the two cannot be matched.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

FEEDBACK_TEXT_MAX_LENGTH = 2000


class Survey(models.Model):
    """A workshop's feedback survey: its introduction and how long it stays open after the workshop."""

    workshop = models.OneToOneField(
        "workshops.Workshop", primary_key=True, on_delete=models.CASCADE, related_name="survey"
    )
    intro = models.TextField(_("introduction"), blank=True)
    open_days_after = models.PositiveSmallIntegerField(
        _("open for days after the workshop"),
        default=14,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
        help_text=_("Participants can still answer through their own link for this many days after the workshop."),
    )

    class Meta:
        verbose_name = _("feedback survey")
        verbose_name_plural = _("feedback surveys")

    def __str__(self) -> str:
        return str(self.workshop_id)


class SurveyQuestion(models.Model):
    """One question of the feedback survey."""

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating from 1 to 5")
        TEXT = "text", _("Open answer")
        YES_NO = "yes_no", _("Yes / no / not sure")

    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="survey_questions")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.TEXT)
    text = models.CharField(_("question"), max_length=300)
    required = models.BooleanField(_("an answer is required"), default=False)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class FeedbackResponse(models.Model):
    """One anonymous set of answers: no participant, no user, no time of day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="feedback_responses")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    submitted_on = models.DateField()

    class Meta:
        verbose_name = _("feedback response")
        verbose_name_plural = _("feedback responses")

    def __str__(self) -> str:
        return str(self.pk)


class FeedbackAnswer(models.Model):
    """The answer to one question; the question's text is kept in case the survey is edited later."""

    class YesNo(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        NOT_SURE = "unsure", _("Not sure")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(FeedbackResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(
        SurveyQuestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    question_text = models.CharField(max_length=300)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    choice = models.CharField(max_length=8, choices=YesNo.choices, blank=True)
    text = models.TextField(max_length=FEEDBACK_TEXT_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_text[:30]}"


class FeedbackReceipt(models.Model):
    """Only that this person has answered the workshop's survey; no time, no link to the answers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "participant"], condition=Q(participant__isnull=False), name="feedback_once_guest"
            ),
            models.UniqueConstraint(
                fields=["workshop", "user"], condition=Q(user__isnull=False), name="feedback_once_user"
            ),
        ]

    def __str__(self) -> str:
        return str(self.workshop_id)
