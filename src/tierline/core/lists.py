"""One way to build a list: what may be seen, filtered, in an order an index serves, a page at a time.

A list is declared once (NetBox style) as a `ListSpec`: the visibility function that says what a
user may see, the FilterSet of its query string, the orderings it allows (each named with the
index that serves it, so no list ever sorts the whole table) and its page size. The HTML pages
and the API build their lists from the same spec:

    page = TICKETS.page(user, request.GET, scope=queue_for(user, "team"))

A page picks its ids first, from the bare filtered and ordered query, and then loads only those
rows with their joins (with OFFSET alone a deep page joined every row it skipped). A list is
either *counted* (the page knows the total and its page numbers: the queues, whose scope is an
open backlog) or *uncounted* (it asks for one row more than a page to know whether another page
follows: at a million tickets, counting what a technician may see costs more than the page).
A counted list counts at most `count_cap` rows (1,000; more when a deeper page is asked): past
that the total is "1,000+" (`CappedPaginator.capped`), since counting every match of a common
word in a lead's whole open backlog cost more than the page itself; the count asks no order.

core imports no app: the specs themselves live with their models (desk/lists.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

import django_filters
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet

from tierline.core import list_columns
from tierline.core.inputs import parse_id

M = TypeVar("M", bound=Model)

# A page number past this is refused (uncounted lists) or clamped (counted ones): OFFSET over an
# index is cheap for hundreds of pages, not for millions of rows.
MAX_PAGE = 10_000
# A counted list counts this many rows at most (the total then reads "1,000+").
COUNT_CAP = 1_000


@dataclass(frozen=True)
class Ordering:
    """One allowed order of a list: its ORDER BY (ending with a unique tie-break) and the index
    whose columns serve it (a test asks PostgreSQL for each list's plan: no Sort node)."""

    fields: tuple[str, ...]
    index: str
    label: str = ""


class ListError(ValueError):
    """The query string asks for something the list cannot give: field -> messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = {key: list(messages) for key, messages in errors.items()}


class CappedPaginator(Paginator):
    """Django's Paginator over a queryset, counting at most `cap` rows (one bounded query:
    `SELECT count(*) FROM (... LIMIT cap + 1)`, without the list's ORDER BY, so the database
    stops at the cap by whatever plan finds rows soonest). Past the cap, `count` is the cap and
    `capped` is True; one more page follows the last counted one, so "next" stays offered.

    A count needs no order, and the ORDER BY cost it: PostgreSQL had to walk the list's order
    index or read and sort every candidate before it could stop. At 1,000,000 tickets
    (bench/search.py, lead's open queue with a text filter) the count was most of the page:
    two common words 63.1 ms median / 75.8 p95 with the order, 20.7 / 26.9 without; rare
    words (one 5,000 tickets hold among them) 112.9 ms p95 with, 82.2 without."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)

    @cached_property
    def num_pages(self) -> int:
        pages = super().num_pages
        return pages + 1 if self.capped else pages


@dataclass
class Window:
    """An uncounted page: the rows, and whether pages come before and after it.

    Shaped like Django's Page where a template or a serializer reads it (number, has_next,
    start_index, ...); there is no paginator, count or page range.
    """

    object_list: list
    number: int
    page_size: int
    more: bool
    paginator: None = None

    def __iter__(self) -> Iterator:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self.more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.object_list)


