"""Calendars, policies, team assignment, the on-call rota: configured in the admin; every mistake
gets a message, not a 500."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tierline.people import queries as people_queries
from tierline.sla import shifts
from tierline.sla.businesstime import BusinessCalendar, CalendarError
from tierline.sla.models import (
    BusinessHours,
    Calendar,
    CategorySkill,
    Closure,
    IntakePause,
    Page,
    Policy,
    Rule,
    RuleEmail,
    RuleFiring,
    Shift,
    Target,
    TeamRota,
    TicketClock,
)

SECTION = "Service targets"


class BusinessHoursFormSet(forms.BaseInlineFormSet):
    """The week's hours together: no two intervals of a day overlap, and the desk opens at
    least once a week (else no target could ever be reached)."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        hours: dict[int, list] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("weekday") is None:
                continue
            if data.get("start") is None or data.get("end") is None:
                continue
            hours.setdefault(data["weekday"], []).append((data["start"], data["end"]))
        try:
            BusinessCalendar.build(zone="UTC", hours=hours)
        except CalendarError as error:
            names = dict(BusinessHours._meta.get_field("weekday").choices)
            message = str(error)
            for number, name in names.items():
                message = message.replace(f"Day {number}:", f"{name}:")
            raise ValidationError(message) from None


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    formset = BusinessHoursFormSet
    extra = 1


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 1


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "zone", "holiday_country", "holiday_subdivision", "updated_at")
    search_fields = ("name",)
    inlines = [BusinessHoursInline, ClosureInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 1


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "order",
        "is_active",
        "calendar",
        "category",
        "team",
        "department",
        "vip_only",
    )
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "calendar")
    inlines = [TargetInline]


@admin.register(TicketClock)
class TicketClockAdmin(admin.ModelAdmin):
    """Read only: clocks are kept from the desk's events."""

    list_display = (
        "ticket",
        "policy",
        "status",
        "first_response_due",
        "resolution_due",
        "breached",
    )
    list_filter = ("status", "breached")
    list_select_related = ("ticket", "policy")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _technicians():
    return people_queries.desk_people().filter(is_active=True, is_system=False)


@admin.register(TeamRota)
class TeamRotaAdmin(admin.ModelAdmin):
    section = SECTION
    list_display = ("team", "mode", "open_ticket_cap", "calendar", "page_priority", "page_email")
    list_select_related = ("team", "calendar")
    fieldsets = (
        (None, {"fields": ("team", "mode", "open_ticket_cap", "calendar")}),
        (
            "Paging who is on call",
            {
                "fields": (
                    "page_priority",
                    "page_email",
                    "page_webhook_url",
                    "page_webhook_secret",
                    "ics_token",
                )
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "page_webhook_url":
            kwargs["assume_scheme"] = "https"  # Django 6's default, without its warning
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ("team", "person", "kind", "name", "start", "end")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _technicians()


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """One row per person and stretch on call; overlapping shifts of one person are refused
    (Shift.clean), a shift ends after it starts and lasts at most 14 days."""

    section = SECTION
    form = ShiftForm
    list_display = ("start", "end", "team", "person", "kind", "name")
    list_filter = ("team", "kind")
    list_select_related = ("team", "person")
    date_hierarchy = "start"
    actions = ("repeat_next_week", "repeat_four_weeks")

    def _repeat(self, request, queryset, weeks: int) -> None:
        done = shifts.repeat_weekly(shift_ids=queryset.values_list("pk", flat=True), weeks=weeks)
        self.message_user(request, f"{len(done.made)} shifts added.", messages.SUCCESS)
        if done.skipped:
            shown = "; ".join(done.skipped[:10])
            more = f" (and {len(done.skipped) - 10} more)" if len(done.skipped) > 10 else ""
            self.message_user(
                request, f"{len(done.skipped)} skipped: {shown}{more}", messages.WARNING
            )

    @admin.action(description="Repeat the selected shifts next week")
    def repeat_next_week(self, request, queryset) -> None:
        self._repeat(request, queryset, 1)

    @admin.action(description="Repeat the selected shifts for four weeks")
    def repeat_four_weeks(self, request, queryset) -> None:
        self._repeat(request, queryset, 4)


class IntakePauseForm(forms.ModelForm):
    class Meta:
        model = IntakePause
        fields = ("person",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _technicians()


@admin.register(IntakePause)
class IntakePauseAdmin(admin.ModelAdmin):
    """Who auto-assignment skips: add a row to pause a technician, delete it to resume."""

    section = SECTION
    form = IntakePauseForm
    list_display = ("person", "since")
    list_select_related = ("person",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CategorySkill)
class CategorySkillAdmin(admin.ModelAdmin):
    section = SECTION
    list_display = ("category", "skill")
    list_select_related = ("category", "skill")


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """Read only: pages are written by the paging service and sent by the `sla-pages` job."""

    section = SECTION
    list_display = ("created_at", "ticket", "person", "channel", "state", "attempts", "last_error")
    list_filter = ("state", "channel")
    list_select_related = ("ticket", "person")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules (sla.rules): the conditions and actions are JSON lists, checked as a whole on save
    (Rule.clean: unknown fields, operators, values, ids, and loops are refused by name)."""

    section = SECTION
    list_display = ("name", "order", "is_active", "trigger", "stop_processing")
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "trigger")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "order", "is_active", "trigger", "stop_processing")}),
        ("Time rules", {"fields": ("wait_status", "wait_amount", "wait_unit", "calendar")}),
        (None, {"fields": ("conditions", "actions")}),
    )


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RuleFiring)
class RuleFiringAdmin(_ReadOnly):
    """Read only: each firing of a rule, written by the engine."""

    section = SECTION
    list_display = ("fired_at", "rule", "ticket", "trigger", "actions_taken", "error")
    list_filter = ("trigger", "rule")
    list_select_related = ("rule", "ticket")


@admin.register(RuleEmail)
class RuleEmailAdmin(_ReadOnly):
    """Read only: emails rules queued, sent by the `sla-rule-emails` job."""

    section = SECTION
    list_display = ("created_at", "ticket", "rule", "address", "subject", "state", "attempts")
    list_filter = ("state",)
    list_select_related = ("ticket", "rule")
