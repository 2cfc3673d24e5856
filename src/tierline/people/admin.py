from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from tierline.core.models import ApiToken
from tierline.core.tokens import revoke_token
from tierline.people import queries, services
from tierline.people.models import Department, Location, Skill, Team, User

SECTION = "People & teams"  # the admin's front page (core.admin_site), as the README names it


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
    section = SECTION
    list_display = (
        "username",
        "get_full_name",
        "email",
        "role",
        "department",
        "location",
        "is_active",
    )
    list_filter = ("role", "teams", "department", "location", "is_vip", "is_active")
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
                    "is_vip",
                    "teams",
                    "skills",
                )
            },
        ),
    )


class MembersPicker(FilteredSelectMultiple):
    """Django's two-list picker, wrapped as the admin wraps a relation's widget: its script
    puts the picker first in the widget's parent, which must not be the row (the label would
    end up after it)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return format_html(
            '<div class="related-widget-wrapper">{}</div>', super().render(*args, **kwargs)
        )


class TeamForm(forms.ModelForm):
    """A team and who is in it (membership is stored on the person: User.teams)."""

    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=MembersPicker(_("members"), is_stacked=False),
        help_text=_("The technicians and team leads who work this team's tickets."),
    )

    class Meta:
        model = Team
        fields = ("name", "tier", "description", "is_tier_default", "is_restricted", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.members.all() if self.instance.pk else User.objects.none()
        # The help desk, and whoever is a member now (so saving never drops them unseen).
        self.fields["members"].queryset = (queries.staff_people() | current).distinct()
        if self.instance.pk:
            self.initial.setdefault("members", list(current))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    section = SECTION
    form = TeamForm
    list_display = ("name", "tier", "is_tier_default", "is_restricted", "member_count", "email")
    list_filter = ("tier", "is_restricted")
    readonly_fields = ("members_and_leads",)
    fields = (
        "name",
        "tier",
        "description",
        "is_tier_default",
        "is_restricted",
        "email",
        "members_and_leads",
        "members",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, team: Team) -> int:
        return team._member_count

    @admin.display(description=_("members and leads"))
    def members_and_leads(self, team: Team) -> str:
        """Who is in the team now, each a link to their page, team leads marked; and a link to
        the leads and administrators, who work every team's tickets without being members."""
        leads = format_html(
            '<p><a href="{}?role__exact=lead">{}</a></p>',
            reverse("admin:people_user_changelist"),
            _("Team leads (and administrators) also work this team's tickets"),
        )
        if not team.pk:
            return leads
        people = list(team.members.order_by("last_name", "first_name", "username"))
        if not people:
            return format_html("<p>{}</p>{}", _("Nobody yet."), leads)
        return format_html(
            '<ul class="team-members">{}</ul>{}',
            format_html_join(
                "",
                '<li><a href="{}">{}</a>{}</li>',
                (
                    (
                        reverse("admin:people_user_change", args=[person.pk]),
                        person,
                        f" ({person.get_role_display()})" if person.is_lead else "",
                    )
                    for person in people
                ),
            ),
            leads,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.set_team_members(
            team=form.instance, members=form.cleaned_data["members"], by=request.user
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    section = SECTION
    search_fields = ("name",)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    section = SECTION
    list_display = ("name", "address")
    search_fields = ("name", "address")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    section = SECTION
    search_fields = ("name",)
