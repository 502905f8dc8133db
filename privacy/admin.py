from __future__ import annotations

from django.contrib import admin

from privacy.models import DeletionRequest, Erasure


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: nobody edits or adds one by hand (the services write them)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    list_display = ["workshop", "whole_workshop", "erased_at", "erased_by", "automatic", "participants", "exports"]
    list_filter = ["automatic", "whole_workshop"]
    search_fields = ["workshop__title"]
    list_select_related = ["workshop", "erased_by"]


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdmin):
    list_display = ["workshop", "participant", "requested_at", "handled_at", "handled_by"]
    list_filter = ["handled_at"]
    search_fields = ["workshop__title"]
    list_select_related = ["workshop", "participant", "handled_by"]
