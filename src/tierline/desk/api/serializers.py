"""What the desk API reads and writes. Output serializers shape rows; input serializers only
parse and type-check a request body: every rule of the workflow stays in desk.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tierline.core.api import OutputSerializer, UserRefField
from tierline.core.models import HistoryEntry
from tierline.desk.api.fields import TicketRefField
from tierline.desk.models import (
    Call,
    Category,
    Channel,
    Level,
    Message,
    Status,
    Ticket,
    WorkOrder,
)
from tierline.people import queries as directory

_LEVEL_HELP = "1 high, 2 medium, 3 low."


# Impact and urgency share one choice set; shown as a plain 1..3 integer so the schema does not
# carry one enum under two names.
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 3, "description": _LEVEL_HELP})
class LevelField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Level.choices, **kwargs)


# --- output ---------------------------------------------------------------------------------


class TicketSerializer(OutputSerializer):
    """One ticket. People are given by username, team and category by id (as on input)."""

    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    requester_name = serializers.SerializerMethodField()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assignee_name = serializers.SerializerMethodField()
    team_name = serializers.CharField(source="team.name", read_only=True)
    category_name = serializers.SerializerMethodField()
    parent = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    impact = LevelField(read_only=True)
    urgency = LevelField(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "number",
            "subject",
            "description",
            "status",
            "priority",
            "impact",
            "urgency",
            "tier",
            "team",
            "team_name",
            "assignee",
            "assignee_name",
            "requester",
            "requester_name",
            "category",
            "category_name",
            "channel",
            "time_spent_minutes",
            "version",
            "parent",
            "merged_into",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_requester_name(self, ticket: Ticket) -> str:
        return str(ticket.requester)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee_name(self, ticket: Ticket) -> str | None:
        return str(ticket.assignee) if ticket.assignee else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category_name(self, ticket: Ticket) -> str | None:
        return str(ticket.category) if ticket.category else None


class MessageSerializer(OutputSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "author",
            "author_name",
            "body",
            "internal",
            "channel",
            "time_spent_minutes",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, message: Message) -> str | None:
        return str(message.author) if message.author else None


class HistoryEntrySerializer(OutputSerializer):
    """One line of a record's history: who, when, what, old -> new."""

    who = serializers.SerializerMethodField()
    when = serializers.DateTimeField(source="created_at", read_only=True)
    old = serializers.CharField(source="old_value", read_only=True)
    new = serializers.CharField(source="new_value", read_only=True)

    class Meta:
        model = HistoryEntry
        fields = ["who", "when", "action", "field", "old", "new", "summary"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_who(self, entry: HistoryEntry) -> str | None:
        return str(entry.actor) if entry.actor else None


class CategorySerializer(OutputSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "full_name", "parent", "description", "default_team", "is_active"]
        read_only_fields = fields


class WorkOrderSerializer(OutputSerializer):
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    technician = serializers.SlugRelatedField(slug_field="username", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    location_name = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "number",
            "ticket",
            "status",
            "location",
            "location_name",
            "desk",
            "device",
            "scheduled_start",
            "scheduled_end",
            "technician",
            "instructions",
            "checklist",
            "time_spent_minutes",
            "outcome",
            "signoff_name",
            "created_by",
            "created_at",
            "updated_at",
            "completed_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_location_name(self, work_order: WorkOrder) -> str | None:
        return str(work_order.location) if work_order.location else None


class CallSerializer(OutputSerializer):
    caller = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    technician = serializers.SlugRelatedField(slug_field="username", read_only=True)
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "caller",
            "caller_name",
            "caller_phone",
            "technician",
            "direction",
            "started_at",
            "duration_seconds",
            "notes",
            "outcome",
            "ticket",
            "created_at",
        ]
        read_only_fields = fields


# --- input ----------------------------------------------------------------------------------


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    impact = LevelField(default=Level.MEDIUM)
    urgency = LevelField(default=Level.MEDIUM)
    channel = serializers.ChoiceField(Channel.choices, default=Channel.API)
    requester = UserRefField(
        required=False,
        help_text="Help desk only: open on behalf of this person (username or id).",
    )


class TicketUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    impact = LevelField(required=False)
    urgency = LevelField(required=False)
    status = serializers.ChoiceField(
        [c for c in Status.choices if c[0] not in (Status.RESOLVED, Status.CLOSED)],
        required=False,
        help_text="Resolve, confirm and reopen have their own actions.",
        error_messages={
            "invalid_choice": "“{input}” is not a status you can set here; resolve, confirm "
            "and reopen have their own actions."
        },
    )
    assignee = UserRefField(
        required=False, allow_null=True, help_text="Username or id; null to unassign."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class MoveSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=10000, help_text="What was tried, or why.")
    team = serializers.PrimaryKeyRelatedField(
        queryset=directory.teams(), required=False, allow_null=True
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=50000)
    internal = serializers.BooleanField(default=False, help_text="True for an internal note.")
    time_spent_minutes = serializers.IntegerField(default=0, min_value=0, max_value=24 * 60)


class ResolveSerializer(serializers.Serializer):
    resolution_code = serializers.CharField(max_length=40, help_text="A resolution code's code.")
    body = serializers.CharField(max_length=50000, help_text="The note the requester reads.")
    time_spent_minutes = serializers.IntegerField(default=0, min_value=0, max_value=24 * 60)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=50000)


class ChecklistItemSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    done = serializers.BooleanField(default=False)


class WorkOrderCreateSerializer(serializers.Serializer):
    ticket = TicketRefField(help_text="The ticket number.")
    technician = UserRefField(help_text="Username or id of the technician who visits.")
    scheduled_start = serializers.DateTimeField()
    scheduled_end = serializers.DateTimeField()
    location = serializers.PrimaryKeyRelatedField(
        queryset=directory.locations(), required=False, allow_null=True
    )
    desk = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    device = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    instructions = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default=""
    )
    checklist = ChecklistItemSerializer(many=True, required=False, max_length=50)


class WorkOrderUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        [WorkOrder.Status.SCHEDULED, WorkOrder.Status.IN_PROGRESS],
        required=False,
        help_text="Use the complete action to finish a work order.",
    )
    technician = UserRefField(required=False)
    scheduled_start = serializers.DateTimeField(required=False)
    scheduled_end = serializers.DateTimeField(required=False)
    location = serializers.PrimaryKeyRelatedField(
        queryset=directory.locations(), required=False, allow_null=True
    )
    desk = serializers.CharField(max_length=60, required=False, allow_blank=True)
    device = serializers.CharField(max_length=120, required=False, allow_blank=True)
    instructions = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    checklist = ChecklistItemSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, min_value=1)


class WorkOrderCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=10000)
    signoff_name = serializers.CharField(max_length=120)
    time_spent_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60)
    checklist = ChecklistItemSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, min_value=1)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class CallCreateSerializer(serializers.Serializer):
    caller = UserRefField(
        required=False, allow_null=True, help_text="The caller's username or id, if known."
    )
    caller_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    direction = serializers.ChoiceField(Call.Direction.choices, default=Call.Direction.INBOUND)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    duration_seconds = serializers.IntegerField(default=0, min_value=0, max_value=24 * 3600)
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    outcome = serializers.ChoiceField(Call.Outcome.choices)
    ticket = TicketRefField(
        required=False, allow_null=True, help_text="For existing_ticket: the ticket number."
    )
    subject = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="For new_ticket."
    )
