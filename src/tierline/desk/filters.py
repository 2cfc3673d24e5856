"""One FilterSet for the ticket list: the workspace queue and the API both use it."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet
from django_filters.fields import ModelMultipleChoiceField

from tierline.core.inputs import BoundedDateField, IdValuesMixin
from tierline.desk.models import Category, Channel, Level, Priority, Status, Ticket
from tierline.people import queries as directory

SORTS = {
    "priority": ("priority", "created_at", "pk"),
    "-priority": ("-priority", "-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "updated": ("updated_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "number": ("pk",),
    "-number": ("-pk",),
    "subject": ("subject", "pk"),
    "-subject": ("-subject", "-pk"),
    "status": ("status", "priority", "pk"),
    "-status": ("-status", "priority", "pk"),
}
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
    """Filters of the queue. `q` matches number, subject and description."""

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
    sort = filters.ChoiceFilter(
        choices=[(k, k) for k in SORTS], method="filter_sort", label="Sort", empty_label=None
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return queryset
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

    def filter_sort(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.order_by(*SORTS.get(value, SORTS[DEFAULT_SORT]))

    @property
    def qs(self) -> QuerySet[Ticket]:
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*SORTS[DEFAULT_SORT])
        return qs
