"""Estate reports (page, CSV, PDF) and printable labels, for the help desk's staff."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tierline.assets import labels, pdf, reports
from tierline.assets.health import Thresholds
from tierline.assets.models import Asset, AssetType
from tierline.assets.views import _filtered
from tierline.core.csv_export import csv_response
from tierline.core.inputs import parse_id
from tierline.desk.views.queue import staff_required
from tierline.people import queries as people_queries


def _report_filters(request: HttpRequest) -> reports.Filters:
    """The report's filters from the query string; junk is ignored, the top N clamped."""
    top = parse_id(request.GET.get("top")) or reports.TOP_DEFAULT
    search = (request.GET.get("software") or "").replace("\x00", "").strip()
    return reports.Filters(
        location_id=parse_id(request.GET.get("location")),
        department_id=parse_id(request.GET.get("department")),
        type_id=parse_id(request.GET.get("type")),
        software_search=search[: reports.SEARCH_MAX],
        top=min(top, reports.TOP_MAX),
    )


def _report(request: HttpRequest) -> reports.EstateReport:
    return reports.estate_report(
        filters=_report_filters(request),
        now=timezone.localtime(),
        offline_hours=Thresholds.from_settings().offline_hours,
    )


@require_GET
@staff_required
def estate_report(request: HttpRequest) -> HttpResponse:
    """Counts of the whole estate as bar charts (inline SVG) with a table beside each."""
    report = _report(request)
    query = request.GET.copy()
    return render(
        request,
        "assets/reports.html",
        {
            "report": report,
            "filters": report.filters,
            "types": AssetType.objects.all(),
            "locations": people_queries.locations(),
            "departments": people_queries.departments(),
            "top_choices": (10, 20, 50, 100, 200),
            "query": query.urlencode(),
        },
    )


@require_GET
@staff_required
def estate_report_csv(request: HttpRequest) -> HttpResponseBase:
    report = _report(request)
    return csv_response("tierline-estate-report.csv", reports.CSV_HEADER, reports.csv_rows(report))


@require_GET
@staff_required
def estate_report_pdf(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    response = HttpResponse(pdf.estate_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="tierline-estate-report.pdf"'
    return response


@require_http_methods(["GET", "POST"])
@staff_required
def asset_labels(request: HttpRequest) -> HttpResponse:
    """A4 sheets of QR labels: POST `ids` (the assets ticked on the list) or GET with the
    list's filters (every asset they show). A refusal is a page saying why, status 400."""
    visible = Asset.objects.all()  # every member of staff reads the whole inventory
    try:
        if request.method == "POST":
            chosen = labels.labels_for_ids(request.POST.getlist("ids"), visible=visible)
        else:
            queryset, _chosen = _filtered(request)
            chosen = labels.labels_for_queryset(queryset)
    except labels.LabelError as refused:
        return render(request, "assets/labels_refused.html", {"error": str(refused)}, status=400)
    response = HttpResponse(pdf.labels_pdf(chosen), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="tierline-asset-labels.pdf"'
    return response
