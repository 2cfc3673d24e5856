"""Read-side shapes for the requester portal: my requests, one request's public conversation."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from tierline.desk import permissions as perms
from tierline.desk.models import Category, Status, Ticket
from tierline.desk.queries import TimelineEntry, timeline
from tierline.people.models import User


def my_requests(user: User) -> QuerySet[Ticket]:
    """Tickets this person asked for or that were shared with them, and that they may see.

    Technicians see their teams' work in the desk; in the portal they see only their own requests.
    """
    return perms.visible_tickets(user).filter(perms.mine_or_shared(user))


def request_list(user: User, *, closed: bool = False) -> QuerySet[Ticket]:
    """One tab of "My requests", with what a row shows loaded in the same query.

    Open is everything not closed: a resolved request waits for the requester's "Did this fix
    it?", so it leads the tab (then newest first), and it is not under Closed. A requester has
    few requests: sorting them on the resolved flag costs nothing.
    """
    tickets = my_requests(user).select_related("category", "requester")
    if closed:
        return tickets.filter(status=Status.CLOSED).order_by("-created_at", "-pk")
    awaiting = Case(
        When(status=Status.RESOLVED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        tickets.exclude(status=Status.CLOSED)
        .annotate(awaiting_confirmation=awaiting)
        .order_by("awaiting_confirmation", "-created_at", "-pk")
    )


def request_counts(user: User) -> dict[str, int]:
    """How many open (anything not closed) and closed requests, for the tabs: one query."""
    return my_requests(user).aggregate(
        open=Count("pk", filter=~Q(status=Status.CLOSED)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
    )


def shared_with(ticket: Ticket) -> list[User]:
    """The colleagues a request is shared with, by name: one query."""
    return list(ticket.shared_with.order_by("first_name", "last_name", "username"))


def public_timeline(ticket: Ticket, user: User) -> list[TimelineEntry]:
    """Public replies, files and status changes, oldest first: nothing internal to the desk."""
    return timeline(ticket, user, public_only=True)


def category_tree() -> list[tuple[Category, list[Category]]]:
    """Active categories as (top level, its active descendants), in tree order. One query."""
    categories = list(
        Category.objects.filter(is_active=True).select_related("parent").order_by("full_name")
    )
    active_ids = {c.pk for c in categories}
    tops = [c for c in categories if c.parent_id is None]
    children: dict[int, list[Category]] = {c.pk: [] for c in tops}
    by_pk = {c.pk: c for c in categories}
    for category in categories:
        if category.parent_id is None:
            continue
        # Walk up to the top; a descendant of an inactive branch is left out.
        node, ok = category, True
        while node.parent_id is not None:
            if node.parent_id not in active_ids:
                ok = False
                break
            node = by_pk[node.parent_id]
        if ok:
            children[node.pk].append(category)
    return [(top, children[top.pk]) for top in tops]
