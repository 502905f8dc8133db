from __future__ import annotations

from django.contrib import admin

from workshops.models import Case, Participant, Workshop


class CaseInline(admin.StackedInline):
    model = Case
    extra = 0


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["title", "organisation", "format", "status", "starts_at", "language"]
    list_filter = ["status", "format", "language", "organisation"]
    search_fields = ["title", "goal", "organisation__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation", "created_by"]
    inlines = [CaseInline]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "workshop", "role", "role_group", "organisation_name", "first_joined_at"]
    list_filter = ["role", "role_group", "workshop__status"]
    search_fields = ["name", "email", "organisation_name", "department", "workshop__title"]
    list_select_related = ["workshop"]
    raw_id_fields = ["workshop", "user"]
    readonly_fields = ["token_revoked_at", "first_joined_at", "last_seen_at"]
