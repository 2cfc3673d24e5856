"""Fields an app adds to another app's API objects without that app importing it.

The desk's ticket answer carries the sla app's `sla_state` and due times, yet the desk never
imports sla: sla registers the fields from its AppConfig.ready, naming the object ("target"):

    register_extra_fields(
        "desk.ticket",
        "sla",
        fields=lambda: {"sla_state": serializers.ChoiceField(choices=..., allow_null=True)},
        values=lambda ticket_ids: {pk: {"sla_state": ...} for pk in ticket_ids},
    )

The owning app asks `extra_values(target, ids)` once per answer (one call for a whole list
page, never one per row), formats each value with its field, and documents the fields in its
schema (`extra_fields(target)`). A failing `values` is logged and its fields answered as null:
one broken app must not take the ticket API down. Fields are read-only and nullable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

logger = logging.getLogger(__name__)

FieldsFn = Callable[[], dict[str, serializers.Field]]
ValuesFn = Callable[[list[int]], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class ExtraFields:
    target: str
    name: str
    fields: FieldsFn
    values: ValuesFn


_registry: dict[str, dict[str, ExtraFields]] = {}
_built: dict[str, dict[str, serializers.Field]] = {}


def register_extra_fields(target: str, name: str, *, fields: FieldsFn, values: ValuesFn) -> None:
    """Add read-only fields to `target`'s API answers. Registering `name` again replaces it."""
    if not callable(fields) or not callable(values):
        raise TypeError("fields and values must be callables.")
    apps = _registry.setdefault(target, {})
    previous = apps.get(name)
    apps[name] = ExtraFields(target, name, fields, values)
    _built.pop(target, None)
    try:
        extra_fields(target)  # two apps adding one name is refused now, not on a request
    except ValueError:
        if previous is None:
            apps.pop(name)
        else:
            apps[name] = previous
        _built.pop(target, None)
        raise


def unregister_extra_fields(target: str, name: str) -> None:
    _registry.get(target, {}).pop(name, None)
    _built.pop(target, None)


def extra_fields(target: str) -> dict[str, serializers.Field]:
    """{field name: a read-only field} of every app's extras for `target`, built once."""
    built = _built.get(target)
    if built is None:
        built = {}
        for extra in _registry.get(target, {}).values():
            for field_name, field in extra.fields().items():
                if field_name in built:
                    raise ValueError(f"Two apps add the field {field_name!r} to {target}.")
                field.bind(field_name, serializers.Serializer())
                built[field_name] = field
        _built[target] = built
    return built


def extra_values(target: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{id: {field: JSON-ready value}} for these objects: every registered field, null when an
    app has no value for an object (or failed, which is logged)."""
    ids = list(ids)
    fields = extra_fields(target)
    out: dict[int, dict[str, Any]] = {pk: dict.fromkeys(fields) for pk in ids}
    if not ids:
        return out
    for extra in _registry.get(target, {}).values():
        try:
            found = extra.values(ids)
        except Exception:
            logger.exception(
                "Extra API fields %s of %s failed; answered as null", extra.name, target
            )
            continue
        for pk, values in found.items():
            row = out.get(pk)
            if row is None:
                continue
            for field_name, value in values.items():
                if field_name in fields:
                    row[field_name] = (
                        None if value is None else fields[field_name].to_representation(value)
                    )
    return out
