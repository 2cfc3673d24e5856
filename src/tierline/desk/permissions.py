"""Who may read and do what with tickets and everything hanging on them: the one visibility model.

Every HTML view, API view, search, export and service asks here (as `perms`), so a rule changes
in one place. The rules:

- **Reading a ticket.** Every technician reads every ticket (Tier 1 answers the phone about a
  ticket it escalated), except those of a *restricted* team (HR, security): these are read only
  by the team's members, its assignee, team leads and administrators. A requester reads the
  tickets they asked for and those shared with them; so does a technician, for their own.
- **Reading as a technician.** Internal notes and their files, escalation summaries, calls, work
  orders and the full history are shown to people who read the ticket *as a technician*. A
  technician who reads another team's restricted ticket only because they asked for it (or it
  was shared with them) reads it as a requester.
- **Working a ticket** (public reply, change, assign, escalate, resolve, merge, ...) stays with
  the ticket's team, its assignee, team leads and administrators. Any other technician who reads
  it as a technician may add an internal note and log a call on it.
- **Sharing a request** with colleagues (and no longer) belongs to the person who asked for it;
  a colleague it is shared with reads and replies to it as a requester, nothing more.
- **Work orders** are opened by Tier 2 and above working the ticket; changed, started,
  completed or cancelled by Tier 2 and above working the ticket, their field technician, a lead
  or an administrator; never by Tier 1 otherwise.
- **System users** (mail, service targets, the assistant, the scheduler) act with a lead's reach.

Lists stay fast: for a technician the few restricted teams they are *not* in are read once (one
small query, cached on the user object for the request) and a list is filtered with
"team NOT IN (hidden) OR assignee = me OR (my own or shared request)"; with no hidden team (the
common case) a list is not filtered at all.

What a person may not read answers 404 (never 403, which would tell that the number exists);
what they read but may not do answers 403 (PermissionDenied).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from tierline.core.history import history_of
from tierline.core.models import HistoryEntry
from tierline.people import queries as people_queries

if TYPE_CHECKING:
    from tierline.desk.models import Attachment, Call, Message, Ticket, WorkOrder
    from tierline.people.models import User


# --- who the user is ------------------------------------------------------------------------


def is_staff_member(user: User) -> bool:
    """Works on the help desk side (technician, lead, administrator, system user)."""
    return bool(user.is_authenticated and (user.is_staff_member or user.is_system))


def sees_everything(user: User) -> bool:
    """Team leads, administrators and the integrations' system users."""
    return bool(user.is_authenticated and (user.is_lead or user.is_system))


def team_ids(user: User) -> list[int]:
    """The ids of the user's teams (read once per request, cached on the user object)."""
    return [pk for pk, _ in people_queries.team_memberships(user)]


def highest_tier(user: User) -> int:
    """The highest tier among the user's teams (0 when in none)."""
    return max((tier for _, tier in people_queries.team_memberships(user)), default=0)


def hidden_team_ids(user: User) -> list[int]:
    """The restricted teams whose tickets this technician may not read: read with the user's
    teams in one small query, cached on the user object. Empty for leads, administrators and
    system users."""
    if sees_everything(user):
        return []
    return people_queries.restricted_team_ids_outside(user)


def _shared_ids(user: User) -> list[int]:
    """Ids of the tickets shared with the user (few), cached on the user object."""
    from tierline.desk.models import Ticket

    cached = getattr(user, "_tierline_shared_ids", None)
    if cached is None:
        cached = (
            list(
                Ticket.shared_with.through.objects.filter(user_id=user.pk).values_list(
                    "ticket_id", flat=True
                )
            )
            if user.pk
            else []
        )
        user._tierline_shared_ids = cached
    return cached


def mine_or_shared(user: User) -> Q:
    """Tickets the user asked for or that were shared with them.

    The few shared ids are read first: "requester OR id IN (subquery)" makes the database scan
    every ticket instead of using the requester index.
    """
    shared = _shared_ids(user)
    if not shared:
        return Q(requester_id=user.pk)
    return Q(requester_id=user.pk) | Q(pk__in=shared)


