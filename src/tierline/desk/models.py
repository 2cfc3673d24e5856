"""Tickets and everything that happens on one: messages, escalations, work orders, calls."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tierline.desk.choices import (  # noqa: F401  (re-exported: the desk's own code imports them here)
    OPEN_STATUSES,
    REQUESTER_STATUS_WORDS,
    Channel,
    Level,
    Priority,
    Status,
)
from tierline.desk.placeholders import check_placeholders
from tierline.people.models import Location, Team


class Category(models.Model):
    """A node in the tree requesters pick from ("Hardware › Printer")."""

    name = models.CharField(_("name"), max_length=80)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    default_team = models.ForeignKey(
        Team,
        verbose_name=_("default team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("New tickets in this category go to this team (else the Tier 1 default)."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    full_name = models.CharField(_("full name"), max_length=300, editable=False, default="")

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.name

    def save(self, *args, **kwargs) -> None:
        self.full_name = f"{self.parent.full_name} › {self.name}" if self.parent else self.name
        super().save(*args, **kwargs)
        for child in self.children.all():
            child.save()

    def clean(self) -> None:
        """A category can't sit under itself, directly or through its subcategories."""
        ancestor, seen = self.parent, 0
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A category can't sit under itself or one of its subcategories.")}
                )
            seen += 1
            if seen > 20:
                raise ValidationError({"parent": _("Categories nest at most 20 levels deep.")})
            ancestor = ancestor.parent


class PriorityRule(models.Model):
    """One cell of the impact × urgency matrix."""

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Level.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique_cell")
        ]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → {self.get_priority_display()}"


class ResolutionCode(models.Model):
    """Why a ticket was resolved ("Fixed", "Workaround", "User error", ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("resolution code")

    def __str__(self) -> str:
        return self.name


# What desk.permissions.visible_tickets filters on: carried by every ticket list index.
VISIBILITY_COLUMNS = ["team", "assignee", "requester"]


class Ticket(models.Model):
    """A request for help, worked by one team at one tier at a time."""

    number = models.CharField(_("number"), max_length=20, null=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=20000)
    # No index of their own on requester, team and assignee: the composite indexes in Meta lead
    # with them. Every index on this table adds to planning time of every ticket query.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        db_index=False,
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_tickets"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Level.choices, default=Level.MEDIUM
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Level.choices, default=Level.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW
    )
    # Derived from status, stored so the queue's index can lead with it.
    is_open = models.BooleanField(default=True, editable=False)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_tickets"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    is_spam = models.BooleanField(_("spam"), default=False)
    resolution_code = models.ForeignKey(
        ResolutionCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    time_spent_minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        indexes = [
            # The queues' indexes end with the whole queue order (priority, oldest first, then
            # id as the tie-break of desk.filters.TICKET_ORDERINGS), so a page is a walk along
            # the index: without the id PostgreSQL sorted the team's whole open backlog for
            # every page. Every list index carries the columns desk.permissions filters on
            # (team, assignee, requester) as INCLUDE columns: a list asks for what the user may
            # see on top of its own filters, and PostgreSQL answers it, page ids and counts
            # alike, from the index alone instead of reading every row from the table.
            models.Index(
                fields=["team", "is_open", "priority", "created_at", "id"],
                include=["assignee", "requester"],
                name="ticket_queue_idx",
            ),
            models.Index(
                fields=["is_open", "priority", "created_at", "id"],
                include=VISIBILITY_COLUMNS,
                name="ticket_open_idx",
            ),
            models.Index(
                fields=["assignee", "is_open", "priority", "created_at", "id"],
                include=["team", "requester"],
                name="ticket_assignee_idx",
            ),
            # A requester's tickets, newest first (the portal, a requester's API list): the
            # whole order, id included, so no requester's list sorts their tickets either.
            models.Index(fields=["requester", "created_at", "id"], name="ticket_requester_idx"),
            models.Index(fields=["status", "resolved_at"], name="ticket_status_resolved_idx"),
            # "May this user see the ticket of this row?", asked per row by the lists of things
            # on tickets (work orders: desk.permissions.visible_work_orders), answered from this
            # small index instead of the ticket table (at 1,000,000 tickets: 20,000 probes of a
            # Tier 1 technician's work-order list took 120-250 ms from the table, 35-40 here).
            models.Index(fields=["id"], include=VISIBILITY_COLUMNS, name="ticket_visibility_idx"),
            # The orders of desk.filters.TICKET_ORDERINGS over every ticket (the API's list, a
            # lead's search): each ends with the id, so no list sorts the table. PostgreSQL walks
            # them backwards for the descending orders.
            models.Index(
                fields=["priority", "created_at", "id"],
                include=VISIBILITY_COLUMNS,
                name="ticket_priority_idx",
            ),
            models.Index(
                fields=["created_at", "id"], include=VISIBILITY_COLUMNS, name="ticket_created_idx"
            ),
            models.Index(
                fields=["updated_at", "id"], include=VISIBILITY_COLUMNS, name="ticket_updated_idx"
            ),
        ]
        constraints = [
            # A constraint, not unique=True: that would add a second, LIKE-pattern index.
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def save(self, *args, **kwargs) -> None:
        self.is_open = self.status in OPEN_STATUSES
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "status" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_open"}
        super().save(*args, **kwargs)

    @property
    def requester_status(self) -> str:
        return str(REQUESTER_STATUS_WORDS[self.status])


class Message(models.Model):
    """A public reply or an internal note on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    body = models.TextField(_("message"), max_length=50000)
    internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.PORTAL)
    time_spent_minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{'Note' if self.internal else 'Reply'} on {self.ticket_id}"


