"""The impact × urgency matrix: what priority each pair gives a new ticket."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.core.history import record
from tierline.desk.choices import Level, Priority
from tierline.desk.defaults import DEFAULT_MATRIX
from tierline.desk.models import PriorityRule
from tierline.people.models import User

Cell = tuple[int, int]  # (impact, urgency)


def cell_name(impact: int, urgency: int) -> str:
    """A cell as a person reads it, in errors and history: “High impact × Low urgency”."""
    return f"{Level(impact).label} impact × {Level(urgency).label} urgency"


def priority_matrix() -> dict[Cell, int]:
    """Every cell: as configured, else the default (a cell an administrator deleted)."""
    configured = {
        (impact, urgency): priority
        for impact, urgency, priority in PriorityRule.objects.values_list(
            "impact", "urgency", "priority"
        )
    }
    return {cell: configured.get(cell, default) for cell, default in DEFAULT_MATRIX.items()}


@transaction.atomic
def set_priority_matrix(*, cells: Mapping[Cell, object], by: User) -> list[Cell]:
    """Set the whole matrix at once: every impact × urgency cell must be given a priority.

    Refuses (ValidationError naming each bad cell, nothing saved) a missing cell, an unknown
    pair or a priority that isn't one. Writes one history entry per changed cell, on that
    cell's row. Returns the cells that changed.
    """
    errors: dict[str, str] = {}
    wanted: dict[Cell, int] = {}
    for cell in DEFAULT_MATRIX:
        value = cells.get(cell)
        try:
            priority = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            priority = 0
        if priority not in Priority.values:
            errors[f"cell_{cell[0]}_{cell[1]}"] = f"Choose a priority for {cell_name(*cell)}."
        else:
            wanted[cell] = priority
    unknown = set(cells) - set(DEFAULT_MATRIX)
    if unknown:
        errors["__all__"] = "The matrix has only high, medium and low impact and urgency."
    if errors:
        raise ValidationError(errors)
    rows = {(rule.impact, rule.urgency): rule for rule in PriorityRule.objects.select_for_update()}
    changed: list[Cell] = []
    for cell, priority in wanted.items():
        rule = rows.get(cell)
        old = rule.priority if rule else DEFAULT_MATRIX[cell]
        if rule is None:
            rule = PriorityRule.objects.create(impact=cell[0], urgency=cell[1], priority=priority)
        elif rule.priority != priority:
            rule.priority = priority
            rule.save(update_fields=["priority"])
        if old != priority:
            changed.append(cell)
            record(
                rule,
                by,
                "changed",
                field="priority",
                old=Priority(old).label,
                new=Priority(priority).label,
                summary=cell_name(*cell),
            )
    return changed
