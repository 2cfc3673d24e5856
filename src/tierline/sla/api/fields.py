"""The sla app's fields on the desk's ticket answers (through core.api_extras)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tierline.core.api_extras import register_extra_fields
from tierline.sla.queries import State, targets_for


def _fields() -> dict[str, serializers.Field]:
    return {
        "sla_state": serializers.ChoiceField(
            choices=list(State.ALL),
            allow_null=True,
            read_only=True,
            help_text="Service target state: on_track, at_risk (past the policy's share of a "
            "target), breached, paused (waiting on the requester or a third party) or met "
            "(resolved within its targets); null when no policy applies.",
        ),
        "first_response_due": serializers.DateTimeField(
            allow_null=True,
            read_only=True,
            help_text="When the first response is due (ISO 8601); null without that target.",
        ),
        "resolution_due": serializers.DateTimeField(
            allow_null=True,
            read_only=True,
            help_text="When resolution is due (ISO 8601); null without that target. While "
            "paused, the due time of the moment it paused.",
        ),
        **_figure_fields(),
    }


def _seconds(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, read_only=True, help_text=help_text)


def _figure_fields() -> dict[str, serializers.Field]:
    return {
        "first_response_seconds": _seconds(
            "Seconds from opening to the desk's first public answer; null until then."
        ),
        "first_response_business_seconds": _seconds(
            "The same in business time, by the policy's calendar; null without one."
        ),
        "resolution_seconds": _seconds(
            "Seconds from opening to resolution; null while open (a reopen clears it)."
        ),
        "resolution_business_seconds": _seconds(
            "Business time the clock ran until resolution (waiting on the requester or a "
            "third party left out); null while open or without a calendar."
        ),
        "reopen_count": serializers.IntegerField(
            allow_null=True, read_only=True, help_text="How often it was reopened."
        ),
        "first_contact_resolution": serializers.BooleanField(
            allow_null=True,
            read_only=True,
            help_text="Resolved with at most one answer from the help desk and never "
            "reopened; null while open.",
        ),
        "breached": serializers.BooleanField(
            allow_null=True, read_only=True, help_text="A service target was missed."
        ),
    }


def _figures(clock: Any) -> dict[str, Any]:
    if clock is None:
        return {}
    return {
        "first_response_seconds": clock.first_response_seconds,
        "first_response_business_seconds": clock.first_response_business_seconds,
        "resolution_seconds": clock.resolution_seconds,
        "resolution_business_seconds": clock.resolution_business_seconds,
        "reopen_count": clock.reopen_count,
        "first_contact_resolution": clock.first_contact_resolution,
        "breached": clock.breached,
    }


def _values(ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        pk: {
            "sla_state": targets.state,
            "first_response_due": targets.first_response_due,
            "resolution_due": targets.resolution_due,
            **_figures(targets.clock),
        }
        for pk, targets in targets_for(ticket_ids).items()
    }


register_extra_fields("desk.ticket", "sla", fields=_fields, values=_values)