def _is_requester_side(user: User, ticket: Ticket) -> bool:
    return ticket.requester_id == user.pk or ticket.pk in _shared_ids(user)


# --- one ticket -----------------------------------------------------------------------------


def can_read_as_technician(user: User, ticket: Ticket) -> bool:
    """Reads the ticket as the help desk: internal notes, calls, work orders, full history."""
    if not is_staff_member(user):
        return False
    return (
        sees_everything(user)
        or ticket.team_id not in hidden_team_ids(user)
        or ticket.assignee_id == user.pk
    )


def can_read_ticket(user: User, ticket: Ticket) -> bool:
    """Reads the ticket at all (as a technician, or as its requester or someone it is shared
    with)."""
    if not user.is_authenticated:
        return False
    return can_read_as_technician(user, ticket) or _is_requester_side(user, ticket)


def can_work_ticket(user: User, ticket: Ticket) -> bool:
    """Reply, change, assign, escalate, resolve, merge, link, split: the ticket's team, its
    assignee, leads and administrators."""
    if not is_staff_member(user):
        return False
    return (
        sees_everything(user) or ticket.team_id in team_ids(user) or ticket.assignee_id == user.pk
    )


def can_reply_ticket(user: User, ticket: Ticket) -> bool:
    """A public reply (or files the requester sees): those who work it, and its requester side."""
    return can_work_ticket(user, ticket) or (
        user.is_authenticated and _is_requester_side(user, ticket)
    )


def can_note_ticket(user: User, ticket: Ticket) -> bool:
    """An internal note: any technician who reads the ticket as a technician."""
    return can_read_as_technician(user, ticket)


def can_log_call(user: User, ticket: Ticket | None = None) -> bool:
    """A call, on its own or on a ticket the technician reads as a technician."""
    if ticket is None:
        return is_staff_member(user)
    return can_read_as_technician(user, ticket)


def can_share_ticket(user: User, ticket: Ticket) -> bool:
    """Share the request with colleagues, or stop sharing it: the person who asked for it."""
    return bool(user.is_authenticated and ticket.requester_id == user.pk)


def internal_visible(user: User, ticket: Ticket) -> bool:
    """Whether internal notes, internal files, escalation summaries, calls, work orders and the
    full history of this ticket are shown to the user."""
    return can_read_as_technician(user, ticket)


# --- work orders ----------------------------------------------------------------------------


def can_open_work_order(user: User, ticket: Ticket | None = None) -> bool:
    """Tier 2 and above (or a lead), working the ticket when one is given."""
    if not is_staff_member(user):
        return False
    if not (sees_everything(user) or highest_tier(user) >= 2):
        return False
    return ticket is None or can_work_ticket(user, ticket)


def can_change_work_order(user: User, work_order: WorkOrder) -> bool:
    """Change, reassign, start, complete or cancel: its field technician, a lead or an
    administrator, or Tier 2 and above working its ticket. Not Tier 1."""
    if not is_staff_member(user):
        return False
    if sees_everything(user) or work_order.technician_id == user.pk:
        return True
    return highest_tier(user) >= 2 and can_work_ticket(user, work_order.ticket)


def can_read_work_order(user: User, work_order: WorkOrder) -> bool:
    if not is_staff_member(user):
        return False
    return work_order.technician_id == user.pk or can_read_as_technician(user, work_order.ticket)


# --- lists ----------------------------------------------------------------------------------


