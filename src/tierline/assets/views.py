"""The inventory pages for the help desk: the asset list and an asset's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tierline.assets import importing, queries, services
from tierline.assets.health import Thresholds
from tierline.assets.models import AssetType, ChangeKind, Condition, ImportBatch, Status
from tierline.core.csv_export import csv_response
from tierline.core.inputs import parse_id
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk import queries as desk_queries
from tierline.desk.views.queue import staff_required
from tierline.people import queries as people_queries

SEARCH_MAX = 100


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, Any]]:
    """The list's filters from the query string (junk ignored): the queryset and what the
    page shows of them. The CSV export reads the same."""
    queryset = queries.assets_for_list()
    q = (request.GET.get("q") or "").strip()[:SEARCH_MAX]
    if q:
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
    return queryset.order_by(*queries.ORDERS[sort]), {
        "q": q,
        "type_id": type_id,
        "status": status,
        "location_id": location_id,
        "review": review,
        "sort": sort,
    }


@require_GET
@staff_required
def asset_list(request: HttpRequest) -> HttpResponse:
    """Filters: text (tag, hostname, serial), type, status, location, needs review; ?sort=."""
    queryset, chosen = _filtered(request)
    page = page_of(request, queryset)
    kept = request.GET.copy()
    kept.pop("page", None)
    unsorted = kept.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "assets/list.html",
        {
            **chosen,
            "page": page,
            "types": AssetType.objects.all(),
            "statuses": Status.choices,
            "locations": people_queries.locations(),
            "query": kept.urlencode(),
            "unsorted": unsorted.urlencode(),
            "can_import": queries.can_import(request.user),
        },
    )


def _export_row(asset: Any) -> list[Any]:
    return [
        asset.tag,
        asset.asset_type.name if asset.asset_type else "",
        asset.hostname,
        asset.serial,
        asset.make,
        asset.model,
        asset.supplier,
        asset.purchase_date.isoformat() if asset.purchase_date else "",
        asset.purchase_cost if asset.purchase_cost is not None else "",
        asset.warranty_end.isoformat() if asset.warranty_end else "",
        asset.location.name if asset.location else "",
        asset.assigned_to.username if asset.assigned_to else "",
        asset.status,
        asset.last_seen_at.isoformat() if asset.last_seen_at else "",
    ]


@require_GET
@staff_required
def asset_export(request: HttpRequest) -> HttpResponseBase:
    """The list as CSV, with the list's filters and order, streamed; the columns are the
    import's (`assets.importing.COLUMNS`) and `last_seen`, so an export imports back."""
    queryset, _chosen = _filtered(request)
    rows = (_export_row(asset) for asset in queryset.iterator(chunk_size=500))
    header = [*importing.COLUMNS, *importing.READ_ONLY_COLUMNS]
    return csv_response("tierline-assets.csv", header, rows)


def _asset(pk: int) -> Any:
    asset = queries.asset_page(pk)
    if asset is None:
        raise Http404("No such asset.")
    return asset


CHANGE_LOG_PAGE_SIZE = 50


