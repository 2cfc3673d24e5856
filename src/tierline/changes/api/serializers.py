"""What the changes API shows: a change record with its tickets and its assets by name."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tierline.changes.models import ChangeRequest


class LinkedAssetSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    label = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The asset's tag (or hostname, or serial); null when it is no longer there.",
    )
    detail = serializers.CharField(read_only=True, allow_blank=True)
    url = serializers.CharField(read_only=True, allow_null=True)


class ChangeSerializer(serializers.ModelSerializer):
    """`assets` names come from the assets app through core.labels, one query per answer."""

    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    owner = serializers.CharField(
        source="owner.username", read_only=True, allow_null=True, default=None
    )
    url = serializers.SerializerMethodField()
    tickets = serializers.SerializerMethodField()
    assets = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "risk",
            "status",
            "window_start",
            "window_end",
            "requested_by",
            "owner",
            "created_at",
            "updated_at",
            "url",
            "tickets",
            "assets",
        ]
        read_only_fields = fields

    def get_url(self, change: ChangeRequest) -> str:
        return f"/changes/{change.pk}/"

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tickets(self, change: ChangeRequest) -> list[str]:
        return self.context.get("tickets", {}).get(change.pk, [])

    @extend_schema_field(LinkedAssetSerializer(many=True))
    def get_assets(self, change: ChangeRequest) -> list[dict[str, Any]]:
        return self.context.get("assets", {}).get(change.pk, [])
