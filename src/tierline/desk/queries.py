"""Read-side shapes for the workspace: queues and the ticket timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, QuerySet

from tierline.desk import permissions as perms
from tierline.desk.models import (
    Attachment,
    Call,
    Category,
    Escalation,
    Status,
    Ticket,
    WorkOrder,
)
from tierline.people import queries as directory
from tierline.people.models import User

QUEUES = {
    "mine": "Assigned to me",
    "team": "My teams",
    "unassigned": "Unassigned",
    "all": "All open",
}


def list_columns(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a ticket list row shows, loaded in one query."""
    return queryset.select_related("requester", "assignee", "team", "category")


def queue_for(user: User, queue: str = "team") -> QuerySet[Ticket]:
    """Open tickets of one queue that this user may see. "all" is for leads.

    Each queue of a technician is by construction a part of what desk.permissions lets them read
    (their teams' tickets, or tickets assigned to them), so it is built on the queue's own
    columns: "team IN (...) OR assignee = me OR requester = me" alone would keep the database
    from walking the queue index in order. The list spec (desk.lists.QUEUE) still adds the
    visibility filter on top, one rule for every list; the queue indexes carry its columns, so
    PostgreSQL checks it inside the index.
    """
    if perms.is_staff_member(user):
        qs = Ticket.objects.filter(is_open=True)
    else:
        qs = perms.visible_tickets(user).filter(is_open=True)
    everything = perms.sees_everything(user)
    if queue == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif queue == "unassigned":
        qs = qs.filter(assignee__isnull=True)
        if not everything:
            qs = qs.filter(team_id__in=perms.team_ids(user))
    elif queue == "team" or not everything:
        qs = qs.filter(team_id__in=perms.team_ids(user))
    return list_columns(qs)


def queue_counts(user: User) -> dict[str, int]:
    """Badge counts for the sidebar."""
    return {name: queue_for(user, name).count() for name in QUEUES}


