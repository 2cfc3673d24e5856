"""The assets app's field on the people the desk's API answers with (core.api_extras): a
person's devices, for the phone system's inbound-call lookup (`GET /api/v1/calls/inbound/`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tierline.assets import queries
from tierline.core.api_extras import register_extra_fields

DEVICES_PER_PERSON = 10


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    tag = serializers.CharField(read_only=True)
    hostname = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True, allow_null=True)
    make_and_model = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _fields() -> dict[str, serializers.Field]:
    return {
        "assets": DeviceSerializer(
            many=True,
            read_only=True,
            allow_null=True,
            help_text="The devices assigned to the person (at most 10), from the inventory.",
        )
    }


def _values(person_ids: list[int]) -> dict[int, dict[str, Any]]:
    devices = queries.assets_of_people(person_ids, limit=DEVICES_PER_PERSON)
    return {
        pk: {
            "assets": [
                {
                    "id": a.pk,
                    "tag": a.tag,
                    "hostname": a.hostname,
                    "type": str(a.asset_type) if a.asset_type_id else None,
                    "make_and_model": f"{a.make} {a.model}".strip(),
                    "status": a.status,
                    "last_seen_at": a.last_seen_at,
                }
                for a in devices.get(pk, [])
            ]
        }
        for pk in person_ids
    }


def register() -> None:
    register_extra_fields("people.person", "assets", fields=_fields, values=_values)
