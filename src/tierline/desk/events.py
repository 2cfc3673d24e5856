"""What happens to tickets, work orders and calls, as events other apps subscribe to.

Published by `desk.services` inside the service's transaction, after the rows are written
(see `core.events` for the two kinds of handlers). Each carries ids and plain values only:
`actor_id` is whoever did it (None for a job without a system user), statuses are the
`desk.choices.Status` values ("open", "resolved"...), levels and priorities their numbers.

Where each is published (all in `desk/services/`):

    TicketOpened        tickets.open_ticket (also through create_child and log_call)
    TicketAssigned      tickets.assign (take, bulk_assign); escalation.* when it unassigns
    MessageAdded        messages.add_message (resolve's note too); lifecycle.reopen's reason;
                        relations.merge's notice
    StatusChanged       status.set_status, the one path every status change takes
    PriorityChanged     tickets.change_fields, when impact, urgency or priority changes
    TicketChanged       tickets.change_fields, when the subject changes
    CategoryChanged     tickets.change_fields (a macro's category too), when the category
                        changes: a TicketChanged that also says from what to what
    Escalated           escalation.escalate
    DeEscalated         escalation.de_escalate
    Resolved            lifecycle.resolve
    Reopened            lifecycle.reopen
    Closed              lifecycle.confirm_resolution, lifecycle.close (close_resolved_tickets),
                        lifecycle.mark_spam, relations.merge
    Merged              relations.merge
    WorkOrderOpened     work_orders.create_work_order
    WorkOrderCompleted  work_orders.complete_work_order
    WorkOrderCancelled  work_orders.cancel_work_order
    CallLogged          calls.log_call
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tierline.core.events import Event

# A field's metadata key: the value is for the app's own subscribers, never sent outside
# (webhooks leave it out of their payloads).
PRIVATE = "private"


@dataclass(frozen=True, kw_only=True)
class DeskEvent(Event):
    """Anything the desk publishes; subscribe to it to hear them all."""

    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketEvent(DeskEvent):
    """Something that happened to one ticket."""

    ticket_id: int


@dataclass(frozen=True, kw_only=True)
class TicketOpened(TicketEvent):
    """A new ticket, with what a service-target clock starts from (its opening time and
    status, the requester's department and VIP flag), so no handler reads the ticket back."""

    requester_id: int
    team_id: int
    tier: int
    priority: int
    channel: str
    category_id: int | None
    parent_id: int | None
    created_at: datetime
    status: str
    # The requester's, for the clock's policy; not sent out (webhooks leave PRIVATE fields out).
    requester_department_id: int | None = field(metadata={PRIVATE: True})
    requester_vip: bool = field(metadata={PRIVATE: True})


@dataclass(frozen=True, kw_only=True)
class TicketAssigned(TicketEvent):
    old_assignee_id: int | None
    new_assignee_id: int | None


@dataclass(frozen=True, kw_only=True)
class MessageAdded(TicketEvent):
    """A public reply (`internal` False: the requester reads it) or an internal note.

    `first_response` is True on the desk's first public reply to the requester: the one that
    sets the ticket's first_response_at.
    """

    message_id: int
    internal: bool
    first_response: bool

    @property
    def public(self) -> bool:
        return not self.internal


@dataclass(frozen=True, kw_only=True)
class StatusChanged(TicketEvent):
    old_status: str
    new_status: str


@dataclass(frozen=True, kw_only=True)
class PriorityChanged(TicketEvent):
    """Impact, urgency or the priority the matrix gives them changed (old and new of each)."""

    old_impact: int
    new_impact: int
    old_urgency: int
    new_urgency: int
    old_priority: int
    new_priority: int


@dataclass(frozen=True, kw_only=True)
class TicketChanged(TicketEvent):
    """The subject or category changed (`fields`: their names), e.g. for the search index."""

    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CategoryChanged(TicketChanged):
    """The category changed (with the subject, if `fields` names it too). Published instead of
    a plain TicketChanged, so who listens to TicketChanged (the search index) still hears it
    once, and the service targets retarget the clock."""

    old_category_id: int | None
    new_category_id: int | None


@dataclass(frozen=True, kw_only=True)
class TierMoved(TicketEvent):
    """The ticket went to another team (subscribe to hear both directions)."""

    escalation_id: int
    from_team_id: int
    to_team_id: int
    from_tier: int
    to_tier: int


@dataclass(frozen=True, kw_only=True)
class Escalated(TierMoved):
    pass


@dataclass(frozen=True, kw_only=True)
class DeEscalated(TierMoved):
    pass


@dataclass(frozen=True, kw_only=True)
class Resolved(TicketEvent):
    resolution_code: str


@dataclass(frozen=True, kw_only=True)
class Reopened(TicketEvent):
    old_status: str


@dataclass(frozen=True, kw_only=True)
class Closed(TicketEvent):
    """`how`: "confirmed" (by the requester), "closed" (by the desk or the auto-close job),
    "merged" or "spam"."""

    how: str


@dataclass(frozen=True, kw_only=True)
class Merged(TicketEvent):
    into_ticket_id: int


@dataclass(frozen=True, kw_only=True)
class WorkOrderEvent(TicketEvent):
    work_order_id: int


@dataclass(frozen=True, kw_only=True)
class WorkOrderOpened(WorkOrderEvent):
    technician_id: int
    scheduled_start: datetime
    scheduled_end: datetime


@dataclass(frozen=True, kw_only=True)
class WorkOrderCompleted(WorkOrderEvent):
    time_spent_minutes: int


@dataclass(frozen=True, kw_only=True)
class WorkOrderCancelled(WorkOrderEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class CallLogged(DeskEvent):
    """A phone call; `ticket_id` is None when it was solved on the call."""

    call_id: int
    ticket_id: int | None
    outcome: str
    duration_seconds: int


@dataclass(frozen=True, kw_only=True)
class TicketViewed(DeskEvent):
    """Someone opened a ticket's page (the desk's or the portal's). A read, not a change: not a
    TicketEvent, so nothing that follows changes (history, notifications, webhooks, the search
    index) hears it. Published outside any transaction; its handlers run at once."""

    ticket_id: int
