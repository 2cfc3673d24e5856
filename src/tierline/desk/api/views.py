"""The desk API: tickets and their actions, categories, work orders and calls.

Thin like the HTML views: parse the body with an input serializer, look the record up through
desk.permissions (404 for what the caller may not read), call a desk.services function, answer
with the output serializer. Service errors become 400/403/409 in core.api.exception_handler.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tierline.core.api import IDEMPOTENCY_KEY, IsStaffMember, SpecListMixin, create_once
from tierline.core.api_extras import extra_values
from tierline.core.inputs import lookup_text
from tierline.desk import lists, queries, services
from tierline.desk import permissions as perms
from tierline.desk.api import serializers as s
from tierline.desk.filters import CallFilter, TicketFilter, WorkOrderFilter
from tierline.desk.models import Call, Category, Ticket, WorkOrder

# People sharing one number (a team's line, a shared desk phone) answered at most.
INBOUND_CANDIDATES = 5

_TICKET_COLUMNS = ("requester", "assignee", "team", "category", "parent", "merged_into")

# Detail actions look one ticket up themselves: no queue filters, no paging of their answer.
_DETAIL_ACTION = {"detail": True, "filter_backends": [], "pagination_class": None}


@extend_schema_view(
    list=extend_schema(
        operation_id="list_tickets",
        summary="List the tickets you may see",
        parameters=[
            OpenApiParameter(
                "queue",
                OpenApiTypes.STR,
                enum=list(queries.QUEUES),
                description="Only the open tickets of one workspace queue.",
            )
        ],
    ),
    retrieve=extend_schema(operation_id="get_ticket", summary="Read one ticket"),
)
@extend_schema(tags=["tickets"])
class TicketViewSet(
    SpecListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tickets, looked up by number (TL-000123)."""

    serializer_class = s.TicketSerializer
    filterset_class = TicketFilter
    list_spec = lists.TICKETS
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    queryset = Ticket.objects.none()  # for the schema; get_queryset answers per user

    def list_scope(self) -> QuerySet[Ticket] | None:
        """The open tickets of one workspace queue (?queue=), or every ticket."""
        queue = self.request.query_params.get("queue")
        if not queue:
            return None
        if queue not in queries.QUEUES:
            raise serializers.ValidationError(
                {"queue": [f"Choose one of: {', '.join(queries.QUEUES)}."]}
            )
        return queries.queue_for(self.request.user, queue)

    def get_queryset(self) -> QuerySet[Ticket]:
        return perms.visible_tickets(self.request.user).select_related(*_TICKET_COLUMNS)

    def get_object(self) -> Ticket:
        return perms.ticket_for(self.request.user, self.kwargs["number"], self.get_queryset())

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer:
        """Each ticket in the shape its reader may see: a requester's leaves out the desk's
        fields (list and retrieve; the actions answer through `_answer`)."""
        kwargs.setdefault("context", self.get_serializer_context())
        kwargs["context"]["viewer"] = self.request.user
        if kwargs.pop("many", False):
            return s.TicketListSerializer(*args, child=s.TicketSerializer(), **kwargs)
        if not args:  # the schema generator: it documents the help desk's shape
            return s.TicketSerializer(**kwargs)
        shape = s.shape_for(
            self.request.user, args[0], s.TicketSerializer, s.RequesterTicketSerializer
        )
        return shape(*args, **kwargs)

    def _answer(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = Ticket.objects.select_related(*_TICKET_COLUMNS).get(pk=ticket.pk)
        return Response(s.ticket_data(self.request.user, fresh), status=code)

    @staticmethod
    def _parse(serializer_class: type[serializers.Serializer], request: Request) -> dict:
        parsed = serializer_class(data=request.data)
        parsed.is_valid(raise_exception=True)
        return dict(parsed.validated_data)

    @extend_schema(
        operation_id="create_ticket",
        summary="Open a ticket",
        parameters=[IDEMPOTENCY_KEY],
        request=s.CreateTicketSerializer,
        responses={201: s.TicketSerializer},
    )
    def create(self, request: Request) -> Response:
        return create_once(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = self._parse(s.CreateTicketSerializer, request)
        requester = data.pop("requester", None) or request.user
        if requester.pk != request.user.pk:
            perms.ensure(
                perms.is_staff_member(request.user),
                "Only the help desk opens tickets on behalf of someone else.",
            )
        ticket = services.open_ticket(requester=requester, by=request.user, **data)
        # A new ticket holds everything the answer shows (requester, team, category as objects,
        # nobody assigned yet): no need to read it back.
        return Response(s.ticket_data(request.user, ticket), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="update_ticket",
        summary="Change a ticket's fields, status or assignee",
        request=s.UpdateTicketSerializer,
        responses=s.TicketSerializer,
    )
    def partial_update(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.UpdateTicketSerializer, request)
        version = data.pop("version", None)
        perms.ensure(
            perms.can_work_ticket(request.user, ticket),
            "Only the help desk working this ticket can change it.",
        )
        # The first change checks `version` against the locked row (a stale one answers 409
        # with the current values); the rest follow in the same transaction.
        with transaction.atomic():
            if not data.keys() & {"subject", "category", "impact", "urgency", "status", "assignee"}:
                services.ensure_current(ticket, version)  # only a version: is it current?
            fields = {k: data[k] for k in ("subject", "category", "impact", "urgency") if k in data}
            if fields:
                services.change_fields(
                    ticket=ticket, by=request.user, expected_version=version, **fields
                )
                version = None
            if "status" in data:
                services.change_status(
                    ticket=ticket, by=request.user, status=data["status"], expected_version=version
                )
                version = None
            if "assignee" in data:
                services.assign(
                    ticket=ticket,
                    by=request.user,
                    assignee=data["assignee"],
                    expected_version=version,
                )
        return self._answer(ticket)

    @extend_schema(
        operation_id="escalate_ticket",
        summary="Escalate to a higher tier",
        request=s.EscalateSerializer,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def escalate(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.EscalateSerializer, request)
        version = data.pop("version", None)
        services.escalate(ticket=ticket, by=request.user, expected_version=version, **data)
        return self._answer(ticket)

    @extend_schema(
        operation_id="de_escalate_ticket",
        summary="Hand back down to a lower tier",
        request=s.DeEscalateSerializer,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def deescalate(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.DeEscalateSerializer, request)
        version = data.pop("version", None)
        services.de_escalate(ticket=ticket, by=request.user, expected_version=version, **data)
        return self._answer(ticket)

    @extend_schema(
        methods=["GET"],
        operation_id="list_replies",
        summary="List the replies (and, for the help desk, internal notes)",
        responses=s.MessageSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        operation_id="reply_to_ticket",
        summary="Reply, or write an internal note",
        parameters=[IDEMPOTENCY_KEY],
        request=s.ReplySerializer,
        responses={201: s.MessageSerializer},
    )
    @action(methods=["get", "post"], **_DETAIL_ACTION)
    def replies(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        shape = s.shape_for(request.user, ticket, s.MessageSerializer, s.RequesterMessageSerializer)
        if request.method == "POST":

            def reply() -> Response:
                data = self._parse(s.ReplySerializer, request)
                message = services.add_message(
                    ticket=ticket, by=request.user, channel="api", **data
                )
                return Response(shape(message).data, status=status.HTTP_201_CREATED)

            return create_once(request, reply)
        messages = perms.visible_messages(request.user, ticket).select_related("author")
        return Response(shape(messages, many=True).data)

    @extend_schema(
        operation_id="resolve_ticket",
        summary="Resolve with a resolution code and a note",
        request=s.ResolveSerializer,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def resolve(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.ResolveSerializer, request)
        version = data.pop("version", None)
        services.resolve(ticket=ticket, by=request.user, expected_version=version, **data)
        return self._answer(ticket)

    @extend_schema(
        operation_id="reopen_ticket",
        summary="Reopen a resolved or closed ticket",
        request=s.ReopenSerializer,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def reopen(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.ReopenSerializer, request)
        version = data.pop("version", None)
        services.reopen(ticket=ticket, by=request.user, expected_version=version, **data)
        return self._answer(ticket)

    @extend_schema(
        operation_id="confirm_resolution",
        summary="Confirm the resolution: the ticket is closed",
        request=None,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def confirm(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        services.confirm_resolution(ticket=ticket, by=request.user)
        return self._answer(ticket)

    @extend_schema(
        operation_id="take_ticket",
        summary="Assign the ticket to yourself",
        request=s.TakeSerializer,
        responses=s.TicketSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def take(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._parse(s.TakeSerializer, request)
        services.take(ticket=ticket, by=request.user, expected_version=data.get("version"))
        return self._answer(ticket)

    @extend_schema(
        operation_id="get_ticket_history",
        summary="The ticket's history (requesters see its status changes)",
        responses=s.HistoryEntrySerializer(many=True),
    )
    @action(methods=["get"], **_DETAIL_ACTION)
    def history(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        entries = perms.visible_history(request.user, ticket)
        shape = s.shape_for(
            request.user, ticket, s.HistoryEntrySerializer, s.RequesterHistoryEntrySerializer
        )
        return Response(shape(entries, many=True).data)

    @extend_schema(
        methods=["GET"],
        operation_id="list_attachments",
        summary="List the ticket's files (internal ones for the help desk only)",
        responses=s.AttachmentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        operation_id="attach_files",
        summary="Attach files (multipart/form-data: parts named `attachments`, and `internal`)",
        description="Each file is checked as on the web form: its name normalised, a type of "
        "the allow-list whose content really is that type, the size limit. One refused file "
        "refuses them all (400, nothing stored). The help desk may add internal files; a "
        "requester adds public files to their own tickets.",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.AttachFilesSerializer},
        responses={201: s.AttachmentSerializer(many=True)},
    )
    @action(
        methods=["get", "post"],
        parser_classes=[parsers.MultiPartParser],
        **_DETAIL_ACTION,
    )
    def attachments(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        if request.method == "POST":

            def attach() -> Response:
                data = self._parse(s.AttachFilesSerializer, request)
                saved = services.add_attachments(
                    ticket=ticket,
                    by=request.user,
                    uploads=data["attachments"],
                    internal=data["internal"],
                )
                return Response(
                    s.AttachmentSerializer(saved, many=True).data, status=status.HTTP_201_CREATED
                )

            return create_once(request, attach)
        files = perms.visible_attachments(request.user, ticket).select_related("uploaded_by")
        return Response(s.AttachmentSerializer(files, many=True).data)


@extend_schema_view(
    list=extend_schema(operation_id="list_categories", summary="List the active categories"),
    retrieve=extend_schema(operation_id="get_category", summary="Read one category"),
)
@extend_schema(tags=["categories"])
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The categories a ticket can be filed under (active ones only)."""

    serializer_class = s.CategorySerializer
    queryset = Category.objects.filter(is_active=True)
    filter_backends: list = []


# --- work orders ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(operation_id="list_work_orders", summary="List work orders"),
    retrieve=extend_schema(operation_id="get_work_order", summary="Read one work order"),
)
@extend_schema(tags=["work orders"])
class WorkOrderViewSet(
    SpecListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Visits to a requester's desk: for the help desk only."""

    serializer_class = s.WorkOrderSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    filterset_class = WorkOrderFilter
    list_spec = lists.WORK_ORDERS
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    queryset = WorkOrder.objects.none()

    def get_queryset(self) -> QuerySet[WorkOrder]:
        return perms.visible_work_orders(self.request.user).select_related(
            "ticket", "technician", "created_by", "location"
        )

    def get_object(self) -> WorkOrder:
        if lookup_text(self.kwargs["number"]) is None:  # PostgreSQL would refuse a NUL
            raise Http404("No such work order.")
        return super().get_object()

    def _answer(self, work_order: WorkOrder, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=work_order.pk)
        return Response(s.WorkOrderSerializer(fresh).data, status=code)

    @extend_schema(
        operation_id="create_work_order",
        summary="Open a work order (Tier 2 and above)",
        parameters=[IDEMPOTENCY_KEY],
        request=s.CreateWorkOrderSerializer,
        responses={201: s.WorkOrderSerializer},
    )
    def create(self, request: Request) -> Response:
        def create() -> Response:
            parsed = s.CreateWorkOrderSerializer(data=request.data, context={"request": request})
            parsed.is_valid(raise_exception=True)
            work_order = services.create_work_order(by=request.user, **parsed.validated_data)
            return self._answer(work_order, status.HTTP_201_CREATED)

        return create_once(request, create)

    @extend_schema(
        operation_id="update_work_order",
        summary="Change a work order",
        request=s.UpdateWorkOrderSerializer,
        responses=s.WorkOrderSerializer,
    )
    def partial_update(self, request: Request, number: str) -> Response:
        work_order = self.get_object()
        parsed = s.UpdateWorkOrderSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        changes = dict(parsed.validated_data)
        version = changes.pop("version", None)
        services.update_work_order(
            work_order=work_order, by=request.user, expected_version=version, **changes
        )
        return self._answer(work_order)

    @extend_schema(
        operation_id="complete_work_order",
        summary="Record the visit: outcome, time, sign-off",
        request=s.CompleteWorkOrderSerializer,
        responses=s.WorkOrderSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def complete(self, request: Request, number: str) -> Response:
        work_order = self.get_object()
        parsed = s.CompleteWorkOrderSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        data = dict(parsed.validated_data)
        services.complete_work_order(
            work_order=work_order,
            by=request.user,
            expected_version=data.pop("version", None),
            **data,
        )
        return self._answer(work_order)

    @extend_schema(
        operation_id="cancel_work_order",
        summary="Cancel a work order",
        request=s.CancelWorkOrderSerializer,
        responses=s.WorkOrderSerializer,
    )
    @action(methods=["post"], **_DETAIL_ACTION)
    def cancel(self, request: Request, number: str) -> Response:
        work_order = self.get_object()
        parsed = s.CancelWorkOrderSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        services.cancel_work_order(work_order=work_order, by=request.user, **parsed.validated_data)
        return self._answer(work_order)


# --- calls ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(operation_id="list_calls", summary="List calls"),
    retrieve=extend_schema(operation_id="get_call", summary="Read one call"),
)
@extend_schema(tags=["calls"])
class CallViewSet(
    SpecListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The call log: what a phone system or a technician records."""

    serializer_class = s.CallSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    filterset_class = CallFilter
    list_spec = lists.CALLS
    queryset = Call.objects.none()

    def get_queryset(self) -> QuerySet[Call]:
        return perms.visible_calls(self.request.user).select_related(
            "caller", "technician", "ticket"
        )

    @extend_schema(
        operation_id="inbound_call",
        summary="Who is calling: the caller, their open tickets and devices",
        description="For a phone system when a call comes in: the person whose phone is the "
        "caller id (in any format: matched on its last 9 digits), everyone else who has that "
        "number, their open tickets you may read, and the workspace's call form for the number. "
        "Other apps add to each person (the assets app: their devices).",
        parameters=[
            OpenApiParameter(
                "phone",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="The caller id: +44 113 496 0123, 01134960123, or an extension.",
            )
        ],
        responses={200: s.InboundCallSerializer},
    )
    @action(detail=False, methods=["get"], url_path="inbound", filterset_class=None)
    def inbound(self, request: Request) -> Response:
        query = s.InboundCallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        phone = query.validated_data["phone"]
        ringing = queries.who_is_calling(phone, request.user, candidates=INBOUND_CANDIDATES)
        answer = {
            "phone": phone,
            "caller": ringing.caller,
            "candidates": ringing.people,
            "open_tickets": ringing.tickets,
            "more_tickets": ringing.more,
            "log_call_url": reverse("desk:call_new") + "?" + urlencode({"phone": phone}),
        }
        extras = extra_values(s.PERSON_EXTRAS, [p.pk for p in ringing.people])
        return Response(s.InboundCallSerializer(answer, context={"person_extras": extras}).data)

    @extend_schema(
        operation_id="log_call",
        summary="Log a call",
        parameters=[IDEMPOTENCY_KEY],
        request=s.LogCallSerializer,
        responses={201: s.CallSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def create() -> Response:
            parsed = s.LogCallSerializer(data=request.data, context={"request": request})
            parsed.is_valid(raise_exception=True)
            data = {k: v for k, v in parsed.validated_data.items() if v is not None}
            call = services.log_call(by=request.user, **data)
            fresh = self.get_queryset().get(pk=call.pk)
            return Response(s.CallSerializer(fresh).data, status=status.HTTP_201_CREATED)

        return create_once(request, create)
