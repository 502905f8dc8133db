from __future__ import annotations

from django.contrib import admin

from config.admin_guards import GuardedModelAdmin
from privacy.models import DeletionRequest, Erasure


class AuditTrailAdmin(GuardedModelAdmin):
    """A record of what happened: nobody adds, edits or deletes one by hand, not even a superuser (the
    services write them; they are what shows that personal data was erased and requests were answered).
    Without the delete permission the admin also refuses to delete a workshop or participant whose
    deletion would take these records with it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Erasure)
class ErasureAdmin(AuditTrailAdmin):
    list_display = ["workshop", "whole_workshop", "erased_at", "erased_by", "automatic", "participants", "exports"]
    list_filter = ["automatic", "whole_workshop"]
    search_fields = ["workshop__title"]
    list_select_related = ["workshop", "erased_by"]


@admin.register(DeletionRequest)
class DeletionRequestAdmin(AuditTrailAdmin):
    list_display = ["workshop", "participant", "requested_at", "handled_at", "handled_by"]
    list_filter = ["handled_at"]
    search_fields = ["workshop__title"]
    list_select_related = ["workshop", "participant", "handled_by"]
