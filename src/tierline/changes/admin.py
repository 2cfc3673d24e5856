"""Change records in the admin, under "Changes": to look up and audit. They are written on the
change pages (`/changes/`), through `changes.services`, so each move has its history entry;
the admin changes none of them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from tierline.changes.models import ChangeApproval, ChangeRequest
from tierline.core.admin import ReadOnlyAdmin


class ApprovalInline(admin.TabularInline):
    model = ChangeApproval
    fields = ["approver", "decision", "comment", "decided_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    section = "Changes"
    list_display = ["number", "title", "kind", "risk", "status", "window_start", "requested_by"]
    list_filter = ["status", "kind", "risk"]
    search_fields = ["number", "title"]
    inlines = [ApprovalInline]
    fields = [
        "number",
        "title",
        "kind",
        "risk",
        "status",
        "requested_by",
        "owner",
        "window_start",
        "window_end",
        "description",
        "impact",
        "plan",
        "rollback_plan",
        "emergency_reason",
        "result",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
