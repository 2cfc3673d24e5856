"""Columns, sort keys and filters an app adds to another app's list without that app importing it.

The desk's queue shows the sla app's countdown, sorts by the next due time and filters "breaching
in the next hour", yet the desk never imports sla: sla registers a column from its
AppConfig.ready, naming the list ("target"):

    register_column(
        "desk.ticket",
        ListColumn(
            name="sla",
            header="Due",
            cells=lambda ids: {pk: "<span>due in 35 min</span>" for pk in ids},  # one query
            sort=lambda descending: (F("sla_clock__next_due").asc(nulls_last=True),),
            filter_choices=(("soon", "Breaching in the next hour"), ("breached", "Breached")),
            filter=lambda queryset, value: queryset.filter(pk__in=Subquery(...)),
        ),
    )

The list (core.lists.ListSpec with `extras="desk.ticket"`) accepts `sort=<name>` and
`-<name>` for a column with a sort, and `<name>=<choice>` for a column with a filter; the page
asks `cells(target, ids)` once (one call per column for the whole page, never one per row). A
sort and a filter are expressions over the list's model (an annotation, a subquery) that an
index of the column's app serves. Cells are HTML the column's app has escaped. A failing `cells`
is logged and its cells left empty: one broken app must not take the queue down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

CellsFn = Callable[[list[int]], dict[int, str]]
SortFn = Callable[[bool], tuple[Any, ...]]
FilterFn = Callable[[QuerySet, str], QuerySet]


@dataclass(frozen=True)
class ListColumn:
    """One app's column of a list: header, cells (one query per page), optional sort and filter."""

    name: str
    header: str
    cells: CellsFn
    # The ORDER BY of `sort=<name>` (descending for `-<name>`); end it with a unique tie-break.
    sort: SortFn | None = None
    sort_label: str = ""
    # `<name>=<value>` keeps the rows `filter(queryset, value)` keeps; value one of the choices.
    filter: FilterFn | None = None
    filter_label: str = ""
    filter_choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)


_registry: dict[str, dict[str, ListColumn]] = {}


def register_column(target: str, column: ListColumn) -> None:
    """Add a column to `target`'s lists. Registering a name again replaces it."""
    if not column.name or not column.name.isidentifier():
        raise ValueError(f"A column's name is its query key: {column.name!r} is not one.")
    if column.filter is not None and not column.filter_choices:
        raise ValueError("A column's filter needs its choices.")
    _registry.setdefault(target, {})[column.name] = column


def unregister_column(target: str, name: str) -> None:
    _registry.get(target, {}).pop(name, None)


def columns(target: str) -> list[ListColumn]:
    return list(_registry.get(target, {}).values())


def sort_names(target: str) -> list[str]:
    """Every `sort=` value the columns add (name and -name)."""
    names = []
    for column in columns(target):
        if column.sort is not None:
            names += [column.name, f"-{column.name}"]
    return names


def ordering(target: str, name: str) -> tuple[Any, ...] | None:
    """The ORDER BY of a column's sort name, or None when no column has it."""
    column = _registry.get(target, {}).get(name.removeprefix("-"))
    if column is None or column.sort is None:
        return None
    return column.sort(name.startswith("-"))


def apply_filters(
    target: str, queryset: QuerySet, params: Mapping[str, Any]
) -> tuple[QuerySet, dict[str, list[str]]]:
    """The rows the columns' filters keep, and {key: messages} of values no choice has."""
    errors: dict[str, list[str]] = {}
    for column in columns(target):
        if column.filter is None:
            continue
        value = params.get(column.name)
        if value in (None, ""):
            continue
        allowed = {choice for choice, _ in column.filter_choices}
        if value not in allowed:
            errors[column.name] = [
                f"Select a valid choice: {', '.join(sorted(allowed))}; "
                f"“{str(value)[:40]}” is not one."
            ]
            continue
        queryset = column.filter(queryset, value)
    return queryset, errors


@dataclass(frozen=True)
class PageColumn:
    """A column as a page shows it: header, its cells by id, its filter and sort."""

    column: ListColumn
    cells: dict[int, SafeString]

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def header(self) -> str:
        return self.column.header

    def cell(self, pk: int) -> SafeString:
        return self.cells.get(pk, mark_safe(""))


def page_columns(target: str, ids: Iterable[int]) -> list[PageColumn]:
    """Each column with its cells for these ids: one `cells` call per column."""
    ids = list(ids)
    out = []
    for column in columns(target):
        cells: dict[int, SafeString] = {}
        if ids:
            try:
                # The column's app escaped what it returns (its cells are its templates' output).
                cells = {pk: mark_safe(html) for pk, html in column.cells(ids).items()}  # noqa: S308
            except Exception:
                logger.exception("Column %s of %s failed; left empty", column.name, target)
        out.append(PageColumn(column, cells))
    return out


def choices_for(target: str, base: Sequence[str]) -> list[tuple[str, str]]:
    """The sort choices of a FilterSet: the list's own and its columns'."""
    return [(name, name) for name in [*base, *sort_names(target)]]
