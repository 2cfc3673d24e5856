"""The changes API (read only, help desk): change records with their tickets and assets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from tierline.changes import queries
from tierline.changes.api.serializers import ChangeSerializer
from tierline.changes.models import ChangeAsset, ChangeRequest, ChangeTicket
from tierline.core.api import IsStaffMember
from tierline.core.labels import labels_for
from tierline.desk import permissions as perms


@extend_schema_view(
    list=extend_schema(operation_id="list_changes", summary="List change records"),
    retrieve=extend_schema(operation_id="get_change", summary="Read one change record"),
)
@extend_schema(tags=["changes"])
class ChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Change records, newest first; each with the tickets the caller may read and its assets
    by name (tag, hostname, link)."""

    serializer_class = ChangeSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    filter_backends: list = []
    queryset = ChangeRequest.objects.none()

    def get_queryset(self) -> QuerySet[ChangeRequest]:
        return queries.changes_for_list().order_by("-created_at", "-pk")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        rows = args[0] if args else kwargs.get("instance")
        if rows is not None:
            changes = list(rows) if isinstance(rows, list | QuerySet) else [rows]
            kwargs["context"] = {**self.get_serializer_context(), **self._links(changes)}
        return super().get_serializer(*args, **kwargs)

    def _links(self, changes: list[ChangeRequest]) -> dict[str, Any]:
        ids = [c.pk for c in changes]
        asset_links = list(
            ChangeAsset.objects.filter(change_id__in=ids)
            .order_by("asset_id")
            .values_list("change_id", "asset_id")
        )
        labels = labels_for(queries.ASSET, [asset_id for _c, asset_id in asset_links])
        assets: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for change_id, asset_id in asset_links:
            label = labels.get(asset_id)
            assets[change_id].append(
                {
                    "id": asset_id,
                    "label": label.text if label else None,
                    "detail": label.detail if label else "",
                    "url": label.url if label else None,
                }
            )
        visible = perms.visible_tickets(self.request.user)
        tickets: dict[int, list[str]] = defaultdict(list)
        for change_id, number in (
            ChangeTicket.objects.filter(change_id__in=ids, ticket__in=visible)
            .order_by("ticket_id")
            .values_list("change_id", "ticket__number")
        ):
            tickets[change_id].append(number)
        return {"assets": dict(assets), "tickets": dict(tickets)}
