"""What the desk API reads and writes. Output serializers shape rows; input serializers only
parse and type-check a request body: every rule of the workflow stays in desk.services."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tierline.core.api import OutputSerializer, UserRefField
from tierline.core.api_extras import extra_fields, extra_values
from tierline.core.models import HistoryEntry
from tierline.core.text import accepts_plain_text
from tierline.desk import permissions as perms
from tierline.desk.api.fields import TicketRefField
from tierline.desk.models import (
    Attachment,
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
from tierline.people.api.serializers import PersonSerializer
from tierline.people.models import User, phone_key_for

_LEVEL_HELP = "1 high, 2 medium, 3 low."
# The statuses a PATCH may set (resolve, confirm and reopen have their own actions) and a work
# order's (complete has its own). Named here so the schema names their enums (settings
# SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
SETTABLE_TICKET_STATUSES = [
    c for c in Status.choices if c[0] not in (Status.RESOLVED, Status.CLOSED)
]
SETTABLE_WORK_ORDER_STATUSES = [
    c
    for c in WorkOrder.Status.choices
    if c[0] in (WorkOrder.Status.SCHEDULED, WorkOrder.Status.IN_PROGRESS)
]
# Files in one upload: well under Django's DATA_UPLOAD_MAX_NUMBER_FILES (100), which would
# refuse the whole body before the serializer could say why.
MAX_FILES_PER_UPLOAD = 20


# Impact and urgency share one choice set; shown as a plain 1..3 integer so the schema does not
# carry one enum under two names.
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 3, "description": _LEVEL_HELP})
class LevelField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Level.choices, **kwargs)


# --- output ---------------------------------------------------------------------------------
#
# A requester reads through the API what the portal shows them, no more: the help desk's shape
# of a ticket, a message and a history entry names `help_desk_only` fields, and the requester's
# shape (a subclass) leaves them out. Which one a row gets is `perms.internal_visible`, the rule
# of the timeline, per ticket: a technician who asked a restricted team for help reads their
# ticket as a requester. The schema documents one shape per object with those fields optional
# (a generated client gets one model whose help-desk fields are unset for a requester, rather
# than a union it cannot tell apart).


class HelpDeskShape(OutputSerializer):
    help_desk_only: tuple[str, ...] = ()


class HelpDeskOnlyFieldsAreOptional(OpenApiSerializerExtension):
    """In the schema, the help-desk-only fields are not required and say so."""

    target_class = HelpDeskShape
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        target = self.target if isinstance(self.target, type) else type(self.target)
        hidden = target.help_desk_only
        for name in hidden:
            prop = schema["properties"].get(name)
            if prop is None:
                continue
            if "$ref" in prop:  # a sibling of $ref is ignored: wrap it
                prop = schema["properties"][name] = {"allOf": [prop]}
            prop["description"] = (
                prop.get("description", "") + " Help desk only: left out "
                "of the answer for a requester."
            ).strip()
        extras = getattr(target, "extra_fields_target", None)
        for name, field in extra_fields(extras).items() if extras else ():
            prop = auto_schema._map_serializer_field(field, direction)
            prop["description"] = (
                prop.get("description", "") + " Help desk only: left out of the answer for a "
                "requester."
            ).strip()
            schema["properties"][name] = prop
        required = [name for name in schema.get("required", []) if name not in hidden]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema


def _requester_fields(shape: type[HelpDeskShape]) -> list[str]:
    return [name for name in shape.Meta.fields if name not in shape.help_desk_only]


def shape_for(
    viewer: User, ticket: Ticket, help_desk: type[HelpDeskShape], requester: type[HelpDeskShape]
) -> type[HelpDeskShape]:
    """The help desk's shape if `viewer` reads `ticket` as a technician, else the requester's."""
    return help_desk if perms.internal_visible(viewer, ticket) else requester


class TicketSerializer(HelpDeskShape):
    """One ticket. People are given by username, team and category by id (as on input)."""

    help_desk_only = (
        "priority",
        "impact",
        "tier",
        "team",
        "team_name",
        "assignee",
        "assignee_name",
        "channel",
        "time_spent_minutes",
        "version",
        "parent",
    )

    # Other apps' fields on the help desk's shape (core.api_extras): sla's state and due times.
    extra_fields_target: str | None = "desk.ticket"

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

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        data = super().to_representation(instance)
        target = type(self).extra_fields_target
        if target:
            extras = instance.__dict__.get("_extra_api_values")
            if extras is None:  # one ticket: ask for it alone
                extras = extra_values(target, [instance.pk])[instance.pk]
            data.update(extras)
        return data


class RequesterTicketSerializer(TicketSerializer):
    extra_fields_target = None

    class Meta(TicketSerializer.Meta):
        fields = _requester_fields(TicketSerializer)
        read_only_fields = fields


class TicketListSerializer(serializers.ListSerializer):
    """Tickets, each in the shape its reader may see (context `viewer`)."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        tickets = list(data)
        # Other apps' fields for the whole page in one ask each, not one per ticket.
        extras = extra_values("desk.ticket", [ticket.pk for ticket in tickets])
        for ticket in tickets:
            ticket._extra_api_values = extras[ticket.pk]
        return [ticket_data(self.context["viewer"], ticket) for ticket in tickets]


