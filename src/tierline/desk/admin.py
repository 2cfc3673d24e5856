from django.contrib import admin

from tierline.core.admin import LabelledListEditable
from tierline.desk.models import Category, PriorityRule, ResolutionCode


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("full_name", "default_team", "is_active")
    list_filter = ("is_active", "default_team")
    search_fields = ("name", "full_name")
    readonly_fields = ("full_name",)


@admin.register(PriorityRule)
class PriorityRuleAdmin(LabelledListEditable):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)

    def row_label(self, obj: PriorityRule) -> str:
        return f"impact {obj.get_impact_display()}, urgency {obj.get_urgency_display()}"


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(LabelledListEditable):
    list_display = ("name", "code", "is_active")
    list_editable = ("is_active",)
    prepopulated_fields = {"code": ("name",)}
