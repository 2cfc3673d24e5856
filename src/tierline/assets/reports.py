"""Estate reports: the hardware and software status of the whole estate, counted in the
database (GROUP BY and conditional counts, a constant number of queries whatever its size),
shaped for the page (inline SVG bar charts beside tables), the CSV and the PDF
(`assets/pdf.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from tierline.assets import queries
from tierline.assets.models import Asset, AssetType, InstalledSoftware, SoftwareCount, Status
from tierline.people import queries as people_queries

TOP_DEFAULT = 20
TOP_MAX = 200
OS_MAX = 50
NOT_SEEN_MAX = 50
SEARCH_MAX = 100


@dataclass(frozen=True)
class Filters:
    """What the report is narrowed to: the estate by location, the assigned person's
    department and type; the software section by a name search and its length (top N)."""

    location_id: int | None = None
    department_id: int | None = None
    type_id: int | None = None
    software_search: str = ""
    top: int = TOP_DEFAULT


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    detail: str = ""


@dataclass
class Section:
    """One counted view of the estate: a bar chart and a table of the same rows."""

    key: str
    title: str
    rows: list[Row]
    column: str = "Assets"
    count_column: str = "Assets"
    detail_column: str = ""
    note: str = ""

    @property
    def largest(self) -> int:
        return max((row.count for row in self.rows), default=0)

    @property
    def chart(self) -> Chart:
        return Chart.of(self)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: float
    text_y: float
    width: float
    count_x: float


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart's geometry in SVG user units (the template draws it)."""

    bars: list[Bar]
    height: float
    width: float = 600
    label_width: float = 200
    bar_area: float = 330

    BAR = 18
    GAP = 6
    LABEL_CHARS = 30

    @property
    def bar_x(self) -> float:
        return self.label_width + 10

    @classmethod
    def of(cls, section: Section) -> Chart:
        largest = section.largest or 1
        bars = []
        bar_x = 200 + 10
        for n, row in enumerate(section.rows):
            y = n * (cls.BAR + cls.GAP)
            label = row.label
            if len(label) > cls.LABEL_CHARS:
                label = label[: cls.LABEL_CHARS - 1] + "…"
            width = round(330 * row.count / largest, 1)
            bars.append(
                Bar(
                    label=label,
                    count=row.count,
                    y=y,
                    text_y=round(y + cls.BAR * 0.72, 1),
                    width=width,
                    count_x=bar_x + width + 6,
                )
            )
        return cls(bars=bars, height=max(1, len(bars)) * (cls.BAR + cls.GAP))


@dataclass
class NotSeen:
    pk: int
    name: str
    last_seen_at: datetime | None


@dataclass
class EstateReport:
    generated_at: datetime
    filters: Filters
    filter_labels: list[tuple[str, str]]
    total: int
    sections: list[Section] = field(default_factory=list)
    not_seen: list[NotSeen] = field(default_factory=list)
    offline_hours: int = 72

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _narrowed(queryset: QuerySet[Any], filters: Filters, prefix: str = "") -> QuerySet[Any]:
    if filters.location_id:
        queryset = queryset.filter(**{f"{prefix}location_id": filters.location_id})
    if filters.department_id:
        queryset = queryset.filter(**{f"{prefix}assigned_to__department_id": filters.department_id})
    if filters.type_id:
        queryset = queryset.filter(**{f"{prefix}asset_type_id": filters.type_id})
    return queryset


def _is_narrowed(filters: Filters) -> bool:
    return bool(filters.location_id or filters.department_id or filters.type_id)


def _filter_labels(filters: Filters) -> list[tuple[str, str]]:
    labels = []
    if filters.location_id:
        found = people_queries.locations().filter(pk=filters.location_id).first()
        labels.append(("Location", str(found) if found else "(none)"))
    if filters.department_id:
        found = people_queries.departments().filter(pk=filters.department_id).first()
        labels.append(("Department", str(found) if found else "(none)"))
    if filters.type_id:
        found = AssetType.objects.filter(pk=filters.type_id).first()
        labels.append(("Type", str(found) if found else "(none)"))
    if filters.software_search:
        labels.append(("Software name contains", filters.software_search))
    return labels


