"""Mail to the requester on the desk's events, and the polite refusal of the "reject" policy.

After-commit handlers (mail/outbound_subscriptions.py) only enqueue a task with ids
(`outbound_tasks.mail_for_desk_event`, which calls `mail_for_desk_event` here); the task reads
the rows as they are now and queues at most one message per event (its `key`), so a task run
twice sends once:

    TicketOpened    an acknowledgement (not for a child ticket, nor one opened by mail that the
                    loop rules call automatic)
    MessageAdded    each public reply by the desk, with its public files (not the
                    requester's own, not a note, not the resolution note: the resolution
                    notice carries it)
    Resolved        the resolution notice
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from tierline.desk import permissions as perms
from tierline.desk.models import Attachment, Message, Status, Ticket
from tierline.desk.services import conf
from tierline.mail import loops, mailboxes, outbound, parsing, rawstore
from tierline.mail.models import Inbound, Outbox

logger = logging.getLogger(__name__)

REJECTION_EVERY = timedelta(hours=24)


# --- the task's work ------------------------------------------------------------------------


def _ticket_url(ticket: Ticket) -> str:
    return f"{outbound.conf_out()['SITE_URL']}/portal/tickets/{ticket.number}/"


def _context(ticket: Ticket) -> dict[str, object]:
    requester = ticket.requester
    return {
        "ticket_number": ticket.number or "",
        "ticket_subject": ticket.subject,
        "ticket_url": _ticket_url(ticket),
        "requester_name": requester.get_full_name() or requester.username,
    }


def opened_by_machine(ticket: Ticket) -> str | None:
    """Why the ticket's opening mail looks automatic (the loop rules, asked again of the raw
    message), else None. The gateway ignores such mail, so this is a second lock on the door:
    an acknowledgement never answers an automatic reply or a bounce."""
    inbound = (
        Inbound.objects.filter(ticket=ticket, outcome=Inbound.Outcome.NEW_TICKET)
        .select_related("raw")
        .first()
    )
    if inbound is None:
        return None
    try:
        msg, parsed = parsing.parse(rawstore.read(inbound.raw.path))
    except Exception as exc:  # noqa: BLE001 - unreadable now: answer nothing
        return f"its email can't be read again ({exc.__class__.__name__})"
    return loops.automatic_reason(
        msg,
        parsed,
        envelope_sender=inbound.raw.envelope_sender,
        own_addresses=mailboxes.own_addresses(),
    )


def _is_resolution_note(ticket: Ticket, message: Message) -> bool:
    if ticket.status != Status.RESOLVED or message.body != ticket.resolution_note:
        return False
    later = Message.objects.filter(ticket=ticket, internal=False, pk__gt=message.pk).exists()
    return not later


def mail_for_desk_event(
    *, kind: str, ticket_id: int, message_id: int | None = None
) -> Outbox | None:
    """Queue the requester's mail for one desk event; the row, or None when none is due."""
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    requester = ticket.requester
    if requester.is_system or not requester.is_active or not requester.email:
        return None
    try:
        to = outbound.address(requester.email)
    except ValueError:
        logger.info("mail: %s has no usable address (%r)", requester.username, requester.email)
        return None
    context = _context(ticket)
    from_mail = ticket.channel == "email"
    if kind == "acknowledgement":
        if ticket.parent_id is not None:
            return None
        machine = opened_by_machine(ticket)
        if machine:
            logger.info("mail: no acknowledgement for %s: %s", ticket.number, machine)
            return None
        return outbound.queue_mail(
            to=to,
            template="acknowledgement",
            context=context,
            ticket=ticket,
            automatic=outbound.AUTO_REPLIED if from_mail else outbound.AUTO_GENERATED,
            key=f"acknowledgement:ticket:{ticket.pk}",
        )
    if kind == "reply":
        message = Message.objects.select_related("author").filter(pk=message_id).first()
        if message is None or message.internal or message.ticket_id != ticket.pk:
            return None
        author = message.author
        if author is None or author.pk == ticket.requester_id or not perms.is_staff_member(author):
            return None
        if _is_resolution_note(ticket, message):
            return None
        context |= {
            "message": message.body,
            "author_name": author.get_full_name() or author.username,
        }
        return outbound.queue_mail(
            to=to,
            template="reply",
            context=context,
            ticket=ticket,
            automatic=outbound.AUTO_GENERATED if author.is_system else None,
            key=f"reply:message:{message.pk}",
            attachments=Attachment.objects.filter(message=message, internal=False)
            .order_by("pk")
            .values_list("pk", flat=True),
        )
    if kind == "resolved":
        if ticket.status != Status.RESOLVED or ticket.resolved_at is None:
            return None
        context |= {"resolution": ticket.resolution_note, "reopen_days": conf()["REOPEN_DAYS"]}
        return outbound.queue_mail(
            to=to,
            template="resolved",
            context=context,
            ticket=ticket,
            automatic=outbound.AUTO_GENERATED,
            key=f"resolved:ticket:{ticket.pk}:{ticket.resolved_at.timestamp():.0f}",
        )
    raise ValueError(f"Unknown desk mail {kind!r}.")


def queue_rejection(*, inbound: Inbound) -> Outbox | None:
    """The polite refusal to an unknown sender of a "reject" mailbox: only to mail the loop
    rules found a person wrote (the gateway checks those first), never twice a day to one
    address, marked automatic, threaded to the refused message."""
    if not outbound.enabled() or not inbound.sender:
        return None
    try:
        to = outbound.address(inbound.sender)
    except ValueError:
        return None
    since = timezone.now() - REJECTION_EVERY
    if Outbox.objects.filter(to=to, template="rejected", created_at__gte=since).exists():
        return None
    return outbound.queue_mail(
        to=to,
        template="rejected",
        context={"original_subject": outbound.header_text(inbound.subject or "(no subject)")},
        automatic=outbound.AUTO_REPLIED,
        in_reply_to=inbound.raw.message_id,
        key=f"rejected:inbound:{inbound.pk}",
    )
