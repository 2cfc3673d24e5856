from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tierline.core.admin import LabelledListEditable
from tierline.desk import services
from tierline.desk.choices import Level, Priority
from tierline.desk.models import CannedResponse, Category, Macro, PriorityRule, ResolutionCode
from tierline.desk.services.matrix import cell_name

SECTION = "Desk settings"  # the admin's front page (core.admin_site), as the README names it


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    section = SECTION
    list_display = ("full_name", "default_team", "is_active")
    list_filter = ("is_active", "default_team")
    search_fields = ("name", "full_name")
    readonly_fields = ("full_name",)


class PriorityMatrixForm(forms.Form):
    """The whole impact × urgency matrix: one labelled select of the priority per cell."""

    def __init__(self, *args: Any, matrix: dict[tuple[int, int], int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for impact in Level:
            for urgency in Level:
                self.fields[self.name(impact, urgency)] = forms.TypedChoiceField(
                    label=cell_name(impact, urgency),
                    choices=[(p.value, f"P{p.value} {p.label}") for p in Priority],
                    coerce=int,
                    initial=matrix[(impact, urgency)],
                    error_messages={
                        "required": f"Choose a priority for {cell_name(impact, urgency)}.",
                        "invalid_choice": f"Choose a priority for {cell_name(impact, urgency)}.",
                    },
                )

    @staticmethod
    def name(impact: int, urgency: int) -> str:
        return f"cell_{impact}_{urgency}"

    def rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Impact by row, urgency by column, as the page draws the grid."""
        return [
            (str(impact.label), [self[self.name(impact, urgency)] for urgency in Level])
            for impact in Level
        ]

    def cells(self) -> dict[tuple[int, int], object]:
        return {
            (impact, urgency): self.cleaned_data[self.name(impact, urgency)]
            for impact in Level
            for urgency in Level
        }


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    """The matrix is edited whole, as one 3 × 3 grid (set_priority_matrix), not row by row."""

    section = SECTION

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:desk_priorityrule_changelist"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        can_change = self.has_change_permission(request)
        matrix = services.priority_matrix()
        form = PriorityMatrixForm(request.POST or None, matrix=matrix)
        for field in form.fields.values():
            field.disabled = not can_change
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            if form.is_valid():
                try:
                    changed = services.set_priority_matrix(cells=form.cells(), by=request.user)
                except ValidationError as exc:
                    for name, errors in exc.message_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    rules = PriorityRule.objects.filter(
                        impact__in={c[0] for c in changed}, urgency__in={c[1] for c in changed}
                    )
                    for rule in rules:
                        if (rule.impact, rule.urgency) in changed:
                            self.log_change(request, rule, f"Priority set to {rule}.")
                    count = len(changed)
                    messages.success(
                        request,
                        f"Priority matrix saved: {count} cell{'s' if count != 1 else ''} changed."
                        if count
                        else "Priority matrix saved: nothing changed.",
                    )
                    return HttpResponseRedirect(request.path)
            messages.error(request, "The priority matrix was not saved: see the cells marked.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Priority matrix (impact × urgency)"),
            "subtitle": None,
            "form": form,
            "urgencies": [str(level.label) for level in Level],
            "can_change": can_change,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/desk/priorityrule/matrix.html", context)


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(LabelledListEditable):
    section = SECTION
    list_display = ("name", "code", "is_active")
    list_editable = ("is_active",)
    prepopulated_fields = {"code": ("name",)}


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Shared reply templates (a technician's own ones too); placeholders checked on save."""

    list_display = ("title", "owner", "team", "updated_at")
    list_filter = ("team",)
    search_fields = ("title", "body")
    autocomplete_fields = ("owner",)


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "response", "category", "resolution_code", "team", "is_active")
    list_filter = ("is_active", "team")
    search_fields = ("name",)
