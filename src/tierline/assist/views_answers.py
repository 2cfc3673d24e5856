"""Suggested answers on the ticket page (fetched by htmx after the page, or as a page of its
own without JavaScript) and the deflection report for leads."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tierline.assist import answers, deflection
from tierline.desk import permissions as perms

PERIODS = [(7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days"), (365, "Last year")]


@login_required
@require_GET
def similar(request: HttpRequest, number: str) -> HttpResponse:
    """The five solved tickets and articles most like this ticket, for who reads it as the
    help desk; "Reply with this" for who works it."""
    if not perms.is_staff_member(request.user):
        raise Http404("No such ticket.")
    ticket = perms.ticket_for(request.user, number)
    if not perms.can_read_as_technician(request.user, ticket):
        raise Http404("No such ticket.")
    context = {
        "ticket": ticket,
        "answers": answers.suggestions(user=request.user, ticket=ticket),
        "can_reply": perms.can_work_ticket(request.user, ticket),
        "enabled": answers.enabled(),
        "loading": answers.corpus().loading,
    }
    if request.headers.get("HX-Request"):
        return render(request, "assist/_similar_list.html", context)
    return render(request, "assist/similar.html", context)


@login_required
@require_GET
def deflection_report(request: HttpRequest) -> HttpResponse:
    """Self-service per category: requests the portal's suggestions made unnecessary."""
    if not perms.sees_everything(request.user):
        raise Http404("No such page.")
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in dict(PERIODS):
        days = 30
    end = timezone.now()
    rows = deflection.report(start=end - timedelta(days=days), end=end)
    deflected = sum(r.deflected for r in rows)
    requests = sum(r.requests for r in rows)
    total = deflected + requests
    return render(
        request,
        "assist/deflection.html",
        {
            "rows": rows,
            "days": days,
            "periods": PERIODS,
            "deflected": deflected,
            "requests": requests,
            "rate": deflected / total if total else 0.0,
        },
    )
