"""Who may see and do what. Every view, API view, search and export asks here.

Rules:
- a requester sees only tickets they asked for or that were shared with them, and no internal notes;
- a technician sees their teams' tickets and tickets assigned to them (and their own requests);
- a team lead and an administrator see every ticket;
- only Tier 2 or higher (or a lead) opens work orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

if TYPE_CHECKING:
    from tierline.desk.models import Call, Ticket, WorkOrder
    from tierline.people.models import User


def _teams(user: User) -> list[tuple[int, int]]:
    """(id, tier) of the user's teams: one query, cached on the user object for the request."""
    cached = getattr(user, "_tierline_teams", None)
    if cached is None:
        cached = list(user.teams.values_list("id", "tier")) if user.pk else []
        user._tierline_teams = cached
    return cached


def team_ids(user: User) -> list[int]:
    """The ids of the user's teams."""
    return [pk for pk, _ in _teams(user)]


def highest_tier(user: User) -> int:
    """The highest tier among the user's teams (0 when in none)."""
    return max((tier for _, tier in _teams(user)), default=0)


def is_staff_member(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff_member)


def sees_everything(user: User) -> bool:
    return bool(user.is_authenticated and user.is_lead)


def visible_tickets(user: User, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets this user may see, as a filter on `queryset`."""
    from tierline.desk.models import Ticket

    qs = Ticket.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return qs.none()
    if sees_everything(user):
        return qs
    if is_staff_member(user):
        return qs.filter(
            Q(team_id__in=team_ids(user)) | Q(assignee_id=user.pk) | Q(requester_id=user.pk)
        )
    return qs.filter(mine_or_shared(user))


def visible_work_orders(
    user: User, queryset: QuerySet[WorkOrder] | None = None
) -> QuerySet[WorkOrder]:
    """The work orders this user may see: help desk staff only, those of a ticket they may see
    or those they visit. (Today's rule of the API and of one work order's page, in one place.)

    The ticket's visibility is asked per row as EXISTS on the ticket's primary key, so a list
    walks its own index in order instead of first collecting every visible ticket.
    """
    from django.db.models import Exists, OuterRef

    from tierline.desk.models import Ticket, WorkOrder

    qs = WorkOrder.objects.all() if queryset is None else queryset
    if not is_staff_member(user):
        return qs.none()
    if sees_everything(user):
        return qs
    ticket_visible = Exists(visible_tickets(user, Ticket.objects.filter(pk=OuterRef("ticket_id"))))
    return qs.filter(Q(technician_id=user.pk) | ticket_visible)


def visible_calls(user: User, queryset: QuerySet[Call] | None = None) -> QuerySet[Call]:
    """The calls this user may see: a lead or administrator every call, a technician the calls
    they took, anyone else none. (Today's rule of the HTML call list, now the API's too; the
    visibility rework of issue 7 decides the final rule here.)"""
    from tierline.desk.models import Call

    qs = Call.objects.all() if queryset is None else queryset
    if not is_staff_member(user):
        return qs.none()
    if sees_everything(user):
        return qs
    return qs.filter(technician_id=user.pk)


def mine_or_shared(user: User) -> Q:
    """Tickets the user asked for or that were shared with them.

    The few shared ids are read first: "requester OR id IN (subquery)" makes the database scan
    every ticket instead of using the requester index.
    """
    from tierline.desk.models import Ticket

    cached = getattr(user, "_tierline_shared_ids", None)
    if cached is None:
        cached = list(
            Ticket.shared_with.through.objects.filter(user_id=user.pk).values_list(
                "ticket_id", flat=True
            )
        )
        user._tierline_shared_ids = cached
    if not cached:
        return Q(requester_id=user.pk)
    return Q(requester_id=user.pk) | Q(pk__in=cached)


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    if not user.is_authenticated:
        return False
    if sees_everything(user):
        return True
    if is_staff_member(user) and (
        ticket.team_id in team_ids(user) or ticket.assignee_id == user.pk
    ):
        return True
    if ticket.requester_id == user.pk:
        return True
    return ticket.shared_with.filter(pk=user.pk).exists()


def can_work_ticket(user: User, ticket: Ticket) -> bool:
    """Reply internally, assign, change, escalate, resolve: the help desk side."""
    if not is_staff_member(user):
        return False
    return (
        sees_everything(user) or ticket.team_id in team_ids(user) or ticket.assignee_id == user.pk
    )


def can_see_internal(user: User) -> bool:
    return is_staff_member(user)


def can_open_work_order(user: User) -> bool:
    return is_staff_member(user) and (sees_everything(user) or highest_tier(user) >= 2)


def ensure(allowed: bool, message: str = "You are not allowed to do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def ticket_for(user: User, number: str, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket with this number if the user may see it; 404 otherwise (never 403, which
    would tell a requester the number exists)."""
    try:
        # get(), not first(): no ORDER BY for the database to plan around a unique lookup.
        return visible_tickets(user, queryset).get(number=number)
    except ObjectDoesNotExist:
        raise Http404("No such ticket.") from None
