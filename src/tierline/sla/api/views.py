"""The service-target API: what falls due soon, for the help desk (GET /api/v1/sla/due/)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tierline.core.api import IsStaffMember
from tierline.desk import permissions as perms
from tierline.sla.queries import DUE_SOON_LIMIT, State, due_soon

MAX_WITHIN = 7 * 24 * 60


class DueTicketSerializer(serializers.Serializer):
    number = serializers.CharField(read_only=True)
    sla_state = serializers.ChoiceField(choices=list(State.ALL), read_only=True)
    next_due = serializers.DateTimeField(read_only=True)
    first_response_due = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due = serializers.DateTimeField(read_only=True, allow_null=True)


class DueSoonView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]

    @extend_schema(
        operation_id="list_tickets_due_soon",
        summary="Tickets whose service targets fall due soon",
        description=f"Open tickets you may read with a running target due within `within` "
        f"minutes or already overdue, nearest first (at most {DUE_SOON_LIMIT}).",
        tags=["service targets"],
        parameters=[
            OpenApiParameter(
                "within",
                OpenApiTypes.INT,
                description=f"Minutes from now, 0 to {MAX_WITHIN} (default 60).",
            )
        ],
        responses=inline_serializer(
            "DueSoon", {"results": DueTicketSerializer(many=True, read_only=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("within", "60")
        within = int(raw) if raw.strip().isascii() and raw.strip().isdecimal() else None
        if within is None or within > MAX_WITHIN:
            raise serializers.ValidationError(
                {"within": [f"Give a whole number of minutes from 0 to {MAX_WITHIN}."]}
            )
        user = request.user

        def readable(ids: list[int]) -> list[int]:
            return list(perms.visible_tickets(user).filter(pk__in=ids).values_list("pk", flat=True))

        found = due_soon(readable, within_minutes=within)
        numbers = dict(
            perms.visible_tickets(user)
            .filter(pk__in=[t.clock.ticket_id for t in found])
            .values_list("pk", "number")
        )
        rows: list[dict[str, Any]] = [
            {
                "number": numbers[t.clock.ticket_id],
                "sla_state": t.state,
                "next_due": t.next_due,
                "first_response_due": t.first_response_due,
                "resolution_due": t.resolution_due,
            }
            for t in found
        ]
        return Response({"results": DueTicketSerializer(rows, many=True).data})
