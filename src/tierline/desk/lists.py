"""The desk's lists, declared once: tickets, work orders, calls (see core/lists.py).

Each names what may be seen (the visibility function of desk.permissions, asked through the
module so a change of rule there reaches every list), its FilterSet, the orders it allows (each
backed by an index: desk.filters), its page size and what a row shows. The queue pages, search,
the CSV export, the API's lists, the work-order day and the call list are all built from these.
"""

from __future__ import annotations

from tierline.core.lists import ListSpec
from tierline.desk import permissions as perms
from tierline.desk.filters import (
    CALL_ORDERINGS,
    DEFAULT_SORT,
    TICKET_EXTRAS,
    TICKET_ORDERINGS,
    WORK_ORDER_ORDERINGS,
    CallFilter,
    TicketFilter,
    WorkOrderFilter,
)
from tierline.desk.models import Call, Ticket, WorkOrder


def _visible_tickets(user, queryset):
    return perms.visible_tickets(user, queryset)


def _visible_work_orders(user, queryset):
    return perms.visible_work_orders(user, queryset)


def _visible_calls(user, queryset):
    return perms.visible_calls(user, queryset)


# The workspace's queues: counted (a queue is an open backlog, and its index counts it), with
# page numbers.
QUEUE = ListSpec(
    model=Ticket,
    visible=_visible_tickets,
    filterset=TicketFilter,
    orderings=TICKET_ORDERINGS,
    default_ordering=DEFAULT_SORT,
    columns=("requester", "assignee", "team", "category"),
    counted=True,
    extras=TICKET_EXTRAS,
)

# Every ticket one may see (the API's list, search): not counted, since for a technician that is
# nearly the whole table; a page knows only whether another follows.
TICKETS = ListSpec(
    model=Ticket,
    visible=_visible_tickets,
    filterset=TicketFilter,
    orderings=TICKET_ORDERINGS,
    default_ordering=DEFAULT_SORT,
    columns=("requester", "assignee", "team", "category"),
    # The API's row shows them; few tickets have one (one query then, none otherwise).
    prefetched=("parent", "merged_into"),
    extras=TICKET_EXTRAS,
)

WORK_ORDERS = ListSpec(
    model=WorkOrder,
    visible=_visible_work_orders,
    filterset=WorkOrderFilter,
    orderings=WORK_ORDER_ORDERINGS,
    default_ordering="scheduled",
    columns=("ticket", "ticket__requester", "technician", "created_by", "location"),
)

CALLS = ListSpec(
    model=Call,
    visible=_visible_calls,
    filterset=CallFilter,
    orderings=CALL_ORDERINGS,
    default_ordering="-started",
    columns=("caller", "technician", "ticket"),
)
