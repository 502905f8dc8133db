from __future__ import annotations

from django.urls import path

from workshops import views
from workshops import views_planning as planning
from workshops import views_templates as methods

app_name = "workshops"

urlpatterns = [
    path("j/<str:token>/", views.join, name="join"),
    path("w/<int:workshop_id>/", views.lobby, name="lobby"),
    path("workshops/new/", planning.register, name="register"),
    path("workshops/create/", planning.create_direct, name="create"),
    path("facilitator/", planning.queue, name="queue"),
    path("w/<int:workshop_id>/manage/", planning.manage, name="manage"),
    path("w/<int:workshop_id>/edit/", planning.edit, name="edit"),
    path("w/<int:workshop_id>/accept/", planning.accept, name="accept"),
    path("w/<int:workshop_id>/decline/", planning.decline, name="decline"),
    path("w/<int:workshop_id>/status/", planning.transition, name="transition"),
    path("w/<int:workshop_id>/duplicate/", planning.duplicate, name="duplicate"),
    path("w/<int:workshop_id>/cases/new/", planning.case_new, name="case_new"),
    path("w/<int:workshop_id>/cases/<int:case_id>/edit/", planning.case_edit, name="case_edit"),
    path("w/<int:workshop_id>/cases/<int:case_id>/delete/", planning.case_delete, name="case_delete"),
    path("w/<int:workshop_id>/participants/", planning.participants, name="participants"),
    path("w/<int:workshop_id>/participants/upload/", planning.participants_upload, name="participants_upload"),
    path(
        "w/<int:workshop_id>/participants/<int:participant_id>/edit/",
        planning.participant_edit,
        name="participant_edit",
    ),
    path(
        "w/<int:workshop_id>/participants/<int:participant_id>/delete/",
        planning.participant_delete,
        name="participant_delete",
    ),
    path(
        "w/<int:workshop_id>/participants/<int:participant_id>/revoke/",
        planning.participant_revoke,
        name="participant_revoke",
    ),
    path("w/<int:workshop_id>/invitations/", planning.invitations, name="invitations"),
    path("w/<int:workshop_id>/invitations/send/", planning.invitations_send, name="invitations_send"),
    path("w/<int:workshop_id>/invitations/progress/", planning.invitations_progress, name="invitations_progress"),
    # the method library
    path("methods/", methods.library, name="template_library"),
    path("methods/import/", methods.import_file, name="template_import"),
    path("methods/<slug:key>/export/", methods.export, name="template_export"),
    path("methods/<int:template_id>/delete/", methods.delete, name="template_delete"),
    path("w/<int:workshop_id>/save-as-template/", methods.save, name="template_save"),
    path("w/<int:workshop_id>/apply-template/", methods.apply, name="template_apply"),
]
