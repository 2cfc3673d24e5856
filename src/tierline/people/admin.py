from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from tierline.people.models import Department, Location, Skill, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "get_full_name",
        "email",
        "role",
        "department",
        "location",
        "is_active",
    )
    list_filter = ("role", "teams", "department", "location", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    filter_horizontal = ("teams", "skills", "groups", "user_permissions")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Help desk"),
            {
                "fields": (
                    "role",
                    "phone",
                    "job_title",
                    "department",
                    "location",
                    "desk",
                    "teams",
                    "skills",
                )
            },
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "is_tier_default", "is_restricted", "email")
    list_filter = ("tier", "is_restricted")


admin.site.register(Department)
admin.site.register(Location)
admin.site.register(Skill)