def visible_tickets(user: User, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets this user may read, as a filter on `queryset`."""
    from tierline.desk.models import Ticket

    qs = Ticket.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return qs.none()
    if not is_staff_member(user):
        return qs.filter(mine_or_shared(user))
    hidden = hidden_team_ids(user)
    if not hidden:
        return qs
    return qs.filter(~Q(team_id__in=hidden) | Q(assignee_id=user.pk) | mine_or_shared(user))


def technician_tickets(user: User, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets this user reads as a technician (for reports on the desk's own work)."""
    from tierline.desk.models import Ticket

    qs = Ticket.objects.all() if queryset is None else queryset
    if not is_staff_member(user):
        return qs.none()
    hidden = hidden_team_ids(user)
    if not hidden:
        return qs
    return qs.filter(~Q(team_id__in=hidden) | Q(assignee_id=user.pk))


def _ticket_read_as_technician(user: User) -> Exists:
    """Per row of a list of calls or work orders: may the user read its ticket as a technician?

    Asked as EXISTS on the ticket's primary key, so a list walks its own index in order and
    probes one ticket per row, instead of first collecting every readable ticket."""
    from tierline.desk.models import Ticket

    return Exists(technician_tickets(user, Ticket.objects.filter(pk=OuterRef("ticket_id"))))


def visible_calls(user: User, queryset: QuerySet[Call] | None = None) -> QuerySet[Call]:
    """The calls this user may read: the help desk reads every call whose ticket it reads as a
    technician, the calls solved on the phone (no ticket), and always the calls it took."""
    from tierline.desk.models import Call

    qs = Call.objects.all() if queryset is None else queryset
    if not is_staff_member(user):
        return qs.none()
    if not hidden_team_ids(user):
        return qs
    return qs.filter(
        Q(ticket_id__isnull=True) | Q(technician_id=user.pk) | _ticket_read_as_technician(user)
    )


def visible_work_orders(
    user: User, queryset: QuerySet[WorkOrder] | None = None
) -> QuerySet[WorkOrder]:
    """The work orders this user may read: like calls, those of tickets read as a technician,
    and always the visits they make."""
    from tierline.desk.models import WorkOrder

    qs = WorkOrder.objects.all() if queryset is None else queryset
    if not is_staff_member(user):
        return qs.none()
    if not hidden_team_ids(user):
        return qs
    return qs.filter(Q(technician_id=user.pk) | _ticket_read_as_technician(user))


def visible_messages(user: User, ticket: Ticket) -> QuerySet[Message]:
    """The ticket's replies, with its internal notes for those who read it as a technician."""
    from tierline.desk.models import Message

    messages = Message.objects.filter(ticket=ticket)
    if not internal_visible(user, ticket):
        messages = messages.filter(internal=False)
    return messages


def visible_attachments(user: User, ticket: Ticket) -> QuerySet[Attachment]:
    """The ticket's files, without internal ones (and internal notes') unless read as a
    technician."""
    from tierline.desk.models import Attachment

    files = Attachment.objects.filter(ticket=ticket)
    if not internal_visible(user, ticket):
        files = files.filter(Q(message__isnull=True) | Q(message__internal=False), internal=False)
    return files


def can_read_attachment(user: User, attachment: Attachment) -> bool:
    """One file: its ticket is readable, and it is not an internal file (or an internal note's)
    for someone who reads the ticket as a requester."""
    ticket = attachment.ticket
    if not can_read_ticket(user, ticket):
        return False
    if attachment.internal or (attachment.message_id is not None and attachment.message.internal):
        return internal_visible(user, ticket)
    return True


def visible_history(user: User, ticket: Ticket) -> QuerySet[HistoryEntry]:
    """The ticket's history, oldest first: all of it as a technician, the status changes as a
    requester."""
    entries = history_of(ticket)
    if not internal_visible(user, ticket):
        entries = entries.filter(field="status")
    return entries


# --- answers --------------------------------------------------------------------------------


def ensure(allowed: bool, message: str = "You are not allowed to do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def ticket_for(user: User, number: str, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket with this number if the user may read it; 404 otherwise (never 403, which
    would tell a requester the number exists)."""
    if not number.isprintable():
        # PostgreSQL refuses a NUL in a query parameter (a 500); no number holds one anyway.
        raise Http404("No such ticket.")
    try:
        # get(), not first(): no ORDER BY for the database to plan around a unique lookup.
        return visible_tickets(user, queryset).get(number=number)
    except ObjectDoesNotExist:
        raise Http404("No such ticket.") from None
