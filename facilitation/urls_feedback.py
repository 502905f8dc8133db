"""Routes of the feedback survey (included by facilitation/urls.py): answering it, and the facilitator's editor."""

from __future__ import annotations

from django.urls import path

from facilitation import views_feedback as feedback

urlpatterns: list = [
    path("w/<int:workshop_id>/feedback/", feedback.feedback, name="feedback"),
    path("w/<int:workshop_id>/survey/", feedback.survey_edit, name="survey_edit"),
    path("w/<int:workshop_id>/survey/questions/new/", feedback.survey_question_add, name="survey_question_add"),
    path(
        "w/<int:workshop_id>/survey/questions/<int:question_id>/edit/",
        feedback.survey_question_edit,
        name="survey_question_edit",
    ),
    path(
        "w/<int:workshop_id>/survey/questions/<int:question_id>/move/",
        feedback.survey_question_move,
        name="survey_question_move",
    ),
    path(
        "w/<int:workshop_id>/survey/questions/<int:question_id>/delete/",
        feedback.survey_question_delete,
        name="survey_question_delete",
    ),
]
