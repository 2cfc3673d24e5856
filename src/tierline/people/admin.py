from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tierline.core.models import ApiToken
from tierline.core.tokens import revoke_token
from tierline.people.models import Department, Location, Skill, Team, User


class ApiTokenForm(forms.ModelForm):
    revoke = forms.BooleanField(label=_("Revoke"), required=False)

    class Meta:
        model = ApiToken
        fields: list[str] = []


class ApiTokenInline(admin.StackedInline):
    """The person's API tokens: what each is for, when it ends; tick Revoke and save to stop one.
    New tokens come from `tierline token USER` (the key is shown once, so not here).
    Stacked: the tabular inline's table has header cells with no text (axe empty-table-header)."""

    model = ApiToken
    form = ApiTokenForm
    extra = 0
    can_delete = False
    fields = ("prefix", "name", "created_at", "expires_at", "revoked_at", "revoke")
    readonly_fields = ("prefix", "name", "created_at", "expires_at", "revoked_at")
    verbose_name_plural = _("API tokens")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    # Set by Django, not by hand; and its split date/time widget has no label for either box.
    readonly_fields = ("last_login", "date_joined")
    inlines = [ApiTokenInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ApiToken:
            super().save_formset(request, form, formset, change)
            return
        # Nothing of a token is edited here; a ticked Revoke goes through the token service.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for token_form in formset.forms:
            if token_form.cleaned_data.get("revoke"):
                revoke_token(token=token_form.instance, by=request.user)

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
