"""Reports of the desk: escalation counts per tier."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tierline.core.inputs import parse_date
from tierline.desk import permissions as perms
from tierline.desk import queries


def _date_param(request: HttpRequest, name: str, default: date) -> tuple[date, str | None]:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default, None
    day = parse_date(raw)
    if day is None:
        return default, (
            f"“{raw[:40]}” is not a date between 1970 and 2999 (use YYYY-MM-DD); "
            "showing the default instead."
        )
    return day, None


@login_required
def escalation_report(request: HttpRequest) -> HttpResponse:
    """How often tickets moved between tiers, per step and per team, in a date range."""
    if not perms.is_staff_member(request.user):
        raise PermissionDenied("Reports are for the help desk.")
    today = timezone.localdate()
    start, start_error = _date_param(request, "from", today - timedelta(days=29))
    end, end_error = _date_param(request, "to", today)
    errors = [e for e in (start_error, end_error) if e]
    if end < start:
        errors.append("The end date is before the start date; the dates were swapped.")
        start, end = end, start
    steps = queries.escalation_counts(start, end, request.user)
    teams = queries.escalations_by_team(start, end, request.user)
    return render(
        request,
        "desk/escalation_report.html",
        {
            "start": start,
            "end": end,
            "steps": steps,
            "teams": teams,
            "errors": errors,
            "total_up": sum(r["count"] for r in steps if r["direction"] == "up"),
            "total_down": sum(r["count"] for r in steps if r["direction"] == "down"),
        },
    )


@login_required
def sidebar(request: HttpRequest) -> HttpResponse:
    """The sidebar with its queue counts, fetched by the page after it has loaded."""
    if not perms.is_staff_member(request.user):
        raise PermissionDenied("The workspace is for the help desk.")
    return render(
        request,
        "desk/_sidebar.html",
        {"counts": queries.queue_counts(request.user), "desk_nav": request.GET.get("nav", "")[:40]},
    )
