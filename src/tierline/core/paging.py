"""Paging long lists without paying for the rows a page skips."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def page_of(request: HttpRequest, queryset: QuerySet, per_page: int | None = None) -> Page:
    """The page named by ?page= (bad or out-of-range values give the first or last page).

    The page's ids are chosen first from the bare query, then only those rows are loaded with
    their joins. With OFFSET, a database would otherwise join every skipped row: page 200 of a
    queue would join 5,000 tickets to their requesters, teams and assignees to show 25.
    """
    per_page = per_page or settings.TIERLINE["PAGE_SIZE"]
    paginator = Paginator(queryset.values_list("pk", flat=True), per_page)
    page = paginator.get_page(request.GET.get("page"))
    ids = list(page.object_list)
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)} if ids else {}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page