@require_GET
@staff_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _asset(pk)
    software = list(queries.software_of(asset))
    tickets = list(
        perms.visible_tickets(request.user)
        .filter(pk__in=queries.linked_ticket_ids(asset))
        .order_by("-created_at")[:50]
    )
    ticket_ids = [t.pk for t in tickets]
    kind = request.GET.get("kind") or ""
    if kind not in ChangeKind.values:
        kind = ""
    changes = Paginator(queries.changes_of(asset, kind=kind), CHANGE_LOG_PAGE_SIZE).get_page(
        request.GET.get("changes")
    )
    return render(
        request,
        "assets/detail.html",
        {
            "asset": asset,
            "software": software,
            "changes": changes,
            "change_kinds": ChangeKind.choices,
            "kind": kind,
            "tickets": tickets,
            # Work orders and calls reach an asset through its linked tickets.
            "work_orders": desk_queries.work_orders_on(ticket_ids) if ticket_ids else [],
            "calls": desk_queries.calls_on(ticket_ids) if ticket_ids else [],
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


# ---- CSV import ------------------------------------------------------------------------------

PREVIEW_PAGE_SIZE = 100


def _importer(request: HttpRequest) -> None:
    if not queries.can_import(request.user):
        raise PermissionDenied("Importing assets needs the add and change asset permissions.")


@require_GET
@staff_required
def import_template(request: HttpRequest) -> HttpResponseBase:
    """The header row the import reads, for a spreadsheet to fill in."""
    _importer(request)
    return csv_response("tierline-assets-template.csv", list(importing.COLUMNS), [])


@require_http_methods(["GET", "POST"])
@staff_required
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file: it is read and checked, and kept as a preview to confirm."""
    _importer(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV file to upload."
        elif upload.size is not None and upload.size > importing.max_bytes():
            error = (
                f"The file is {upload.size:,} bytes; the most is {importing.max_bytes():,}. "
                "Split it in parts."
            )
        else:
            try:
                batch = services.preview_import(
                    data=upload.read(importing.max_bytes() + 1),
                    filename=upload.name or "",
                    by=request.user,
                )
            except importing.ImportFileError as refused:
                error = str(refused)
            else:
                return redirect("assets:import_preview", pk=batch.pk)
    return render(
        request,
        "assets/import.html",
        {
            "error": error,
            "columns": importing.COLUMNS,
            "max_bytes": importing.max_bytes(),
            "max_rows": importing.max_rows(),
        },
        status=400 if error else 200,
    )


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk, created_by=request.user).first()
    if batch is None:
        raise Http404("No such import.")
    return batch


@require_GET
@staff_required
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What each row would do, paged; the confirmation form; after it, the summary."""
    _importer(request)
    batch = _batch(request, pk)
    counts = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
    for row in batch.rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    only_errors = request.GET.get("show") == "errors"
    rows = [r for r in batch.rows if r["outcome"] == "error"] if only_errors else batch.rows
    page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assets/import_preview.html",
        {
            "batch": batch,
            "counts": counts,
            "page": page,
            "only_errors": only_errors,
            "columns": importing.COLUMNS,
        },
    )


@require_POST
@staff_required
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the stored preview (only the batch's id comes from the form)."""
    _importer(request)
    batch = _batch(request, pk)
    all_or_nothing = request.POST.get("mode") == "all"
    try:
        summary = services.apply_import(
            batch_id=batch.pk, by=request.user, all_or_nothing=all_or_nothing
        )
    except services.AssetError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Imported: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {len(summary['errors'])} skipped with errors.",
        )
    return redirect("assets:import_preview", pk=batch.pk)


# ---- the status board ------------------------------------------------------------------------

HEALTH_CHOICES = [("any", "Any problem"), ("healthy", "Healthy"), *Condition.choices]


@require_GET
@staff_required
def status_board(request: HttpRequest) -> HttpResponse:
    """Every device, its last report and health flags; filters by location, department, type
    and health; sortable; paged."""
    location_id = parse_id(request.GET.get("location"))
    department_id = parse_id(request.GET.get("department"))
    type_id = parse_id(request.GET.get("type"))
    health = request.GET.get("health") or ""
    if health not in dict(HEALTH_CHOICES):
        health = ""
    sort = request.GET.get("sort") or "tag"
    if sort not in queries.BOARD_ORDERS:
        sort = "tag"
    thresholds = Thresholds.from_settings()
    rows = queries.status_board(
        now=timezone.now(),
        thresholds=thresholds,
        location_id=location_id,
        department_id=department_id,
        type_id=type_id,
        condition=health,
        sort=sort,
    )
    page = Paginator(rows, settings.TIERLINE["PAGE_SIZE"]).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    unsorted = kept.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "assets/board.html",
        {
            "page": page,
            "total": len(rows),
            "types": AssetType.objects.all(),
            "type_id": type_id,
            "locations": people_queries.locations(),
            "location_id": location_id,
            "departments": people_queries.departments(),
            "department_id": department_id,
            "health_choices": HEALTH_CHOICES,
            "health": health,
            "sort": sort,
            "thresholds": thresholds,
            "query": kept.urlencode(),
            "unsorted": unsorted.urlencode(),
        },
    )


# ---- the estate's change log -------------------------------------------------------------------

# ?since= choices: days back (the default a week, as in "what changed this week").
SINCE_CHOICES = [
    ("1", "Last day"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("all", "Any time"),
]


@require_GET
@staff_required
def estate_changes(request: HttpRequest) -> HttpResponse:
    """What the agents saw change on every device: filters by kind, since and a hostname, tag
    or item (a package, a mount); newest first; paged by ids first."""
    kind = request.GET.get("kind") or ""
    if kind not in ChangeKind.values:
        kind = ""
    since = request.GET.get("since") or "7"
    if since not in dict(SINCE_CHOICES):
        since = "7"
    q = (request.GET.get("q") or "").strip()[:SEARCH_MAX]
    rows = queries.estate_changes(
        since=None if since == "all" else timezone.now() - timedelta(days=int(since)),
        kind=kind,
        search=q,
    )
    page = page_of(request, rows)
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "assets/changes.html",
        {
            "page": page,
            "kind": kind,
            "kinds": ChangeKind.choices,
            "since": since,
            "since_choices": SINCE_CHOICES,
            "q": q,
            "query": kept.urlencode(),
        },
    )
