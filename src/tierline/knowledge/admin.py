"""Article categories are configured in the admin; articles are written on /knowledge/."""

from __future__ import annotations

from django.contrib import admin

from tierline.knowledge.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    section = "Knowledge base"
    list_display = ("name", "description")
    search_fields = ("name",)