# What a ticket page may have to show beyond its messages and history. Asked as EXISTS flags in
# the query that loads the ticket (an index probe each), so the page skips the queries of what the
# ticket lacks: most tickets have no calls, work orders, escalations, children or links.
def with_page_flags(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    ticket = OuterRef("pk")
    return queryset.annotate(
        has_escalations=Exists(Escalation.objects.filter(ticket=ticket)),
        has_calls=Exists(Call.objects.filter(ticket=ticket)),
        has_work_orders=Exists(WorkOrder.objects.filter(ticket=ticket)),
        has_children=Exists(Ticket.objects.filter(parent=ticket)),
        has_merged=Exists(Ticket.objects.filter(merged_into=ticket)),
        has_related=Exists(Ticket.related.through.objects.filter(from_ticket=ticket)),
    )


def _has(ticket: Ticket, flag: str) -> bool:
    """A flag of with_page_flags; a ticket loaded without them may have anything."""
    return getattr(ticket, flag, True)


@dataclass
class TicketLinks:
    children: list[Ticket]
    related: list[Ticket]
    merged: list[Ticket]


def ticket_links(ticket: Ticket, user: User) -> TicketLinks:
    """Child tickets, related tickets and the tickets merged into this one, that `user` may read
    (a restricted team's child shows not even its number to others)."""

    def readable(related: QuerySet[Ticket], flag: str) -> list[Ticket]:
        return list(perms.visible_tickets(user, related)) if _has(ticket, flag) else []

    return TicketLinks(
        children=readable(ticket.children.all(), "has_children"),
        related=readable(ticket.related.all(), "has_related"),
        merged=readable(ticket.merged_tickets.all(), "has_merged"),
    )


@dataclass
class TimelineEntry:
    """One line of the ticket page, whatever it came from."""

    kind: str  # "reply", "note", "event", "escalation", "call", "work_order", "attachment"
    at: datetime
    actor: Any
    obj: Any
    files: list[Attachment] = field(default_factory=list)  # a reply's or note's attachments


_EVENT_ACTIONS_SHOWN_ELSEWHERE = {
    "replied",
    "noted",
    "escalated",
    "de-escalated",
    "call",
    "attached",
    "work order",
}


def timeline(ticket: Ticket, user: User, *, public_only: bool = False) -> list[TimelineEntry]:
    """Replies, notes (staff only), status changes, assignments, escalations, calls, work orders
    and attachments of one ticket, oldest first. A fixed number of queries whatever its length.

    `public_only` gives what a requester sees (public replies, files, status changes), whoever
    looks: the portal uses it so a technician reading their own request sees no internal notes."""
    staff = not public_only and perms.internal_visible(user, ticket)
    messages = perms.visible_messages(user, ticket).select_related("author")
    if not staff:
        messages = messages.filter(internal=False)
    entries = [
        TimelineEntry("note" if m.internal else "reply", m.created_at, m.author, m)
        for m in messages
    ]
    # Every file of the ticket in one query: those of a shown message go with it, the others
    # (added on their own) are entries. A file of a message not shown (an internal note, for a
    # requester) is not shown either.
    by_message = {entry.obj.pk: entry for entry in entries}
    files = perms.visible_attachments(user, ticket).select_related("uploaded_by").order_by("pk")
    if not staff:  # a technician reading their own request on the portal: no internal files
        files = files.filter(internal=False)
    for a in files:
        if a.message_id is None:
            entries.append(TimelineEntry("attachment", a.created_at, a.uploaded_by, a))
        elif a.message_id in by_message:
            by_message[a.message_id].files.append(a)
    if staff:
        if _has(ticket, "has_escalations"):
            entries += [
                TimelineEntry("escalation", e.created_at, e.by, e)
                for e in Escalation.objects.filter(ticket=ticket).select_related(
                    "by", "from_team", "to_team"
                )
            ]
        if _has(ticket, "has_calls"):
            entries += [
                TimelineEntry("call", c.started_at, c.technician, c)
                for c in Call.objects.filter(ticket=ticket).select_related("technician", "caller")
            ]
        if _has(ticket, "has_work_orders"):
            entries += [
                TimelineEntry("work_order", w.created_at, w.created_by, w)
                for w in WorkOrder.objects.filter(ticket=ticket).select_related(
                    "created_by", "technician"
                )
            ]
        events = perms.visible_history(user, ticket).exclude(
            action__in=_EVENT_ACTIONS_SHOWN_ELSEWHERE
        )
    else:
        # Requesters see the status changes in plain words, not the desk's internal moves.
        events = perms.visible_history(user, ticket).filter(field="status")
    entries += [TimelineEntry("event", h.created_at, h.actor, h) for h in events]
    order = {"event": 1}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 0)))
    return entries


def escalation_counts(start: date, end: date, user: User) -> list[dict]:
    """Escalations per tier step (1→2, 2→3, ...) and direction in a date range, visible tickets only."""
    rows = (
        Escalation.objects.filter(
            created_at__date__gte=start,
            created_at__date__lte=end,
            ticket__in=perms.technician_tickets(user).values("pk"),
        )
        .values("direction", "from_tier", "to_tier")
        .annotate(count=Count("pk"))
        .order_by("direction", "from_tier", "to_tier")
    )
    return list(rows)


def escalations_by_team(start: date, end: date, user: User) -> list[dict]:
    """Escalations out of each team in a date range, with how many distinct tickets."""
    return list(
        Escalation.objects.filter(
            created_at__date__gte=start,
            created_at__date__lte=end,
            direction=Escalation.Direction.UP,
            ticket__in=perms.technician_tickets(user).values("pk"),
        )
        .values("from_team__name", "from_tier")
        .annotate(count=Count("pk"), tickets=Count("ticket", distinct=True))
        .order_by("from_tier", "from_team__name")
    )


def clock_facts(ticket_id: int) -> dict[str, Any] | None:
    """What a service-target clock needs of one ticket, in one query: its times, status, the
    fields policies narrow by (priority, category, team) and the requester's department and VIP
    flag."""
    return (
        Ticket.objects.filter(pk=ticket_id)
        .values(
            "created_at",
            "status",
            "priority",
            "category_id",
            "team_id",
            "requester_id",
            "first_response_at",
            "resolved_at",
            department_id=F("requester__department_id"),
            requester_vip=F("requester__is_vip"),
        )
        .first()
    )


RECENT_REQUESTER_TICKETS = 5


