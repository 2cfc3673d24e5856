"""A technician asks an asset's agent for a diagnostic: from the asset's page, or from a ticket
linked to the asset (the result then comes back to the ticket as an internal note)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tierline.assets import diagnostics
from tierline.assets.views import _asset
from tierline.desk import permissions as perms
from tierline.desk.views.queue import staff_required

PARAMETERS = ("host", "port", "count")


def asset_url(asset: object) -> str:
    return reverse("assets:detail", args=[asset.pk])  # type: ignore[attr-defined]


def refused_page(request: HttpRequest, message: str, back: str, *, status: int) -> HttpResponse:
    """A refused form: the reason, a way back, and a 4xx (nothing was changed)."""
    return render(request, "assets/refused.html", {"message": message, "back": back}, status=status)


@require_POST
@staff_required
def asset_diagnostic(request: HttpRequest, pk: int) -> HttpResponse:
    """Form fields: kind, host, port, count (as the kind takes them), ticket (a number, may
    be empty). Back to the ticket when it came from one, else to the asset."""
    asset = _asset(pk)
    number = (request.POST.get("ticket") or "").strip().upper()[:30]
    ticket = None
    if number:
        try:
            ticket = perms.ticket_for(request.user, number)
        except Http404:
            return refused_page(
                request, f"No ticket “{number}” that you can read.", asset_url(asset), status=404
            )
    back = (
        redirect("desk:ticket", ticket.number)
        if ticket is not None and request.POST.get("back") == "ticket"
        else redirect("assets:detail", pk=asset.pk)
    )
    kind = (request.POST.get("kind") or "")[:40]
    parameters = {
        name: request.POST.get(name, "")[:300]
        for name in PARAMETERS
        if request.POST.get(name, "").strip()
    }
    try:
        diagnostic = diagnostics.request_diagnostic(
            asset=asset, kind=kind, parameters=parameters, by=request.user, ticket=ticket
        )
    except diagnostics.DiagnosticRefused as refused:
        return refused_page(request, str(refused), back.url, status=refused.status)
    messages.success(
        request,
        f"Asked {asset}'s agent for: {diagnostics.describe(diagnostic)}. The result comes "
        f"{'to the ticket as an internal note and ' if ticket else ''}to the asset's page when "
        "the agent next looks (about a minute).",
    )
    return back
