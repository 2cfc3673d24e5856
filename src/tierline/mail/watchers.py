"""Who follows a ticket: watchers (CC'd on its mail, or added by a technician) and the
colleagues its requester shares it with (the desk's sharing, read, not copied).

A watcher is told of replies, the resolution and a reopening, but only of what they may read:
a requester who watches is never told of an internal note (see `notify`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from tierline.desk import permissions as perms
from tierline.desk import services as desk
from tierline.desk.models import Ticket
from tierline.mail.models import Watcher
from tierline.people import queries as people
from tierline.people.models import User


def _name(person: User) -> str:
    return person.get_full_name() or person.username


def watcher_ids(ticket_id: int) -> set[int]:
    """Everyone following the ticket: its watchers and the people it is shared with."""
    return watcher_ids_by_ticket([ticket_id]).get(ticket_id, set())


def watcher_ids_by_ticket(ticket_ids: Iterable[int]) -> dict[int, set[int]]:
    """`watcher_ids` of each of these tickets (those followed by nobody left out), in one
    query: the watchers and the shares, as one UNION ALL."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    watching = (
        Watcher.objects.filter(ticket_id__in=ids).order_by().values_list("ticket_id", "person_id")
    )
    shared = (
        Ticket.shared_with.through.objects.filter(ticket_id__in=ids)
        .order_by()
        .values_list("ticket_id", "user_id")
    )
    found: dict[int, set[int]] = {}
    for ticket_id, person_id in watching.union(shared, all=True):
        found.setdefault(ticket_id, set()).add(person_id)
    return found


def followers_of(ticket: Ticket) -> list[User]:
    """Everyone following the ticket, in one query: each with `is_watcher` (a watcher, who
    may be removed here) and `is_shared` (shared by the requester, from the portal)."""
    watcher = Watcher.objects.filter(ticket_id=ticket.pk, person=OuterRef("pk"))
    shared = Ticket.shared_with.through.objects.filter(ticket_id=ticket.pk, user=OuterRef("pk"))
    return list(
        people.everyone()
        .annotate(is_watcher=Exists(watcher), is_shared=Exists(shared))
        .filter(Q(is_watcher=True) | Q(is_shared=True))
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def add_watcher(*, ticket: Ticket, by: User, person: User) -> bool:
    """A technician who reads the ticket as the help desk adds `person`; True if new.

    One history entry on the ticket names who was added."""
    perms.ensure(
        perms.can_note_ticket(by, ticket),
        "Only the help desk, reading this ticket, adds watchers.",
    )
    if not person.is_active or person.is_system:
        raise ValidationError({"person": f"{_name(person)} can't sign in, so can't follow it."})
    if not perms.can_read_ticket(person, ticket):
        raise ValidationError(
            {
                "person": f"{_name(person)} can't read {ticket.number}: the requester shares "
                "a request with a colleague from the portal."
            }
        )
    try:
        with transaction.atomic():
            _, created = Watcher.objects.get_or_create(
                ticket=ticket, person=person, defaults={"added_by": by}
            )
    except IntegrityError:  # added a moment ago by a colleague
        return False
    if created:
        desk.record_on_ticket(
            ticket_id=ticket.pk, by=by, action="watcher added", summary=_name(person)
        )
    return created


@transaction.atomic
def remove_watcher(*, ticket: Ticket, by: User, person: User) -> bool:
    """A technician who reads the ticket as the help desk, or the watcher themself, removes a
    watcher; True if they were watching."""
    perms.ensure(
        person.pk == by.pk or perms.can_note_ticket(by, ticket),
        "Only the help desk, reading this ticket, removes watchers.",
    )
    deleted, _ = Watcher.objects.filter(ticket=ticket, person=person).delete()
    if deleted:
        desk.record_on_ticket(
            ticket_id=ticket.pk, by=by, action="watcher removed", summary=_name(person)
        )
    return bool(deleted)


def add_cc_watchers(*, ticket: Ticket, addresses: Iterable[str], by: User) -> list[User]:
    """The known people CC'd on a ticket's mail follow it (those who may read it: a
    technician who reads it as the help desk, or someone it is shared with). Inside the mail
    gateway's transaction; who was added."""
    added = []
    for address in addresses:
        person = people.person_by_email(address)
        if person is None or person.pk == ticket.requester_id or person.is_system:
            continue
        if not perms.can_read_ticket(person, ticket):
            continue
        _, created = Watcher.objects.get_or_create(
            ticket=ticket, person=person, defaults={"added_by": by}
        )
        if created:
            added.append(person)
    if added:
        names = ", ".join(_name(p) for p in added)
        desk.record_on_ticket(
            ticket_id=ticket.pk, by=by, action="watcher added", summary=f"{names} (CC'd)"
        )
    return added
