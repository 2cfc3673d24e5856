from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tierline.core.models import ScheduledJob


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record to read, never to add, change or delete from the admin (superusers included):
    what a service or an agent wrote, shown as it was written."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class LabelledListEditable(admin.ModelAdmin):
    """A changelist whose editable cells (`list_editable`) each have a name.

    Django renders those controls with no <label>, so a screen reader hears only "select, P3"
    (axe select-name). Each control is named for its column and row: "Priority: impact High,
    urgency Low". `row_label` says how a row is named; by default, as the row itself.
    """

    def row_label(self, obj: Model) -> str:
        return str(obj)

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        base = super().get_changelist_form(request, **kwargs)
        editable, row_label = tuple(self.list_editable), self.row_label

        class LabelledRowForm(base):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if self.instance.pk is None:
                    return
                row = row_label(self.instance)
                for name in editable:
                    field = self.fields.get(name)
                    if field is not None:  # the form's own copy: labels differ per row
                        field.widget.attrs["aria-label"] = f"{field.label}: {row}"

        return LabelledRowForm


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    """What the schedulers did: read only (the apps register the jobs, the schedulers write)."""

    list_display = (
        "name",
        "schedule",
        "next_run_at",
        "last_started_at",
        "last_finished_at",
        "failed",
        "leased_by",
    )
    search_fields = ("name",)
    readonly_fields = [field.name for field in ScheduledJob._meta.fields]

    @admin.display(boolean=True, description=_("last run failed"))
    def failed(self, job: ScheduledJob) -> bool:
        return bool(job.last_error)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
