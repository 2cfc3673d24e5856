"""The sla app's check on the health page (core/health.py): pages of the on-call technician
that could not be sent. A page nobody received is a night nobody was told."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tierline.core.health import Finding, admin_url, counted, register_check
from tierline.sla.models import Page


def pages() -> Finding:
    since = timezone.now() - timedelta(days=1)
    failed = Page.objects.filter(state=Page.State.FAILED, created_at__gte=since).count()
    if failed:
        return Finding(
            "error",
            f"{counted(failed, 'page', 'pages')} of the on-call technician could not "
            "be sent in the last day.",
            count=failed,
            url=admin_url("sla_page_changelist", "state__exact=failed"),
        )
    waiting = Page.objects.filter(
        state=Page.State.PENDING, next_attempt_at__lt=timezone.now() - timedelta(minutes=10)
    ).count()
    if waiting:
        return Finding(
            "warning",
            f"{counted(waiting, 'page has', 'pages have')} waited over 10 minutes: "
            "is the scheduler running?",
            count=waiting,
            url=admin_url("sla_page_changelist", "state__exact=pending"),
        )
    return Finding("ok", "Every page of the on-call technician went out.", count=0)


def register_checks() -> None:
    register_check("sla.pages", "On-call pages", pages, order=50)