def requester_recent_tickets(
    ticket: Ticket, user: User, *, limit: int = RECENT_REQUESTER_TICKETS
) -> tuple[list[Ticket], bool]:
    """The requester's other tickets that `user` may read, newest first, at most `limit`, and
    whether there are more: one query, along the requester index (requester, created_at, id)."""
    others = perms.visible_tickets(
        user, Ticket.objects.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
    )
    rows = list(
        others.order_by("-created_at", "-pk").only(
            "number", "subject", "status", "created_at", "requester_id", "team_id", "assignee_id"
        )[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


CALLER_OPEN_TICKETS = 10


def open_tickets_of(
    person_ids: list[int], user: User, *, limit: int = CALLER_OPEN_TICKETS
) -> tuple[list[Ticket], bool]:
    """The open tickets these people asked for that `user` may read, most recently updated
    first, at most `limit`, and whether there are more: what a technician sees when they call."""
    if not person_ids:
        return [], False
    mine = Ticket.objects.filter(requester_id__in=person_ids, is_open=True)
    rows = list(
        perms.visible_tickets(user, mine)
        .select_related("requester", "assignee")
        .order_by("-updated_at", "-pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


CALLER_CANDIDATES = 5


@dataclass(frozen=True)
class Ringing:
    """Who an incoming number belongs to, and what they have open."""

    phone: str
    people: list[User]
    caller: User | None  # exactly one person has the number
    tickets: list[Ticket]
    more: bool


def who_is_calling(phone: str, user: User, *, candidates: int = CALLER_CANDIDATES) -> Ringing:
    """An incoming call's number: the people who have it (at most `candidates`), the caller
    when exactly one does, and their open tickets `user` may read. The call form's screen pop
    (`?phone=`) and the inbound-call API answer from this one lookup."""
    people = directory.people_by_phone(phone, limit=candidates)
    tickets, more = open_tickets_of([p.pk for p in people], user)
    return Ringing(
        phone=phone,
        people=people,
        caller=people[0] if len(people) == 1 else None,
        tickets=tickets,
        more=more,
    )


def work_orders_on(ticket_ids: Iterable[int], *, limit: int = 50) -> list[WorkOrder]:
    """The work orders of these tickets (the caller has checked it may read them), newest
    visit first: what an asset's page lists for the tickets linked to it."""
    return list(
        WorkOrder.objects.filter(ticket_id__in=list(ticket_ids))
        .select_related("ticket", "technician")
        .order_by("-scheduled_start", "-pk")[:limit]
    )


def calls_on(ticket_ids: Iterable[int], *, limit: int = 50) -> list[Call]:
    """The calls logged on these tickets (the caller has checked it may read them), newest
    first."""
    return list(
        Call.objects.filter(ticket_id__in=list(ticket_ids))
        .select_related("ticket", "caller", "technician")
        .order_by("-started_at", "-pk")[:limit]
    )


# What the assistant's auto-triage learns from and reads (tierline.assist): plain values.
TRIAGE_FIELDS = ("subject", "description", "category_id", "team_id", "priority")


def triage_examples(*, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` resolved or closed tickets (not spam, not merged away): their id,
    text and the category, team and priority they ended with."""
    return list(
        Ticket.objects.filter(
            status__in=(Status.RESOLVED, Status.CLOSED), is_spam=False, merged_into__isnull=True
        )
        .order_by("-created_at", "-pk")
        .values("id", *TRIAGE_FIELDS)[:limit]
    )


def triage_facts(ticket_id: int) -> dict[str, Any] | None:
    """What auto-triage needs of one ticket, in one query: its text, the triaged fields, the
    levels the priority comes from, its version and whether it is still open."""
    return (
        Ticket.objects.filter(pk=ticket_id)
        .values(*TRIAGE_FIELDS, "number", "impact", "urgency", "tier", "version", "is_open")
        .first()
    )


def active_categories() -> QuerySet[Category]:
    """The categories in use (new tickets may be filed under them)."""
    return Category.objects.filter(is_active=True)


def open_ticket_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """How many open tickets each of these people is assigned (absent: none), in one query
    along the assignee index (auto-assignment's load and cap)."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = (
        Ticket.objects.filter(assignee_id__in=ids, is_open=True)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["assignee_id"]: row["n"] for row in rows}