def ticket_data(viewer: User, ticket: Ticket) -> dict[str, Any]:
    """One ticket as `viewer` may read it."""
    return shape_for(viewer, ticket, TicketSerializer, RequesterTicketSerializer)(ticket).data


class MessageSerializer(HelpDeskShape):
    help_desk_only = ("internal", "channel", "time_spent_minutes")

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


class RequesterMessageSerializer(MessageSerializer):
    class Meta(MessageSerializer.Meta):
        fields = _requester_fields(MessageSerializer)
        read_only_fields = fields


class HistoryEntrySerializer(HelpDeskShape):
    """One line of a record's history: who, when, what, old -> new."""

    help_desk_only = ("who", "summary")

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


class RequesterHistoryEntrySerializer(HistoryEntrySerializer):
    class Meta(HistoryEntrySerializer.Meta):
        fields = _requester_fields(HistoryEntrySerializer)
        read_only_fields = fields


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


class CallerTicketSerializer(OutputSerializer):
    """One of a caller's open tickets, as a screen shows it while the phone rings."""

    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The ticket's page in the workspace.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "tier",
            "requester",
            "assignee_name",
            "updated_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee_name(self, ticket: Ticket) -> str | None:
        return str(ticket.assignee) if ticket.assignee else None

    def get_url(self, ticket: Ticket) -> str:
        return reverse("desk:ticket", args=[ticket.number])


PERSON_EXTRAS = "people.person"


class CallerSerializer(PersonSerializer):
    """A person the caller id matched, with what other apps add to a person (their devices):
    context `person_extras` holds them for every person of the answer, asked for at once."""

    def to_representation(self, instance: User) -> dict[str, Any]:
        data = super().to_representation(instance)
        extras = self.context.get("person_extras")
        if extras is None or instance.pk not in extras:
            extras = extra_values(PERSON_EXTRAS, [instance.pk])
        data.update(extras[instance.pk])
        return data


class CallerExtraFieldsInSchema(OpenApiSerializerExtension):
    """Other apps' fields on a caller, documented as they are answered (read-only, nullable)."""

    target_class = CallerSerializer

    def map_serializer(self, auto_schema: Any, direction: str) -> dict:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        for name, field in extra_fields(PERSON_EXTRAS).items():
            schema["properties"][name] = auto_schema._map_serializer_field(field, direction)
        return schema


class InboundCallSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="The caller id, as the phone system sent it.")
    caller = CallerSerializer(
        allow_null=True, help_text="The one person the number belongs to; null for none or several."
    )
    candidates = CallerSerializer(
        many=True, help_text="Everyone whose phone is this number (at most 5), the caller included."
    )
    open_tickets = CallerTicketSerializer(
        many=True, help_text="Their open tickets you may read, most recently updated first."
    )
    more_tickets = serializers.BooleanField(help_text="There are more open tickets than these.")
    log_call_url = serializers.CharField(
        help_text="The workspace's call form for this number, the caller filled in."
    )


