"""Calendars and policies are configured in the admin; every mistake gets a message, not a 500."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from tierline.sla.businesstime import BusinessCalendar, CalendarError
from tierline.sla.models import BusinessHours, Calendar, Closure, Policy, Target, TicketClock


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
