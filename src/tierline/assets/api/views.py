"""The assets API: finding assets and reading the estate's change log (help desk), and the
agent's enrolment and reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tierline.assets import agent, lists
from tierline.assets.api.authentication import DeviceAuthentication
from tierline.assets.api.serializers import (
    AssetSerializer,
    EnrolledSerializer,
    EnrolSerializer,
    EnvelopeSerializer,
    ReportOutcomeSerializer,
    ReportSerializer,
    SystemChangeSerializer,
    UnchangedReportSerializer,
)
from tierline.assets.filters import SystemChangeFilter
from tierline.assets.models import SystemChange
from tierline.assets.queries import assets_for_list
from tierline.core.api import IsStaffMember, SpecListMixin
from tierline.core.throttling import CallerRateThrottle

SEARCH_MAX = 100


class AssetList(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    serializer_class = AssetSerializer
    filter_backends: list[Any] = []

    @extend_schema(
        operation_id="list_assets",
        summary="Assets",
        description="Assets by tag, newest inventory last; `search` finds a hostname, tag or "
        "serial (exact, any case, or its beginning).",
        tags=["assets"],
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR, description="Hostname, tag or serial.")
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        queryset = assets_for_list().order_by("tag", "hostname", "pk")
        search = (self.request.query_params.get("search") or "").strip()
        if len(search) > SEARCH_MAX:
            raise ValidationError({"search": [f"At most {SEARCH_MAX} characters."]})
        if search:
            queryset = queryset.filter(
                Q(hostname__istartswith=search) | Q(tag__iexact=search) | Q(serial__iexact=search)
            )
        return queryset


@extend_schema_view(
    get=extend_schema(
        operation_id="list_system_changes",
        summary="The estate's change log",
        description="What the endpoint agents saw change between two reports (software "
        "installed, removed or upgraded; operating system, kernel, hostname, memory, CPU; "
        "disks; network interfaces), newest first, for the help desk. Filters: `asset` (its "
        "id), `kind`, `since` (an ISO 8601 moment); an invalid one is a 400 naming it. Read "
        "only: the agent's reports are the log's only writer.",
        tags=["assets"],
        parameters=[OpenApiParameter("asset", OpenApiTypes.INT, description="The asset's id.")],
    )
)
class SystemChangeList(SpecListMixin, generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    serializer_class = SystemChangeSerializer
    filterset_class = SystemChangeFilter
    list_spec = lists.SYSTEM_CHANGES
    queryset = SystemChange.objects.none()


class AgentThrottle(CallerRateThrottle):
    """Per device (or per address, for enrolment): TIERLINE_AGENT_RATE ("off" for none)."""

    scope = "agent"
    credential_prefix = "device"

    def get_rate(self) -> str | None:
        rate = (settings.TIERLINE["AGENT_RATE"] or "").strip()
        return None if rate.lower() in ("", "off") else rate


class IsDevice(permissions.BasePermission):
    message = "Reports are signed with a device credential: `Authorization: Device <credential>`."

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, agent.AgentDevice)


def _refused(error: agent.ReportRefused) -> Response:
    return Response({"detail": str(error)}, status=error.status)


class EnrolView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AgentThrottle]

    @extend_schema(
        operation_id="enrol_agent",
        summary="Enrol an endpoint agent",
        description="Swaps a one-time enrolment token (`tierline agent-token`) for the device's "
        "own credential, shown once.",
        tags=["agent"],
        request=EnrolSerializer,
        responses={201: EnrolledSerializer},
    )
    def post(self, request: Request) -> Response:
        body = EnrolSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            _device, key = agent.enrol(enrolment_key=body.validated_data["token"])
        except agent.ReportRefused as error:
            return _refused(error)
        return Response(
            {"credential": key, "report_url": "/api/v1/agent/report"},
            status=status.HTTP_201_CREATED,
        )


class ReportView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [AgentThrottle]

    @extend_schema(
        operation_id="report_inventory",
        summary="Send an agent's inventory report",
        description="Signed `Authorization: Device <credential>`. `sequence` must be higher than "
        "the device's last and `sent_at` within the report window of the server's clock.",
        tags=["agent"],
        request=ReportSerializer,
        responses={
            200: ReportOutcomeSerializer,
            409: OpenApiResponse(description="Replayed or out-of-order report."),
            413: OpenApiResponse(description="The report is too large."),
        },
    )
    def post(self, request: Request) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.TIERLINE["AGENT_REPORT_MAX_BYTES"]
        if declared.isdigit() and int(declared) > limit:
            return Response(
                {"detail": f"The report is {int(declared)} bytes; at most {limit} are accepted."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        device = request.auth
        raw = request.data
        raw_hash = agent.inventory_hash(raw) if isinstance(raw, dict) else ""
        if agent.is_unchanged(device, raw, body_hash=raw_hash):
            # The same inventory as the last accepted report: only the envelope is checked.
            envelope = EnvelopeSerializer(
                data={"sequence": raw.get("sequence"), "sent_at": raw.get("sent_at")}
            )
            envelope.is_valid(raise_exception=True)
            refusal = _outside_window(envelope.validated_data["sent_at"])
            if refusal is not None:
                return refusal
            try:
                outcome = agent.receive_unchanged(
                    device=device, sequence=envelope.validated_data["sequence"]
                )
            except agent.ReportRefused as error:
                return _refused(error)
            return Response(ReportOutcomeSerializer(outcome).data)
        body = ReportSerializer(data=raw)
        body.is_valid(raise_exception=True)
        report = body.validated_data
        refusal = _outside_window(report["sent_at"])
        if refusal is not None:
            return refusal
        try:
            outcome = agent.receive_report(device=device, report=report, raw_hash=raw_hash)
        except agent.ReportRefused as error:
            return _refused(error)
        return Response(ReportOutcomeSerializer(outcome).data)


class UnchangedReportView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [AgentThrottle]

    @extend_schema(
        operation_id="report_unchanged_inventory",
        summary="Say the inventory is unchanged since the last report",
        description="For an agent whose inventory is the same as in its last accepted report: "
        "`inventory_hash` is the hash that report's answer carried. One UPDATE on the server. "
        "409 when it no longer matches (send the whole report) or the report is replayed.",
        tags=["agent"],
        request=UnchangedReportSerializer,
        responses={
            200: ReportOutcomeSerializer,
            409: OpenApiResponse(description="Changed since, replayed, or out of time."),
        },
    )
    def post(self, request: Request) -> Response:
        body = UnchangedReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        refusal = _outside_window(data["sent_at"])
        if refusal is not None:
            return refusal
        device = request.auth
        if (
            device.asset_id is None
            or not device.report_hash
            or (device.report_hash != data["inventory_hash"])
        ):
            return Response(
                {"detail": "The inventory is not the one last received: send the whole report."},
                status=status.HTTP_409_CONFLICT,
            )
        try:
            outcome = agent.receive_unchanged(device=device, sequence=data["sequence"])
        except agent.ReportRefused as error:
            return _refused(error)
        return Response(ReportOutcomeSerializer(outcome).data)


def _outside_window(sent_at: Any) -> Response | None:
    window = timedelta(seconds=settings.TIERLINE["AGENT_REPORT_WINDOW_SECONDS"])
    if abs(timezone.now() - sent_at) <= window:
        return None
    return Response(
        {
            "detail": f"The report was sent at {sent_at:%Y-%m-%d %H:%M:%S %Z}, more than "
            f"{int(window.total_seconds())} seconds from the server's clock: check the "
            "device's clock."
        },
        status=status.HTTP_409_CONFLICT,
    )
