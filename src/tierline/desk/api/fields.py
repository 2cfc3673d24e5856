"""Reference fields of the desk API that know the desk's rules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tierline.core.inputs import lookup_text
from tierline.desk import permissions as perms


@extend_schema_field(OpenApiTypes.STR)
class TicketRefField(serializers.Field):
    """A ticket given by its number (TL-000123), among those the caller may read."""

    default_error_messages = {"unknown": "No ticket “{value}”.", "invalid": "Give a ticket number."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data.strip() or len(data) > 20:
            self.fail("invalid")
        if lookup_text(data) is None:
            self.fail("invalid")
        ticket = perms.visible_tickets(self.context["request"].user).filter(number=data).first()
        if ticket is None:
            self.fail("unknown", value=data)
        return ticket

    def to_representation(self, value: Any) -> str:
        return value.number
