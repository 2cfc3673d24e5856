"""The trained models and the suggestions, for the administrator to look at (not to edit); the
plain-language glossary, which the administrator edits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tierline.assist.models import (
    ClusterMember,
    DuplicateSuggestion,
    GlossaryTerm,
    IncidentCluster,
    Suggestion,
    TriageModel,
)
from tierline.core.text import accepts_plain_text


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


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    """The jargon the plain-language check flags in public replies and public articles."""

    section = "Assistant"
    fields = ("term", "plain", "note", "active")
    list_display = ("term", "plain", "active")
    list_filter = ("active",)
    search_fields = ("term", "plain", "note")
    list_per_page = 50

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        # The admin builds a new form class per request; each refuses control characters
        # with a message naming the field, as every other door does (core.text).
        return accepts_plain_text()(super().get_form(request, obj, change=change, **kwargs))


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
