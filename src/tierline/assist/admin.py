"""The trained models and the suggestions, for the administrator to look at (not to edit)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tierline.assist.models import (
    ClusterMember,
    DuplicateSuggestion,
    IncidentCluster,
    Suggestion,
    TriageModel,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the assistant writes: shown, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "trained_at", "examples", "seconds")


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "target", "label", "confidence", "state", "auto", "created_at")
    list_filter = ("target", "state", "auto")
    list_select_related = ("ticket",)


@admin.register(DuplicateSuggestion)
class DuplicateSuggestionAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "candidate", "score", "dismissed", "created_at", "decided_at")
    list_filter = ("dismissed",)
    list_select_related = ("ticket", "candidate")


class ClusterMemberInline(admin.TabularInline):
    model = ClusterMember
    fields = ("ticket", "score", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(IncidentCluster)
class IncidentClusterAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "created_at", "parent_ticket", "decided_by")
    list_filter = ("status",)
    inlines = [ClusterMemberInline]
