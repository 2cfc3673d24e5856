"""The compliance report (`/assets/compliance/`): devices failing their security checks, the
share of devices compliant per policy and department, the trend from the daily snapshots, and
the results as CSV. Reads only; the results are `assets.compliance`'s."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tierline.assets.compliance_models import (
    ComplianceSnapshot,
    Outcome,
    PolicyResult,
    SecurityPolicy,
)
from tierline.assets.models import Asset, AssetType
from tierline.assets.queries import devices
from tierline.core.csv_export import csv_response
from tierline.core.inputs import parse_id
from tierline.core.paging import page_of
from tierline.desk.views.queue import staff_required
from tierline.people import queries as people_queries

TREND_DAYS = (30, 90)
OUTCOME_CHOICES = [("", "Any"), *Outcome.choices]
CSV_HEADER = [
    "tag",
    "hostname",
    "type",
    "department",
    "policy",
    "severity",
    "result",
    "reason",
    "since",
    "checked_at",
]


@dataclass(frozen=True)
class Chosen:
    department: int | None  # None: any; 0: devices with no department
    type_id: int | None
    policy_id: int | None
    outcome: str
    days: int

    @classmethod
    def of(cls, request: HttpRequest, *, outcome_default: str) -> Chosen:
        raw = request.GET.get("department") or ""
        department = 0 if raw == "none" else parse_id(raw)
        outcome = request.GET.get("outcome", outcome_default)
        if outcome not in Outcome.values:
            outcome = ""
        days = parse_id(request.GET.get("days")) or TREND_DAYS[0]
        return cls(
            department=department,
            type_id=parse_id(request.GET.get("type")),
            policy_id=parse_id(request.GET.get("policy")),
            outcome=outcome,
            days=days if days in TREND_DAYS else TREND_DAYS[0],
        )


def _devices(chosen: Chosen) -> QuerySet[Asset]:
    queryset = devices()
    if chosen.department == 0:
        queryset = queryset.filter(
            Q(assigned_to__isnull=True) | Q(assigned_to__department__isnull=True)
        )
    elif chosen.department:
        queryset = queryset.filter(assigned_to__department_id=chosen.department)
    if chosen.type_id:
        queryset = queryset.filter(asset_type_id=chosen.type_id)
    return queryset


def _results(chosen: Chosen) -> QuerySet[PolicyResult]:
    results = PolicyResult.objects.filter(
        asset_id__in=_devices(chosen).values("pk"), policy__enabled=True
    )
    if chosen.policy_id:
        results = results.filter(policy_id=chosen.policy_id)
    return results


def _share(passed: int, total: int) -> int | None:
    return round(100 * passed / total) if total else None


def _matrix(chosen: Chosen, policies: list[SecurityPolicy]) -> list[dict[str, Any]]:
    """Per department (and all), per policy: devices, passed, failed, unknown, share."""
    counts: dict[tuple[int | None, int], dict[str, int]] = defaultdict(
        lambda: {"pass": 0, "fail": 0, "unknown": 0}
    )
    rows = (
        _results(chosen)
        .values("asset__assigned_to__department_id", "policy_id", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        key = (row["asset__assigned_to__department_id"], row["policy_id"])
        counts[key][row["outcome"]] += row["n"]
    names = {d.pk: d.name for d in people_queries.departments()}
    department_ids = sorted({d for d, _p in counts}, key=lambda d: (d is None, names.get(d, "")))

    def cells(wanted: list[int | None]) -> list[dict[str, Any]]:
        out = []
        for policy in policies:
            total = {"pass": 0, "fail": 0, "unknown": 0}
            for department_id in wanted:
                for outcome, n in counts.get((department_id, policy.pk), {}).items():
                    total[outcome] += n
            devices_n = sum(total.values())
            out.append(
                {
                    "policy": policy,
                    "devices": devices_n,
                    "passed": total["pass"],
                    "failed": total["fail"],
                    "unknown": total["unknown"],
                    "share": _share(total["pass"], devices_n),
                }
            )
        return out

    matrix = [{"department": "All departments", "id": "", "cells": cells(department_ids)}]
    for department_id in department_ids:
        matrix.append(
            {
                "department": names.get(department_id, "No department")
                if department_id
                else "No department",
                "id": department_id or "none",
                "cells": cells([department_id]),
            }
        )
    return matrix


def trend(
    *, department: int | None, policy_id: int | None, days: int, today: date | None = None
) -> list[dict[str, Any]]:
    """Day by day over the last `days` days (oldest first): devices, passed and the share,
    from the daily snapshots (days without one are left out)."""
    today = today or timezone.localdate()
    snapshots = ComplianceSnapshot.objects.filter(
        day__gt=today - timedelta(days=days), day__lte=today, policy_id=policy_id
    )
    if department == 0:
        snapshots = snapshots.filter(department__isnull=True)
    elif department:
        snapshots = snapshots.filter(department_id=department)
    rows = (
        snapshots.values("day")
        .annotate(devices=Sum("devices"), passed=Sum("passed"), failed=Sum("failed"))
        .order_by("day")
    )
    return [
        {
            "day": row["day"],
            "devices": row["devices"],
            "passed": row["passed"],
            "failed": row["failed"],
            "share": _share(row["passed"], row["devices"]),
        }
        for row in rows
    ]


def trend_points(rows: list[dict[str, Any]], *, days: int, today: date, width: int = 300) -> str:
    """An SVG polyline's points for the shares (x: the day within `days`, y: 0-100 % upward
    in a 60-high box). Numbers only."""
    points = []
    for row in rows:
        if row["share"] is None:
            continue
        x = width * (days - 1 - (today - row["day"]).days) / max(1, days - 1)
        y = 58 - 56 * row["share"] / 100
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


@require_GET
@staff_required
def compliance_report(request: HttpRequest) -> HttpResponse:
    """Devices with their failing (or unknown) checks, the share compliant per department and
    policy, and the trend over the last 30 or 90 days."""
    chosen = Chosen.of(request, outcome_default=Outcome.FAIL)
    policies = list(SecurityPolicy.objects.filter(enabled=True).order_by("name"))
    shown = [p for p in policies if not chosen.policy_id or p.pk == chosen.policy_id]
    results = _results(chosen)
    if chosen.outcome:
        results = results.filter(outcome=chosen.outcome)
    listed = (
        _devices(chosen)
        .filter(pk__in=results.values("asset_id"))
        .select_related("assigned_to__department")
    )
    page = page_of(request, listed.order_by("tag", "hostname", "pk"))
    by_asset: dict[int, list[PolicyResult]] = defaultdict(list)
    for result in (
        results.filter(asset_id__in=[a.pk for a in page.object_list])
        .select_related("policy")
        .order_by("policy__name")
    ):
        by_asset[result.asset_id].append(result)
    today = timezone.localdate()
    rows = trend(
        department=chosen.department, policy_id=chosen.policy_id, days=chosen.days, today=today
    )
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "assets/compliance.html",
        {
            "chosen": chosen,
            "page": page,
            "device_rows": [(a, by_asset.get(a.pk, [])) for a in page.object_list],
            "matrix": _matrix(chosen, shown),
            "policies": policies,
            "shown_policies": shown,
            "departments": people_queries.departments(),
            "types": AssetType.objects.all(),
            "outcomes": OUTCOME_CHOICES,
            "trend_days": TREND_DAYS,
            "trend": rows,
            "trend_points": trend_points(rows, days=chosen.days, today=today),
            "query": kept.urlencode(),
        },
    )


def _csv_row(result: PolicyResult) -> list[Any]:
    asset = result.asset
    person = asset.assigned_to
    department = person.department.name if person and person.department else ""
    return [
        asset.tag,
        asset.hostname,
        asset.asset_type.name if asset.asset_type else "",
        department,
        result.policy.name,
        result.policy.severity,
        result.outcome,
        result.reason,
        result.since.isoformat(),
        result.checked_at.isoformat(),
    ]


@require_GET
@staff_required
def compliance_export(request: HttpRequest) -> HttpResponseBase:
    """The results with the report's filters (any result unless ?outcome=), as CSV, streamed
    through core's formula guard."""
    chosen = Chosen.of(request, outcome_default="")
    results = _results(chosen)
    if chosen.outcome:
        results = results.filter(outcome=chosen.outcome)
    results = results.select_related(
        "policy", "asset__asset_type", "asset__assigned_to__department"
    ).order_by("asset__tag", "asset__hostname", "asset_id", "policy__name")
    rows = (_csv_row(r) for r in results.iterator(chunk_size=500))
    return csv_response("tierline-compliance.csv", CSV_HEADER, rows)


def checks_of(asset: Asset) -> list[PolicyResult]:
    """An asset's current results (the asset page), failures first."""
    order = {Outcome.FAIL: 0, Outcome.UNKNOWN: 1, Outcome.PASS: 2}
    found = list(
        PolicyResult.objects.filter(asset=asset, policy__enabled=True).select_related("policy")
    )
    return sorted(found, key=lambda r: (order.get(r.outcome, 3), r.policy.name))
