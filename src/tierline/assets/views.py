"""The inventory pages for the help desk: the asset list and an asset's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tierline.assets import queries, services
from tierline.assets.models import AssetType, Status
from tierline.core.inputs import parse_id
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk.views.queue import staff_required
from tierline.people import queries as people_queries

SEARCH_MAX = 100


@require_GET
@staff_required
def asset_list(request: HttpRequest) -> HttpResponse:
    """Filters: text (tag, hostname, serial), type, status, location, needs review; ?sort=."""
    queryset = queries.assets_for_list()
    q = (request.GET.get("q") or "").strip()[:SEARCH_MAX]
    if q:
        from django.db.models import Q

        queryset = queryset.filter(
            Q(tag__icontains=q) | Q(hostname__icontains=q) | Q(serial__icontains=q)
        )
    type_id = parse_id(request.GET.get("type"))
    if type_id:
        queryset = queryset.filter(asset_type_id=type_id)
    status = request.GET.get("status") or ""
    if status in Status.values:
        queryset = queryset.filter(status=status)
    else:
        status = ""
    location_id = parse_id(request.GET.get("location"))
    if location_id:
        queryset = queryset.filter(location_id=location_id)
    review = request.GET.get("review") == "1"
    if review:
        queryset = queryset.filter(needs_review=True)
    sort = request.GET.get("sort") or "tag"
    if sort not in queries.ORDERS:
        sort = "tag"
    page = page_of(request, queryset.order_by(*queries.ORDERS[sort]))
    kept = request.GET.copy()
    kept.pop("page", None)
    unsorted = kept.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "assets/list.html",
        {
            "page": page,
            "q": q,
            "types": AssetType.objects.all(),
            "type_id": type_id,
            "statuses": Status.choices,
            "status": status,
            "locations": people_queries.locations(),
            "location_id": location_id,
            "review": review,
            "sort": sort,
            "query": kept.urlencode(),
            "unsorted": unsorted.urlencode(),
        },
    )


def _asset(pk: int) -> Any:
    asset = queries.asset_page(pk)
    if asset is None:
        raise Http404("No such asset.")
    return asset


@require_GET
@staff_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _asset(pk)
    software = list(queries.software_of(asset))
    tickets = perms.visible_tickets(request.user).filter(pk__in=queries.linked_ticket_ids(asset))
    return render(
        request,
        "assets/detail.html",
        {
            "asset": asset,
            "software": software,
            "tickets": list(tickets.order_by("-created_at")[:50]),
            "history": list(queries.history_for(asset)[:200]),
            "next_statuses": [
                (value, Status(value).label) for value in services.NEXT_STATUSES[asset.status]
            ],
        },
    )


@require_POST
@staff_required
def asset_status(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _asset(pk)
    try:
        services.set_status(
            asset=asset,
            status=request.POST.get("status", ""),
            by=request.user,
            note=request.POST.get("note", "")[:1000],
        )
    except services.AssetError as error:
        messages.error(request, str(error))
    return redirect("assets:detail", pk=asset.pk)


@require_POST
@staff_required
def asset_link_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _asset(pk)
    number = (request.POST.get("ticket") or "").strip().upper()[:30]
    try:
        ticket = perms.ticket_for(request.user, number)
    except Http404:
        messages.error(request, f"No ticket “{number}” that you can read.")
        return redirect("assets:detail", pk=asset.pk)
    services.link_ticket(asset=asset, ticket=ticket, by=request.user)
    return redirect("assets:detail", pk=asset.pk)