class Attachment(models.Model):
    """A file on a ticket, stored under an internal name, served as a download (an image also
    as a re-encoded preview). An internal file is read only by those who read the ticket as a
    technician, like an internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to="attachments/", max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    internal = models.BooleanField(
        _("internal"), default=False, help_text=_("Only the help desk sees an internal file.")
    )
    # An image's thumbnail, re-encoded as PNG when it was attached (served inline; never the file).
    preview = models.FileField(upload_to="previews/", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_preview(self) -> bool:
        """Images get an inline preview (re-encoded, never the original)."""
        return self.content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}


class Escalation(models.Model):
    """A ticket moving between tiers: who moved it, when, where, and what had been tried."""

    class Direction(models.TextChoices):
        UP = "up", _("Escalated")
        DOWN = "down", _("De-escalated")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.UP)
    from_tier = models.PositiveSmallIntegerField()
    to_tier = models.PositiveSmallIntegerField()
    from_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("what was tried"), max_length=10000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: tier {self.from_tier} → {self.to_tier}"


class WorkOrder(models.Model):
    """A visit to the requester's desk or device, decided by Tier 2 or above."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=20, unique=True, null=True, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="work_orders")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    desk = models.CharField(_("desk"), max_length=60, blank=True)
    device = models.CharField(_("device"), max_length=120, blank=True)
    scheduled_start = models.DateTimeField(_("from"))
    scheduled_end = models.DateTimeField(_("until"))
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="work_orders"
    )
    instructions = models.TextField(_("instructions"), blank=True, max_length=10000)
    # [{"text": "Check cable", "done": false}, ...]
    checklist = models.JSONField(default=list, blank=True)
    time_spent_minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    outcome = models.TextField(_("outcome"), blank=True, max_length=10000)
    signoff_name = models.CharField(_("signed off by"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["scheduled_start", "pk"]
        indexes = [
            # A technician's day, and every work order by date (desk.filters.WORK_ORDER_ORDERINGS).
            models.Index(fields=["technician", "scheduled_start", "id"], name="workorder_day_idx"),
            models.Index(fields=["scheduled_start", "id"], name="workorder_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scheduled_end__gte=models.F("scheduled_start")),
                name="workorder_window_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"WO #{self.pk}"


class Call(models.Model):
    """One phone call taken or made by the desk."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        SOLVED = "solved", _("Solved on the call")
        NEW_TICKET = "new_ticket", _("New ticket")
        EXISTING_TICKET = "existing_ticket", _("Added to an existing ticket")

    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls_made",
    )
    caller_name = models.CharField(_("caller name"), max_length=120, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=40, blank=True)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls_taken"
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("talk time (seconds)"), default=0)
    notes = models.TextField(_("notes"), blank=True, max_length=20000)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "pk"]
        # A technician's calls, and every call by time (desk.filters.CALL_ORDERINGS).
        indexes = [
            models.Index(fields=["technician", "started_at", "id"], name="call_tech_day_idx"),
            models.Index(fields=["started_at", "id"], name="call_started_idx"),
        ]

    def __str__(self) -> str:
        return f"Call {self.started_at:%Y-%m-%d %H:%M} {self.caller_name}"


class SavedView(models.Model):
    """A technician's named set of queue filters."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


# --- canned responses and macros (desk/services/canned.py) ---------------------------------


class CannedResponse(models.Model):
    """A reply template: personal (an owner), shared with a team, or shared with the whole desk
    (neither). Placeholders such as {first_name} come from a fixed list (desk.placeholders), checked
    when it is saved; the text is stored as typed and filled in as plain text."""

    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(
        _("text"),
        max_length=10000,
        help_text=_(
            "Placeholders: {first_name}, {requester}, {ticket_number}, {subject}, "
            "{ticket_link}, {my_first_name}; write {{ or }} for a brace."
        ),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this technician sees it (empty: shared)."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Shared with this team (empty and no owner: the whole desk)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("canned response")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=True) | models.Q(team__isnull=True),
                name="canned_personal_or_team",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.owner_id and self.team_id:
            raise ValidationError(_("A response is personal or shared with a team, not both."))
        check_placeholders(self.body, field="body")


class Macro(models.Model):
    """A canned response and field changes applied in one click (desk.services.apply_macro):
    the reply, a category, then resolve with a code (the reply is the resolution note)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    response = models.ForeignKey(
        CannedResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_code = models.ForeignKey(
        ResolutionCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Resolve the ticket with this code (the response is the resolution note)."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Offered to this team only (empty: the whole desk)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("macro")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.resolution_code_id and not self.response_id:
            raise ValidationError(
                {"response": _("Resolving needs a response: it is the resolution note.")}
            )
        if not (self.response_id or self.category_id or self.resolution_code_id):
            raise ValidationError(_("A macro needs a response or a change to make."))