@dataclass(frozen=True)
class ListSpec(Generic[M]):
    """A declared list: model, visibility, FilterSet, indexed orderings, page size, columns."""

    model: type[M]
    visible: Callable[[Any, QuerySet[M]], QuerySet[M]]
    filterset: type[django_filters.FilterSet]
    orderings: Mapping[str, Ordering]
    default_ordering: str
    # None: the site's TIERLINE["PAGE_SIZE"], read when a page is built.
    page_size: int | None = None
    # What a row of the list shows: select_related for the page's rows only.
    columns: tuple[str, ...] = ()
    # What a row may show that is seldom there (a parent ticket): prefetched, one query only when
    # a row of the page has one. Each join adds to the planning of every page (PostgreSQL
    # planned a ticket page joined to the ticket table twice more in 8-11 ms; 1 ms without).
    prefetched: tuple[str, ...] = ()
    counted: bool = False
    # A counted list counts this many rows at most (see CappedPaginator).
    count_cap: int = COUNT_CAP
    # The query-string key of the order (the FilterSet's field of that name carries its choices).
    ordering_param: str = "sort"
    # Other apps' columns, sorts and filters registered for this name (core.list_columns).
    extras: str = ""

    def __post_init__(self) -> None:
        if self.default_ordering not in self.orderings:
            raise ValueError(f"default ordering {self.default_ordering!r} is not allowed")

    # --- building the query -------------------------------------------------------------------

    def ordering_choices(self) -> list[tuple[str, str]]:
        """For the FilterSet's ordering field: every allowed order, by name."""
        return [(name, o.label or name) for name, o in self.orderings.items()]

    def scoped(self, user: Any, scope: QuerySet[M] | None = None) -> QuerySet[M]:
        """What the user may see, within a scope (a queue, a technician's calls) if given."""
        queryset = self.model._default_manager.all() if scope is None else scope
        return self.visible(user, queryset)

    def filter(
        self,
        user: Any,
        params: Mapping[str, Any],
        *,
        scope: QuerySet[M] | None = None,
        strict: bool = False,
        default_ordering: str | None = None,
    ) -> tuple[QuerySet[M], django_filters.FilterSet]:
        """The visible rows the query string selects, in an allowed order.

        strict (the API): any invalid filter or order raises ListError. Otherwise (HTML pages)
        invalid fields are ignored and the form shows their errors.
        """
        # A filter may ask who is looking (`self.request.user`): the text filter matches
        # internal notes only for the help desk. The page's request is not needed for that.
        filterset = self.filterset(
            params, queryset=self.scoped(user, scope), request=SimpleNamespace(user=user)
        )
        valid = filterset.is_valid()
        if strict and not valid:
            raise ListError(filterset.errors)
        queryset = filterset.qs  # an invalid field filters nothing (django-filter drops it)
        if self.extras:
            queryset, errors = list_columns.apply_filters(self.extras, queryset, params)
            if strict and errors:
                raise ListError(errors)
        name = filterset.form.cleaned_data.get(self.ordering_param)
        name = name or default_ordering or self.default_ordering
        if name not in self.orderings and self.extras:
            extra = list_columns.ordering(self.extras, name)
            if extra is not None:
                return queryset.order_by(*extra), filterset
        if name not in self.orderings:
            name = self.default_ordering
        return queryset.order_by(*self.orderings[name].fields), filterset

    # --- paging -------------------------------------------------------------------------------

    def load(self, ids: list[int]) -> list[M]:
        """Rows of these ids, in this order, with the list's columns: one query.

        By id alone: the ids query already applied visibility and filters, and building them
        again (an EXISTS per row for work orders) cost more than the page's rows. (Plus one query
        per `prefetched` relation that some row of the page has.)
        """
        if not ids:
            return []
        rows = (
            self.model._default_manager.select_related(*self.columns)
            .prefetch_related(*self.prefetched)
            .filter(pk__in=ids)
            .order_by()  # put in the ids' order below: no sort by the model's default order
        )
        found = {row.pk: row for row in rows}
        return [found[pk] for pk in ids if pk in found]

    def paginate(
        self, queryset: QuerySet[M], page: Any, *, page_size: int | None = None
    ) -> Page | Window:
        """The page named by `page` (text from a query string) of an ordered queryset.

        Counted lists clamp bad or out-of-range numbers to the first or last page (as Django's
        get_page does), counting at most `count_cap` rows, or as many as the page asked for
        needs (whole pages, so a capped count ends on a page's end); uncounted ones take a bad
        number as page 1 and answer an empty page past the end.
        """
        size = page_size or self.page_size or settings.TIERLINE["PAGE_SIZE"]
        if self.counted:
            asked = page_number(page) or 1
            cap = max(-(-self.count_cap // size), asked) * size
            paginator = CappedPaginator(queryset.values_list("pk", flat=True), size, cap=cap)
            found = paginator.get_page(page)
            found.object_list = self.load(list(found.object_list))
            return found
        number = page_number(page) or 1
        offset = (number - 1) * size
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + size + 1])
        return Window(
            object_list=self.load(ids[:size]),
            number=number,
            page_size=size,
            more=len(ids) > size,
        )

    def page(
        self,
        user: Any,
        params: Mapping[str, Any],
        *,
        scope: QuerySet[M] | None = None,
        strict: bool = False,
        default_ordering: str | None = None,
    ) -> tuple[Page | Window, django_filters.FilterSet]:
        """Filter, order and page in one call: what a list view needs."""
        queryset, filterset = self.filter(
            user, params, scope=scope, strict=strict, default_ordering=default_ordering
        )
        return self.paginate(queryset, params.get("page")), filterset


def page_number(value: Any) -> int | None:
    """A page number from text: 1..MAX_PAGE, else None."""
    number = parse_id(value if value not in (None, "") else None)
    if number is None or not 1 <= number <= MAX_PAGE:
        return None
    return number