def estate_report(*, filters: Filters, now: datetime, offline_hours: int = 72) -> EstateReport:
    """The estate counted: by type and status, age (from the purchase date), warranty, OS
    and version, software by install count (top N, optionally searched by name) and devices
    not seen recently. Eight counting queries (and one per chosen filter, for its name)."""
    estate = _narrowed(Asset.objects.all(), filters)
    today = now.date()

    # 1. by type
    by_type = [
        Row(label=r["asset_type__name"] or "(no type)", count=r["n"])
        for r in estate.values("asset_type__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "asset_type__name")
    ]
    # 2. by status, in the lifecycle's order, zeros included
    status_counts = {
        r["status"]: r["n"] for r in estate.values("status").annotate(n=Count("pk")).order_by()
    }
    by_status = [
        Row(label=str(label), count=status_counts.get(value, 0)) for value, label in Status.choices
    ]

    # 3. age, warranty and "no OS" in one pass of conditional counts
    one, three, five = (years_before(today, n) for n in (1, 3, 5))
    counts = estate.aggregate(
        total=Count("pk"),
        age_1=Count("pk", filter=Q(purchase_date__gt=one)),
        age_3=Count("pk", filter=Q(purchase_date__lte=one, purchase_date__gt=three)),
        age_5=Count("pk", filter=Q(purchase_date__lte=three, purchase_date__gt=five)),
        age_old=Count("pk", filter=Q(purchase_date__lte=five)),
        age_none=Count("pk", filter=Q(purchase_date__isnull=True)),
        w_expired=Count("pk", filter=Q(warranty_end__lt=today)),
        w_30=Count(
            "pk", filter=Q(warranty_end__gte=today, warranty_end__lte=today + timedelta(days=30))
        ),
        w_90=Count(
            "pk",
            filter=Q(
                warranty_end__gt=today + timedelta(days=30),
                warranty_end__lte=today + timedelta(days=90),
            ),
        ),
        w_later=Count("pk", filter=Q(warranty_end__gt=today + timedelta(days=90))),
        w_none=Count("pk", filter=Q(warranty_end__isnull=True)),
        no_os=Count("pk", filter=Q(os_name="")),
    )
    ages = [
        Row("Under 1 year", counts["age_1"]),
        Row("1 to 3 years", counts["age_3"]),
        Row("3 to 5 years", counts["age_5"]),
        Row("Over 5 years", counts["age_old"]),
        Row("No purchase date", counts["age_none"]),
    ]
    warranty = [
        Row("Expired", counts["w_expired"]),
        Row("Ends within 30 days", counts["w_30"]),
        Row("Ends in 31 to 90 days", counts["w_90"]),
        Row("Ends later", counts["w_later"]),
        Row("No warranty date", counts["w_none"]),
    ]

    # 4. operating systems and versions
    os_rows = [
        Row(label=f"{r['os_name']} {r['os_version']}".strip(), count=r["n"])
        for r in estate.exclude(os_name="")
        .values("os_name", "os_version")
        .annotate(n=Count("pk"))
        .order_by("-n", "os_name", "os_version")[:OS_MAX]
    ]

    # 5. software by install count. The whole estate reads the stored counts
    # (`assets.SoftwareCount`, one row per name and version, kept as the agent reports), so
    # its cost follows the number of distinct packages, not devices x packages; a report
    # narrowed by location, department or type counts the software rows live (a hash
    # aggregate, then the versions of those top N only: COUNT(DISTINCT version) over every
    # row would make the database sort them all).
    if _is_narrowed(filters):
        software = _narrowed(InstalledSoftware.objects.all(), filters, prefix="asset__")
        if filters.software_search:
            software = software.filter(name__icontains=filters.software_search)
        top = list(
            software.values("name").annotate(n=Count("pk")).order_by("-n", "name")[: filters.top]
        )
        versions = {
            r["name"]: r["versions"]
            for r in software.filter(name__in=[r["name"] for r in top])
            .values("name")
            .annotate(versions=Count("version", distinct=True))
            .order_by()
        }
    else:
        stored = SoftwareCount.objects.filter(installs__gt=0)
        if filters.software_search:
            stored = stored.filter(name__icontains=filters.software_search)
        top = list(
            stored.values("name")
            .annotate(n=Sum("installs"), versions=Count("pk"))
            .order_by("-n", "name")[: filters.top]
        )
        versions = {r["name"]: r["versions"] for r in top}
    software_rows = []
    for r in top:
        count = versions.get(r["name"], 0)
        software_rows.append(
            Row(label=r["name"], count=r["n"], detail=f"{count} version{'s' if count != 1 else ''}")
        )

    # 6. devices by when they last reported; 7. those not seen for `offline_hours`
    devices = _narrowed(queries.devices(), filters)
    day = timedelta(days=1)
    seen = devices.aggregate(
        d1=Count("pk", filter=Q(last_seen_at__gte=now - day)),
        d7=Count("pk", filter=Q(last_seen_at__lt=now - day, last_seen_at__gte=now - 7 * day)),
        d30=Count("pk", filter=Q(last_seen_at__lt=now - 7 * day, last_seen_at__gte=now - 30 * day)),
        older=Count("pk", filter=Q(last_seen_at__lt=now - 30 * day)),
        never=Count("pk", filter=Q(last_seen_at__isnull=True)),
    )
    last_seen = [
        Row("In the last 24 hours", seen["d1"]),
        Row("1 to 7 days ago", seen["d7"]),
        Row("7 to 30 days ago", seen["d30"]),
        Row("Over 30 days ago", seen["older"]),
        Row("Never", seen["never"]),
    ]
    cutoff = now - timedelta(hours=offline_hours)
    not_seen = [
        NotSeen(pk=a.pk, name=str(a), last_seen_at=a.last_seen_at)
        for a in devices.filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True))
        .select_related(None)
        .only("pk", "tag", "hostname", "serial")
        .order_by(F("last_seen_at").asc(nulls_last=True), "pk")[:NOT_SEEN_MAX]
    ]

    what = "installed software"
    if filters.software_search:
        what += f" whose name contains “{filters.software_search}”"
    sections = [
        Section("type", "Assets by type", by_type, column="Type"),
        Section("status", "Assets by status", by_status, column="Status"),
        Section("age", "Age (from the purchase date)", ages, column="Age"),
        Section("warranty", "Warranty", warranty, column="Warranty"),
        Section(
            "os",
            "Operating systems",
            os_rows,
            column="OS and version",
            note=f"{counts['no_os']} asset{'s' if counts['no_os'] != 1 else ''} with no OS reported.",
        ),
        Section(
            "software",
            f"Software by install count (top {filters.top})",
            software_rows,
            column="Package",
            count_column="Installs",
            detail_column="Versions",
            note=f"The {filters.top} most installed: {what}.",
        ),
        Section(
            "last_seen",
            "Devices by last report",
            last_seen,
            column="Last report",
            count_column="Devices",
        ),
    ]
    return EstateReport(
        generated_at=now,
        filters=filters,
        filter_labels=_filter_labels(filters),
        total=counts["total"],
        sections=sections,
        not_seen=not_seen,
        offline_hours=offline_hours,
    )


CSV_HEADER = ["section", "label", "count", "detail"]


def csv_rows(report: EstateReport) -> Iterator[list[Any]]:
    """The report as rows of (section, label, count, detail): the caller streams them through
    `core.csv_export` (the formula guard)."""
    yield ["summary", "Assets", report.total, ""]
    for label, value in report.filter_labels:
        yield ["filter", label, "", value]
    for section in report.sections:
        for row in section.rows:
            yield [section.title, row.label, row.count, row.detail]
    for device in report.not_seen:
        yield [
            f"Not seen for {report.offline_hours} hours",
            device.name,
            "",
            device.last_seen_at.isoformat() if device.last_seen_at else "never",
        ]
