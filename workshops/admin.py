from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin_guards import GuardedModelAdmin
from workshops.models import Case, InvitationBatch, Participant, Workshop, WorkshopStatusChange


class CaseInline(admin.StackedInline):
    model = Case
    extra = 0


class StatusChangeInline(admin.TabularInline):
    model = WorkshopStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InvitationBatch)
class InvitationBatchAdmin(GuardedModelAdmin):
    list_display = ["workshop", "status", "total", "sent", "failed", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["workshop__title"]
    list_select_related = ["workshop"]
    readonly_fields = ["workshop", "requested_by", "status", "total", "sent", "failed", "created_at", "finished_at"]
    exclude = ["participants"]

    def has_add_permission(self, request):
        return False  # the invitation service makes batches (an add form of read-only fields saved no workshop: a 500)


@admin.register(Workshop)
class WorkshopAdmin(GuardedModelAdmin):
    list_display = ["title", "organisation", "format", "status", "starts_at", "language"]
    list_filter = ["status", "format", "language", "organisation"]
    search_fields = ["title", "goal", "organisation__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation", "created_by"]
    # The status moves only through the planning pages' transitions, which write the status history below
    # (and send the contact person's e-mail); an edit here would contradict the history without a trace.
    readonly_fields = ["status", "decline_reason"]
    inlines = [CaseInline, StatusChangeInline]


@admin.register(Participant)
class ParticipantAdmin(GuardedModelAdmin):
    list_display = ["name", "email", "workshop", "role", "role_group", "organisation_name", "first_joined_at"]
    list_filter = ["role", "role_group", "invitation_status", "workshop__status"]
    search_fields = ["name", "email", "organisation_name", "department", "workshop__title"]
    list_select_related = ["workshop"]
    ordering = ["-workshop__starts_at", "-workshop_id", "name", "id"]  # the newest workshop's people first
    raw_id_fields = ["workshop", "user"]
    readonly_fields = [
        "token_revoked_at",
        "first_joined_at",
        "last_seen_at",
        "invited_at",
        "invitation_error",
        "personal_data",
    ]

    @admin.display(description=_("personal data"))
    def personal_data(self, obj: Participant) -> str:
        """Links for answering a data subject's request: the person's data as a download, and erasure."""
        if obj.pk is None:
            return "–"
        args = [obj.workshop_id, obj.pk]
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("privacy:participant_export", args=[*args, "xlsx"]),
            _("Export data (Excel)"),
            reverse("privacy:participant_export", args=[*args, "json"]),
            _("Export data (JSON)"),
            reverse("privacy:participant_erase", args=args),
            _("Erase"),
        )
