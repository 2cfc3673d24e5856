"""Sharing a request with colleagues: they follow it in their portal and may reply to it.

Only the person who asked for the request shares it or stops sharing it. A colleague it is
shared with reads it as a requester does (desk.permissions.mine_or_shared), never more.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services.saving import lock_current
from tierline.people.models import User

NOT_YOURS = "Only the person who asked for this request can change who it is shared with."


def _person_name(person: User) -> str:
    return person.get_full_name() or person.username


@transaction.atomic
def share_ticket(*, ticket: Ticket, by: User, colleague: User) -> bool:
    """Share `ticket` with `colleague`; True when it was not shared with them before.

    One history entry names who was added. Sharing again with the same person changes nothing.
    """
    perms.ensure(perms.can_share_ticket(by, ticket), NOT_YOURS)
    if colleague.pk == ticket.requester_id:
        raise ValidationError({"colleague": "This is your own request: you already follow it."})
    if not colleague.is_active or colleague.is_system:
        raise ValidationError(
            {"colleague": f"{_person_name(colleague)} can't sign in, so can't follow it."}
        )
    # The row lock makes two shares with the same person take turns: one history entry.
    lock_current(ticket)
    if ticket.shared_with.filter(pk=colleague.pk).exists():
        return False
    ticket.shared_with.add(colleague)
    record(ticket, by, "shared", field="shared_with", new=_person_name(colleague))
    return True


@transaction.atomic
def unshare_ticket(*, ticket: Ticket, by: User, colleague: User) -> bool:
    """Stop sharing `ticket` with `colleague`; True when it was shared with them."""
    perms.ensure(perms.can_share_ticket(by, ticket), NOT_YOURS)
    lock_current(ticket)
    if not ticket.shared_with.filter(pk=colleague.pk).exists():
        return False
    ticket.shared_with.remove(colleague)
    record(ticket, by, "unshared", field="shared_with", old=_person_name(colleague))
    return True
