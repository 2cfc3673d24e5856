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
    }


def _values(ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        pk: {
            "sla_state": targets.state,
            "first_response_due": targets.first_response_due,
            "resolution_due": targets.resolution_due,
        }
        for pk, targets in targets_for(ticket_ids).items()
    }


register_extra_fields("desk.ticket", "sla", fields=_fields, values=_values)
