"""The agent's side of diagnostics on request: `GET /api/v1/agent/diagnostics` (what its
device should run now) and `POST /api/v1/agent/diagnostics/<id>/result` (the answer). Both
signed with the device credential; a result is size-limited, its shape checked strictly per
kind, and replay-protected by the device's sequence like a report."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tierline.assets import diagnostics
from tierline.assets.api.authentication import DeviceAuthentication
from tierline.assets.api.serializers import (
    MAC,
    MAX_ADDRESSES,
    MAX_DISKS,
    MAX_NICS,
    StrictSerializer,
    count,
    text,
)
from tierline.assets.api.views import AgentThrottle, IsDevice, _outside_window
from tierline.assets.models import DiagnosticKind

MAX_PROCESSES = 50
PING_METHODS = ["ping", "tcp"]
MAX_DNS_ADDRESSES = 64


class PendingDiagnosticSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=DiagnosticKind.choices, read_only=True)
    parameters = serializers.DictField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    result_url = serializers.CharField(read_only=True)


class PendingListSerializer(serializers.Serializer):
    requests = PendingDiagnosticSerializer(many=True, read_only=True)


def percent() -> serializers.FloatField:
    return serializers.FloatField(min_value=0, max_value=100_000, required=False, allow_null=True)


class DiskUsageSerializer(StrictSerializer):
    mount = text(255, required=True)
    device = text(255)
    fs = text(40)
    total_bytes = count()
    used_bytes = count()
    free_bytes = count()
    percent = percent()


class DiskUsageResult(StrictSerializer):
    disks = DiskUsageSerializer(many=True, max_length=MAX_DISKS)


class PingResult(StrictSerializer):
    host = text(253, required=True)
    method = serializers.ChoiceField(choices=PING_METHODS)
    port = count(65535)
    reachable = serializers.BooleanField()
    rtt_ms = serializers.FloatField(min_value=0, max_value=600_000, required=False, allow_null=True)
    detail = text(1000)


class DnsResult(StrictSerializer):
    host = text(253, required=True)
    addresses = serializers.ListField(
        child=text(64, required=True), max_length=MAX_DNS_ADDRESSES, required=False, default=list
    )
    elapsed_ms = serializers.FloatField(
        min_value=0, max_value=600_000, required=False, allow_null=True
    )
    detail = text(1000)


class HttpResult(StrictSerializer):
    url = text(300, required=True)
    status = serializers.IntegerField(min_value=100, max_value=599, required=False, allow_null=True)
    elapsed_ms = serializers.FloatField(
        min_value=0, max_value=600_000, required=False, allow_null=True
    )
    detail = text(1000)


class InterfaceSerializer(StrictSerializer):
    name = text(64, required=True)
    mac = serializers.RegexField(MAC, required=False, allow_blank=True, default="")
    up = serializers.BooleanField(required=False, default=False)
    mtu = count(1_000_000)
    addresses = serializers.ListField(
        child=text(64, required=True), max_length=MAX_ADDRESSES, required=False, default=list
    )


class NetworkResult(StrictSerializer):
    interfaces = InterfaceSerializer(many=True, max_length=MAX_NICS)
    gateway = text(64)
    dns_servers = serializers.ListField(
        child=text(64, required=True), max_length=16, required=False, default=list
    )


class ProcessSerializer(StrictSerializer):
    pid = count(2**31)
    name = text(200)
    user = text(100)
    cpu_percent = percent()
    memory_bytes = count()
    memory_percent = percent()


class TopProcessesResult(StrictSerializer):
    processes = ProcessSerializer(many=True, max_length=MAX_PROCESSES)


RESULT_SHAPES: dict[str, type[StrictSerializer]] = {
    DiagnosticKind.DISK_USAGE: DiskUsageResult,
    DiagnosticKind.PING: PingResult,
    DiagnosticKind.DNS: DnsResult,
    DiagnosticKind.HTTP: HttpResult,
    DiagnosticKind.NETWORK: NetworkResult,
    DiagnosticKind.TOP_PROCESSES: TopProcessesResult,
}


class ResultSerializer(StrictSerializer):
    """The envelope of a result: `sequence` above the device's last (shared with its reports),
    `sent_at` within the report window; `data` (checked by its kind) when `ok`, else `error`."""

    sequence = serializers.IntegerField(min_value=1, max_value=2**62)
    sent_at = serializers.DateTimeField()
    ok = serializers.BooleanField()
    error = text(500)
    data = serializers.DictField(required=False, default=dict)


def _pending(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "id": d.pk,
            "kind": d.kind,
            "parameters": d.parameters,
            "expires_at": d.expires_at,
            "result_url": f"/api/v1/agent/diagnostics/{d.pk}/result",
        }
        for d in diagnostics.pending_for(request.auth)[: diagnostics.MAX_PENDING_PER_ASSET]
    ]


def _refused(error: diagnostics.DiagnosticRefused) -> Response:
    return Response({"detail": str(error)}, status=error.status)


class PendingDiagnosticsView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [AgentThrottle]

    @extend_schema(
        operation_id="pending_diagnostics",
        summary="Diagnostics the device's agent should run now",
        description="Signed `Authorization: Device <credential>`. Each request names a kind "
        "from the fixed allow-list and its checked parameters; the agent runs its own function "
        "for that kind and posts the result to `result_url`.",
        tags=["agent"],
        responses={200: PendingListSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(PendingListSerializer({"requests": _pending(request)}).data)


class DiagnosticResultView(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [AgentThrottle]

    @extend_schema(
        operation_id="post_diagnostic_result",
        summary="Send the result of a diagnostic",
        description="Signed `Authorization: Device <credential>`, for a request of this "
        "device's asset that is still pending. `data` has the shape of the request's kind.",
        tags=["agent"],
        request=ResultSerializer,
        responses={
            200: PendingListSerializer,
            404: OpenApiResponse(description="No such request for this device."),
            409: OpenApiResponse(description="Answered already, expired, or replayed."),
            413: OpenApiResponse(description="The result is too large."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = diagnostics.RESULT_MAX_BYTES
        if declared.isdigit() and int(declared) > limit:
            return Response(
                {"detail": f"The result is {int(declared)} bytes; at most {limit} are accepted."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        body = ResultSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        envelope = body.validated_data
        refusal = _outside_window(envelope["sent_at"])
        if refusal is not None:
            return refusal
        device = request.auth
        wanted = (
            diagnostics.pending_for(device).filter(pk=pk).values_list("kind", flat=True).first()
        )
        data: dict[str, Any] = {}
        if wanted is not None and envelope["ok"]:
            shape = RESULT_SHAPES[wanted](data=envelope["data"])
            if not shape.is_valid():
                return Response({"data": shape.errors}, status=status.HTTP_400_BAD_REQUEST)
            data = dict(shape.validated_data)
        try:
            diagnostics.receive_result(
                device=device,
                request_id=pk,
                sequence=envelope["sequence"],
                ok=envelope["ok"],
                error=envelope["error"],
                data=_plain(data),
            )
        except diagnostics.DiagnosticRefused as error:
            return _refused(error)
        return Response(PendingListSerializer({"requests": _pending(request)}).data)


def _plain(value: Any) -> Any:
    """Validated data (OrderedDicts, lists of them) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
