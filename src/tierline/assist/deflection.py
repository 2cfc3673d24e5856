"""Self-service: an employee says a suggested article solved their problem before sending a
request. No ticket is opened (nothing for the desk to triage, work or close); an
`assist.Deflection` row counts it, with the category they had chosen. The report divides, per
category and period, those by themselves plus the requests sent from the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count

from tierline.assist.models import Deflection, Embedding
from tierline.core.articles import article_texts
from tierline.core.text import normalise_text
from tierline.desk.choices import Channel
from tierline.desk.models import Category, Ticket

SUBJECT_MAX = 200


@transaction.atomic
def record_deflection(
    *, by: Any, article_id: int, subject: str = "", category: Category | None = None
) -> Deflection:
    """Count a request the employee did not need to send: `article_id` solved it."""
    if not getattr(by, "is_authenticated", False):
        raise PermissionDenied("Sign in first.")
    found = article_texts([article_id])
    if not found or not found[0].is_public:
        raise ValidationError("That article is not there any more.")
    subject = " ".join(normalise_text(subject or "", label="The subject").split())[:SUBJECT_MAX]
    if category is not None and not category.is_active:
        category = None
    return Deflection.objects.create(
        person=by,
        category=category,
        subject=subject,
        kind=Embedding.Kind.ARTICLE,
        object_id=article_id,
    )


@dataclass(frozen=True)
class Row:
    category: str
    deflected: int
    requests: int

    @property
    def rate(self) -> float:
        total = self.deflected + self.requests
        return self.deflected / total if total else 0.0


def report(*, start: datetime, end: datetime) -> list[Row]:
    """Per category (and "No category"): deflections and portal requests in [start, end)."""
    deflected = dict(
        Deflection.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    requests = dict(
        Ticket.objects.filter(channel=Channel.PORTAL, created_at__gte=start, created_at__lt=end)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    keys = set(deflected) | set(requests)
    names = dict(
        Category.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "full_name")
    )
    rows = [
        Row(
            category=(names.get(key) or "No category") if key else "No category",
            deflected=deflected.get(key, 0),
            requests=requests.get(key, 0),
        )
        for key in keys
    ]
    return sorted(rows, key=lambda r: (-r.deflected, r.category))