@accepts_plain_text()
class InboundCallQuerySerializer(serializers.Serializer):
    phone = serializers.CharField(
        max_length=40,
        help_text="The caller id in any format: +44 113 496 0123, 01134960123, an extension.",
    )

    def validate_phone(self, value: str) -> str:
        if not phone_key_for(value):
            raise serializers.ValidationError("A phone number has at least 3 digits.")
        return value


class AttachmentSerializer(OutputSerializer):
    """A file on a ticket, as stored: its name normalised, its type checked against its content."""

    uploaded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "internal", "uploaded_by", "created_at"]
        read_only_fields = fields


# --- input ----------------------------------------------------------------------------------


@accepts_plain_text(multiline=("description",))
class CreateTicketSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    impact = LevelField(
        default=Level.MEDIUM,
        help_text="Help desk only: a requester leaves it at 2 (the desk judges the impact).",
    )
    urgency = LevelField(default=Level.MEDIUM)
    channel = serializers.ChoiceField(
        Channel.choices,
        default=Channel.API,
        help_text="How the request came in. A requester may give only portal, email or api.",
    )
    requester = UserRefField(
        required=False,
        help_text="Help desk only: open on behalf of this person (username or id).",
    )


@accepts_plain_text()
class UpdateTicketSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    impact = LevelField(required=False)
    urgency = LevelField(required=False)
    status = serializers.ChoiceField(
        SETTABLE_TICKET_STATUSES,
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


@accepts_plain_text(multiline=("summary",))
class MoveSerializer(serializers.Serializer):
    """A move between tiers; each direction has its own subclass, so the schema names two
    bodies a client can tell apart."""

    summary = serializers.CharField(max_length=10000, help_text="What was tried, or why.")
    team = serializers.PrimaryKeyRelatedField(
        queryset=directory.teams(), required=False, allow_null=True
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class EscalateSerializer(MoveSerializer):
    """Up to the next tier's default team, or to `team` (another team at the same tier or
    higher). `summary`: what was already tried."""


class DeEscalateSerializer(MoveSerializer):
    """Back down to the tier below's default team, or to `team` (one at a lower tier).
    `summary`: why."""


@accepts_plain_text(multiline=("body",))
class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=50000)
    internal = serializers.BooleanField(default=False, help_text="True for an internal note.")
    time_spent_minutes = serializers.IntegerField(default=0, min_value=0, max_value=24 * 60)


@accepts_plain_text(multiline=("body",))
class ResolveSerializer(serializers.Serializer):
    resolution_code = serializers.CharField(max_length=40, help_text="A resolution code's code.")
    body = serializers.CharField(max_length=50000, help_text="The note the requester reads.")
    time_spent_minutes = serializers.IntegerField(default=0, min_value=0, max_value=24 * 60)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


@accepts_plain_text(multiline=("reason",))
class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=50000)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class TakeSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; a newer one on the server answers 409.",
    )


class AttachFilesSerializer(serializers.Serializer):
    """Files for a ticket (multipart/form-data): each is checked by desk.services as on the web
    form (a type of the allow-list whose content matches, the size limit)."""

    # Named as on the web forms and in the service's errors, so a refusal names this field.
    attachments = serializers.ListField(
        child=serializers.FileField(use_url=False),
        min_length=1,
        max_length=MAX_FILES_PER_UPLOAD,
        help_text=f"One or more files, each a part named `attachments` "
        f"(at most {MAX_FILES_PER_UPLOAD}).",
    )
    internal = serializers.BooleanField(
        default=False,
        help_text="True: only the help desk sees the files. A requester adds public files only.",
    )


@accepts_plain_text()
class ChecklistItemSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    done = serializers.BooleanField(default=False)


@accepts_plain_text(multiline=("instructions",))
class CreateWorkOrderSerializer(serializers.Serializer):
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


@accepts_plain_text(multiline=("instructions",))
class UpdateWorkOrderSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        SETTABLE_WORK_ORDER_STATUSES,
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


@accepts_plain_text(multiline=("outcome",))
class CompleteWorkOrderSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=10000)
    signoff_name = serializers.CharField(max_length=120)
    time_spent_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60)
    checklist = ChecklistItemSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, min_value=1)


@accepts_plain_text()
class CancelWorkOrderSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


@accepts_plain_text(multiline=("notes",))
class LogCallSerializer(serializers.Serializer):
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
