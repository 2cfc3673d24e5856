from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tierline.core.models import ScheduledJob


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
