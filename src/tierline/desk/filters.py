"""The FilterSets of the desk's lists (tickets, work orders, calls) and the orders each allows.

One FilterSet per list, used by the HTML page and the API alike through desk/lists.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.fields import ModelMultipleChoiceField

from tierline.core import list_columns, search
from tierline.core.inputs import BoundedDateField, IdValuesMixin, parse_id
from tierline.core.lists import Ordering
from tierline.desk.models import Call, Category, Channel, Level, Priority, Status, Ticket, WorkOrder
from tierline.people import queries as directory

# Every order a list allows is served by an index (named here; tests/desk/test_lists.py asks
# PostgreSQL for each plan and finds no Sort), and ends with the id as its tie-break so a page is
# a walk along the index. Within a queue (team or assignee, open only) the queue indexes serve
# "priority"; over every ticket, ticket_priority_idx does.
TICKET_ORDERINGS = {
    "priority": Ordering(("priority", "created_at", "pk"), "ticket_priority_idx", "Priority"),
    "-priority": Ordering(("-priority", "-created_at", "-pk"), "ticket_priority_idx"),
    "created": Ordering(("created_at", "pk"), "ticket_created_idx", "Oldest first"),
    "-created": Ordering(("-created_at", "-pk"), "ticket_created_idx", "Newest first"),
    "updated": Ordering(("updated_at", "pk"), "ticket_updated_idx"),
    "-updated": Ordering(("-updated_at", "-pk"), "ticket_updated_idx", "Recently updated"),
    "number": Ordering(("pk",), "desk_ticket_pkey", "Number"),
    "-number": Ordering(("-pk",), "desk_ticket_pkey"),
}
# The name other apps register the tickets' extra columns under (core.list_columns).
TICKET_EXTRAS = "desk.ticket"
DEFAULT_SORT = "priority"  # priority, then oldest first: the order a queue is worked in


class _IdsField(IdValuesMixin, ModelMultipleChoiceField):
    pass


class IdsFilter(filters.ModelMultipleChoiceFilter):
    """Several records by id; an id no database integer holds is an invalid choice, not a 500."""

    field_class = _IdsField


class DateFilter(filters.DateFilter):
    """A date between 1970 and 2999 (core.inputs), else a clear error."""

    field_class = BoundedDateField


class TicketFilter(filters.FilterSet):
    """Filters of the queue. `q` searches the text (see filter_text)."""

    q = filters.CharFilter(method="filter_text", label="Text")
    # distinct=False: no filter here joins a many-valued relation, so rows never repeat, and a
    # DISTINCT over every column would make the queue's count scan the whole result.
    status = filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    open = filters.BooleanFilter(field_name="is_open", label="Open")
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    impact = filters.ChoiceFilter(choices=Level.choices)
    urgency = filters.ChoiceFilter(choices=Level.choices)
    tier = filters.MultipleChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")], distinct=False)
    team = IdsFilter(queryset=directory.teams(), distinct=False)
    assignee = filters.ModelChoiceFilter(queryset=directory.desk_people())
    unassigned = filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label="Unassigned"
    )
    category = filters.ModelChoiceFilter(queryset=Category.objects.all(), method="filter_category")
    requester = filters.ModelChoiceFilter(queryset=directory.everyone())
    channel = filters.ChoiceFilter(choices=Channel.choices)
    created_after = DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from"
    )
    created_before = DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until"
    )
    updated_after = DateFilter(
        field_name="updated_at", lookup_expr="date__gte", label="Updated from"
    )
    updated_before = DateFilter(
        field_name="updated_at", lookup_expr="date__lte", label="Updated until"
    )
    # The order is applied by the list spec (desk/lists.py); the field validates its name.
    # Other apps' columns add sorts (core.list_columns): read when the form is built.
    sort = filters.ChoiceFilter(
        choices=lambda: list_columns.choices_for(TICKET_EXTRAS, list(TICKET_ORDERINGS)),
        method="keep",
        label="Sort",
        empty_label=None,
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        """The search index's match (core.search, registered by the knowledge app): words in
        any order and form, replies, notes for technicians, the requester; without it, one
        substring of number, subject or description."""
        value = value.strip()
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        indexed = search.ticket_text_filter(value, user)
        if indexed is not None:
            return queryset.filter(indexed)
        return queryset.filter(
            Q(number__iexact=value) | Q(subject__icontains=value) | Q(description__icontains=value)
        )

    def filter_category(
        self, queryset: QuerySet[Ticket], name: str, value: Category
    ) -> QuerySet[Ticket]:
        """A category matches itself and everything below it."""
        if value is None:
            return queryset
        ids = {value.pk}
        frontier = [value.pk]
        while frontier:
            frontier = list(
                Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return queryset.filter(category_id__in=ids)

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset


def _person(field_name: str) -> filters.CharFilter:
    """A person by username or by id (as the API's person fields take them)."""

    def filter_person(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        pk = parse_id(value)
        wanted = Q(**{f"{field_name}__username": value})
        if pk is not None:
            wanted |= Q(**{f"{field_name}_id": pk})
        return queryset.filter(wanted)

    return filters.CharFilter(method=filter_person, label="Technician", max_length=150)


WORK_ORDER_ORDERINGS = {
    "scheduled": Ordering(("scheduled_start", "pk"), "workorder_start_idx", "Earliest first"),
    "-scheduled": Ordering(("-scheduled_start", "-pk"), "workorder_start_idx", "Latest first"),
}


class WorkOrderFilter(filters.FilterSet):
    """Filters of the work-order lists: the API's and a technician's day."""

    status = filters.MultipleChoiceFilter(choices=WorkOrder.Status.choices, distinct=False)
    ticket = filters.CharFilter(field_name="ticket__number", label="Ticket number", max_length=20)
    technician = _person("technician")
    date = DateFilter(method="filter_day", label="Day")
    sort = filters.ChoiceFilter(
        choices=[(k, k) for k in WORK_ORDER_ORDERINGS], method="keep", empty_label=None
    )

    class Meta:
        model = WorkOrder
        fields: list[str] = []

    def filter_day(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        low, high = day_bounds(value, value)
        return queryset.filter(scheduled_start__gte=low, scheduled_start__lt=high)

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset


CALL_ORDERINGS = {
    "-started": Ordering(("-started_at", "-pk"), "call_started_idx", "Latest first"),
    "started": Ordering(("started_at", "pk"), "call_started_idx", "Earliest first"),
}


class CallFilter(filters.FilterSet):
    """Filters of the call lists (HTML and API)."""

    outcome = filters.ChoiceFilter(choices=Call.Outcome.choices)
    ticket = filters.CharFilter(field_name="ticket__number", label="Ticket number", max_length=20)
    technician = _person("technician")
    date = DateFilter(method="filter_day", label="Day")
    start = DateFilter(method="filter_from", label="From")
    end = DateFilter(method="filter_until", label="Until")
    sort = filters.ChoiceFilter(
        choices=[(k, k) for k in CALL_ORDERINGS], method="keep", empty_label=None
    )

    class Meta:
        model = Call
        fields: list[str] = []

    def filter_day(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        low, high = day_bounds(value, value)
        return queryset.filter(started_at__gte=low, started_at__lt=high)

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__gte=day_bounds(value, value)[0])

    def filter_until(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(started_at__lt=day_bounds(value, value)[1])

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the site's time zone: an index range, where
    `__date` would wrap the column in a function no index serves."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )
