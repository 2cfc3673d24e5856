from django.contrib import admin

from tierline.desk.models import Category, PriorityRule, ResolutionCode


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("full_name", "default_team", "is_active")
    list_filter = ("is_active", "default_team")
    search_fields = ("name", "full_name")
    readonly_fields = ("full_name",)


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    list_editable = ("is_active",)
    prepopulated_fields = {"code": ("name",)}
