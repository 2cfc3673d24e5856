"""Which ticket a message belongs to: the number in its subject, else the Message-IDs it
answers (In-Reply-To, References) against the messages we stored and the mail we sent."""

from __future__ import annotations

import re

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services import conf
from tierline.mail.models import Inbound, Outbox
from tierline.mail.parsing import ParsedMail
from tierline.people.models import User

# A merged ticket points to the one it went into; follow at most this many hops.
MAX_MERGE_HOPS = 5


def number_in_subject(subject: str) -> str | None:
    """`TL-000123` from a subject holding `[TL-000123]` (any case), else None."""
    prefix = re.escape(conf()["TICKET_PREFIX"])
    match = re.search(rf"\[\s*({prefix}-\d{{6,12}})\s*\]", subject or "", re.IGNORECASE)
    return match.group(1).upper() if match else None


def _follow_merges(ticket: Ticket, reader: User) -> Ticket:
    for _hop in range(MAX_MERGE_HOPS):
        if not ticket.merged_into_id:
            break
        target = perms.visible_tickets(reader).filter(pk=ticket.merged_into_id).first()
        if target is None:
            break
        ticket = target
    return ticket


def find_ticket(parsed: ParsedMail, *, reader: User) -> tuple[Ticket | None, str]:
    """The ticket the message answers and how it was found ("subject" or "references"), read
    as `reader` (the mail system user); (None, "") when it answers none."""
    number = number_in_subject(parsed.subject)
    if number:
        ticket = perms.visible_tickets(reader).filter(number=number).first()
        if ticket is not None:
            return _follow_merges(ticket, reader), "subject"
    if parsed.in_reply_to:
        earlier = (
            Inbound.objects.filter(
                raw__message_id__in=parsed.in_reply_to[:50], ticket__isnull=False
            )
            .order_by("-pk")
            .values_list("ticket_id", flat=True)
            .first()
        )
        if earlier is None:  # an answer to our own mail: its Message-ID is in the outbox
            earlier = (
                Outbox.objects.filter(message_id__in=parsed.in_reply_to[:50], ticket__isnull=False)
                .order_by("-pk")
                .values_list("ticket_id", flat=True)
                .first()
            )
        if earlier is not None:
            ticket = perms.visible_tickets(reader).filter(pk=earlier).first()
            if ticket is not None:
                return _follow_merges(ticket, reader), "references"
    return None, ""
