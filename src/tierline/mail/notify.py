"""Who is told what: the desk's events become notifications (in-app, by email, or not at all,
as each person chose per kind of event) and webhook deliveries.

    the desk's service publishes events   ->  `_collect` (in the transaction) adds each to the
                                              transaction's one `_Batch`
    the transaction commits               ->  `_Batch()` runs once: `notify(events)` writes one
                                              notification per person and ticket, the strongest
                                              reason winning (one resolution, one notice), and
                                              `webhooks.queue(events)` writes the deliveries

Nothing here runs on rollback. Rules of who hears what (`recipients`):

    TicketOpened     the ticket's team                                  new_ticket
    TicketAssigned   the new assignee                                   assigned
    MessageAdded     public: requester, shared, watchers, assignee       reply
                     internal: assignee and watchers who read it as the help desk; `@username`
                     of a technician who reads it as the help desk        mention
    Escalated        the team it went to                                escalated
    Resolved         requester, shared, watchers                        resolved
    Reopened         assignee, watchers, requester side                 reopened
    WorkOrderOpened  the field technician                               work_order

The service targets' notices ("at risk", "breached", "paged") are no desk event: the sla app hands them
to `core.notifications.notify`, and `deliver_notice` (registered in `register`) writes them the
same way, by each person's channel for the kind.

Whoever did it is not told. Nobody is told of a ticket they may not read, and a recipient of
an internal note (or a mention) must read the ticket as the help desk: a requester never
hears of an internal note.

Email: `send_email` is the one place that hands an email over. The outbound SMTP sender
(`mail/outbound.py`, `queue_mail`) is not in this tree yet, so it records the email "to send"
(`NotificationEmail`, sent_at empty).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tierline.core import events, notifications
from tierline.desk import events as desk_events
from tierline.desk import permissions as perms
from tierline.desk.models import Message, Ticket
from tierline.mail.models import (
    Notification,
    NotificationChannel,
    NotificationEmail,
    NotificationKind,
    NotificationPreference,
)
from tierline.mail.watchers import watcher_ids_by_ticket
from tierline.people import queries as people
from tierline.people.models import User

logger = logging.getLogger(__name__)

Kind = NotificationKind
Channel = NotificationChannel

# When one transaction gives a person several reasons to hear of one ticket, the first of
# these wins (a resolution with its note and status change is one "resolved").
KIND_RANK: tuple[str, ...] = (
    Kind.MENTION,
    Kind.SLA_PAGED,
    Kind.SLA_BREACHED,
    Kind.SLA_AT_RISK,
    Kind.ASSIGNED,
    Kind.WORK_ORDER,
    Kind.RESOLVED,
    Kind.REOPENED,
    Kind.ESCALATED,
    Kind.REPLY,
    Kind.NEW_TICKET,
)
# Kinds only the help desk hears of (the recipient must read the ticket as a technician).
DESK_KINDS = frozenset(
    {
        Kind.NEW_TICKET,
        Kind.ASSIGNED,
        Kind.MENTION,
        Kind.ESCALATED,
        Kind.SLA_AT_RISK,
        Kind.SLA_BREACHED,
        Kind.SLA_PAGED,
    }
)

# Defaults, when a person has chosen nothing for a kind: the help desk gets everything in the
# app and by email what is theirs to act on; a requester is emailed about their requests.
STAFF_DEFAULTS: dict[str, str] = {
    Kind.NEW_TICKET: Channel.IN_APP,
    Kind.ASSIGNED: Channel.EMAIL,
    Kind.REPLY: Channel.IN_APP,
    Kind.MENTION: Channel.EMAIL,
    Kind.ESCALATED: Channel.IN_APP,
    Kind.RESOLVED: Channel.IN_APP,
    Kind.REOPENED: Channel.IN_APP,
    Kind.WORK_ORDER: Channel.EMAIL,
    Kind.SLA_AT_RISK: Channel.IN_APP,
    Kind.SLA_BREACHED: Channel.EMAIL,
    Kind.SLA_PAGED: Channel.IN_APP,  # the page sends its own email
}
REQUESTER_DEFAULTS: dict[str, str] = {
    **dict.fromkeys(Kind.values, Channel.IN_APP),
    Kind.REPLY: Channel.EMAIL,
    Kind.RESOLVED: Channel.EMAIL,
}

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.+-]{1,150})")


def default_channel(person: User, kind: str) -> str:
    defaults = STAFF_DEFAULTS if perms.is_staff_member(person) else REQUESTER_DEFAULTS
    return defaults.get(kind, Channel.IN_APP)


def mentioned_usernames(text: str) -> set[str]:
    """The `@username`s of a note (an email address is not a mention)."""
    return {name.rstrip(".").lower() for name in MENTION.findall(text or "")}


# --- collecting per transaction -------------------------------------------------------------


class _Batch:
    """The events of one transaction, handled once, on its commit."""

    def __init__(self) -> None:
        self.events: list[desk_events.TicketEvent] = []
        self.done = False

    def __call__(self) -> None:
        self.done = True
        handle(self.events)


def _current_batch() -> _Batch:
    connection = transaction.get_connection()
    for entry in connection.run_on_commit:
        callback = entry[1]
        if isinstance(callback, _Batch) and not callback.done:
            return callback
    batch = _Batch()
    transaction.on_commit(batch)
    return batch


def _collect(event: desk_events.TicketEvent) -> None:
    """In the publishing transaction: keep the event for its commit. Never raises into the
    desk (a notice must not undo a ticket)."""
    try:
        if not transaction.get_connection().in_atomic_block:
            handle([event])
            return
        _current_batch().events.append(event)
    except Exception:
        logger.exception("notify: could not collect %r", event)


def _on_ticket_viewed(event: desk_events.TicketViewed) -> None:
    """Opening a ticket's page reads its notices; a failure is logged, the page still shows."""
    if event.actor_id is None:
        return
    try:
        _read_ticket(person_id=event.actor_id, ticket_id=event.ticket_id)
    except Exception:
        logger.exception("notify: could not mark ticket %s read", event.ticket_id)


def register() -> None:
    """Subscribe to the desk's ticket events and deliver other apps' notices (MailConfig.ready)."""
    events.subscribe(desk_events.TicketEvent, _collect, when="transaction")
    notifications.register_deliverer(deliver_notice)
    # Run at once (there is no transaction around a page view to wait for).
    events.subscribe(desk_events.TicketViewed, _on_ticket_viewed, when="transaction")


def handle(batch: list[desk_events.TicketEvent]) -> None:
    """After commit: the notifications and the webhook deliveries of a transaction's events.
    A failure is logged; the desk's change stays."""
    from tierline.mail import webhooks

    for step in (notify, webhooks.queue):
        try:
            step(batch)
        except Exception:
            logger.exception("notify: %s failed on %d events", step.__name__, len(batch))


# --- who hears what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    person_id: int
    kind: str
    ticket_id: int
    actor_id: int | None
    desk_only: bool  # about something only the help desk reads (an internal note)


def _requester_side(ticket: Ticket) -> set[int]:
    return {ticket.requester_id}


class Lookups:
    """What `recipients` reads, read once for all the events of a transaction: the followers of
    its tickets (one query for them all, when first asked) and each team's members (once per
    team). Nothing is written between the events' reads, so each reads what it read alone."""

    def __init__(self, ticket_ids: Iterable[int]) -> None:
        self.ticket_ids = set(ticket_ids)
        self._followers: dict[int, set[int]] | None = None
        self._members: dict[int, set[int]] = {}

    def watcher_ids(self, ticket_id: int) -> set[int]:
        if self._followers is None:
            self._followers = watcher_ids_by_ticket(self.ticket_ids | {ticket_id})
        elif ticket_id not in self.ticket_ids:
            self._followers.update(watcher_ids_by_ticket([ticket_id]))
            self.ticket_ids.add(ticket_id)
        return set(self._followers.get(ticket_id, ()))

    def team_member_ids(self, team_id: int) -> set[int]:
        if team_id not in self._members:
            members = people.team_members(team_id).values_list("pk", flat=True)
            self._members[team_id] = set(members)
        return set(self._members[team_id])


def recipients(
    event: desk_events.TicketEvent,
    ticket: Ticket,
    message: Message | None,
    lookups: Lookups | None = None,
) -> list[Reason]:
    """The reasons this event gives people to hear of its ticket (before any filtering).
    `lookups`: the transaction's reads, shared by its events (else read for this one)."""
    lookups = lookups or Lookups([ticket.pk])
    ids: set[int] = set()
    kind = ""
    desk_only = False
    mentions: set[int] = set()
    match event:
        case desk_events.TicketOpened():
            kind = Kind.NEW_TICKET
            ids = lookups.team_member_ids(event.team_id)
        case desk_events.TicketAssigned(new_assignee_id=int() as assignee):
            kind, ids = Kind.ASSIGNED, {assignee}
        case desk_events.MessageAdded():
            kind = Kind.REPLY
            followers = lookups.watcher_ids(ticket.pk) | {ticket.assignee_id or 0}
            if event.internal:
                desk_only, ids = True, followers
                names = mentioned_usernames(message.body if message else "")
                if names:
                    mentions = set(people.people_by_usernames(names).values_list("pk", flat=True))
            else:
                ids = followers | _requester_side(ticket)
        case desk_events.Escalated():
            kind = Kind.ESCALATED
            ids = lookups.team_member_ids(event.to_team_id)
        case desk_events.Resolved():
            kind, ids = Kind.RESOLVED, lookups.watcher_ids(ticket.pk) | _requester_side(ticket)
        case desk_events.Reopened():
            followers = lookups.watcher_ids(ticket.pk) | {ticket.assignee_id or 0}
            kind, ids = Kind.REOPENED, followers | _requester_side(ticket)
        case desk_events.WorkOrderOpened():
            kind, ids = Kind.WORK_ORDER, {event.technician_id}
        case _:
            return []
    reasons = [
        Reason(pk, kind, ticket.pk, event.actor_id, desk_only or kind in DESK_KINDS)
        for pk in ids
        if pk
    ]
    reasons += [Reason(pk, Kind.MENTION, ticket.pk, event.actor_id, True) for pk in mentions]
    return reasons


def _strongest(reasons: Iterable[Reason]) -> dict[tuple[int, int], Reason]:
    """One reason per person and ticket: the strongest (KIND_RANK)."""
    chosen: dict[tuple[int, int], Reason] = {}
    for reason in reasons:
        key = (reason.person_id, reason.ticket_id)
        held = chosen.get(key)
        if held is None or KIND_RANK.index(reason.kind) < KIND_RANK.index(held.kind):
            chosen[key] = reason
        elif held.kind == reason.kind and held.desk_only and not reason.desk_only:
            chosen[key] = reason  # a public reply is something the requester side may read
    return chosen


def _may_hear(person: User, ticket: Ticket, reason: Reason) -> bool:
    if not person.is_active or person.is_system or person.pk == reason.actor_id:
        return False
    if reason.desk_only:
        return perms.can_read_as_technician(person, ticket)
    return perms.can_read_ticket(person, ticket)


def _name(person: User | None) -> str:
    if person is None:
        return "Tierline"
    return person.get_full_name() or person.username


TEXTS = {
    Kind.NEW_TICKET: "New ticket for your team: {ticket} {subject}",
    Kind.ASSIGNED: "{actor} assigned {ticket} {subject} to you",
    Kind.REPLY: "{actor} replied on {ticket} {subject}",
    Kind.MENTION: "{actor} mentioned you on {ticket} {subject}",
    Kind.ESCALATED: "{ticket} {subject} was escalated to your team",
    Kind.RESOLVED: "{ticket} {subject} was resolved",
    Kind.REOPENED: "{ticket} {subject} was reopened",
    Kind.WORK_ORDER: "{actor} scheduled a visit for you on {ticket} {subject}",
}


def text_for(kind: str, ticket: Ticket, actor: User | None) -> str:
    """The notice as typed text (escaped when shown), at most 500 characters."""
    text = TEXTS[kind].format(ticket=ticket.number, subject=ticket.subject, actor=_name(actor))
    return text[:500]


def preferences_of(person_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    """Every chosen (person, kind) -> channel of these people, in one query."""
    rows = NotificationPreference.objects.filter(person_id__in=list(person_ids))
    return {(row.person_id, row.kind): row.channel for row in rows}


def notify(batch: list[desk_events.TicketEvent]) -> list[Notification]:
    """The notifications of one transaction's events: one per person and ticket, by the channel
    each chose. Returns those written."""
    if not batch:
        return []
    ticket_ids = {event.ticket_id for event in batch}
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ticket_ids)}
    message_ids = [e.message_id for e in batch if isinstance(e, desk_events.MessageAdded)]
    messages = {m.pk: m for m in Message.objects.filter(pk__in=message_ids)}
    reasons: list[Reason] = []
    lookups = Lookups(tickets)
    for event in batch:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            continue
        message = (
            messages.get(event.message_id) if isinstance(event, desk_events.MessageAdded) else None
        )
        reasons += recipients(event, ticket, message, lookups)
    chosen = _strongest(reasons)
    if not chosen:
        return []
    person_ids = {r.person_id for r in chosen.values()} | {
        r.actor_id for r in chosen.values() if r.actor_id
    }
    persons = {p.pk: p for p in people.everyone().filter(pk__in=person_ids)}
    choices = preferences_of(r.person_id for r in chosen.values())
    written: list[Notification] = []
    with transaction.atomic():
        for reason in chosen.values():
            person = persons.get(reason.person_id)
            ticket = tickets[reason.ticket_id]
            if person is None or not _may_hear(person, ticket, reason):
                continue
            channel = choices.get((person.pk, reason.kind)) or default_channel(person, reason.kind)
            if channel == Channel.NONE:
                continue
            notification = Notification.objects.create(
                recipient=person,
                kind=reason.kind,
                ticket=ticket,
                text=text_for(reason.kind, ticket, persons.get(reason.actor_id or 0)),
            )
            written.append(notification)
            if channel == Channel.EMAIL and person.email:
                send_email(notification=notification, to=person.email)
    return written


def deliver_notice(notice: notifications.Notice) -> bool:
    """Another app's notice (`core.notifications`): one notification per recipient who may read
    the ticket as the help desk, by the channel each chose for the kind. False for a kind this
    app does not know (the caller falls back)."""
    if notice.kind not in Kind.values:
        return False
    ticket = Ticket.objects.filter(pk=notice.ticket_id).first() if notice.ticket_id else None
    persons = people.everyone().filter(pk__in=notice.recipient_ids)
    choices = preferences_of(notice.recipient_ids)
    with transaction.atomic():
        for person in persons:
            if not person.is_active or person.is_system:
                continue
            if ticket is not None and not perms.can_read_as_technician(person, ticket):
                continue
            channel = choices.get((person.pk, notice.kind)) or default_channel(person, notice.kind)
            if channel == Channel.NONE:
                continue
            notification = Notification.objects.create(
                recipient=person, kind=notice.kind, ticket=ticket, text=notice.text[:500]
            )
            if channel == Channel.EMAIL and person.email:
                send_email(notification=notification, to=person.email)
    return True


def send_email(*, notification: Notification, to: str) -> NotificationEmail:
    """The one place a notification becomes an email: recorded (`NotificationEmail`) and queued
    through the outbound sender (`mail.outbound.queue_mail`, template "notification", keyed by the
    notification so it is queued once). The requester's own mail about a public reply or a
    resolution is already sent by the outbound handlers (`mail/outbound_events.py`, with the
    reply's text): that one is only recorded here, not sent twice."""
    from tierline.mail import outbound

    ticket = notification.ticket
    subject = notification.text if ticket is None else f"[{ticket.number}] {notification.text}"
    row = NotificationEmail.objects.create(
        notification=notification,
        to=to,
        subject=" ".join(subject.split())[:300],  # no CR/LF from user data reaches a header
        body=f"{notification.text}\n\nOpen it in Tierline to read more.",
    )
    if (
        ticket is not None
        and notification.recipient_id == ticket.requester_id
        and notification.kind in REQUESTER_MAIL_SENT_BY_OUTBOUND
    ):
        return row
    recipient = notification.recipient
    site = outbound.conf_out()["SITE_URL"]
    if ticket is None:
        url = f"{site}/mail/inbox/"
    elif perms.is_staff_member(recipient):
        url = f"{site}/desk/tickets/{ticket.number}/"
    else:
        url = f"{site}/portal/tickets/{ticket.number}/"
    try:
        outbound.queue_mail(
            to=to,
            template="notification",
            context={
                "notification": notification.text,
                "ticket_number": ticket.number if ticket is not None else "",
                "ticket_subject": ticket.subject if ticket is not None else "",
                "ticket_url": url,
                "recipient_name": recipient.get_full_name() or recipient.username,
            },
            ticket=ticket,
            key=f"notification:{notification.pk}",
        )
    except ValueError:  # an address that is not one: the in-app notice still stands
        logger.warning("notification %s: no email to %r (not an address)", notification.pk, to)
    return row


# The requester's mail for these events goes out from mail/outbound_events.py already.
REQUESTER_MAIL_SENT_BY_OUTBOUND = frozenset({Kind.REPLY, Kind.RESOLVED})


# --- the inbox ------------------------------------------------------------------------------


def inbox_of(person: User) -> QuerySet[Notification]:
    """The person's notifications, newest first, with their tickets."""
    return Notification.objects.filter(recipient=person).select_related("ticket")


def unread_count(person: User) -> int:
    """One COUNT on the partial unread index."""
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def mark_ticket_read(*, person: User, ticket_id: int) -> int:
    """Opening a ticket reads its notices: one UPDATE (on the partial index); how many."""
    return _read_ticket(person_id=person.pk, ticket_id=ticket_id)


def _read_ticket(*, person_id: int, ticket_id: int) -> int:
    return Notification.objects.filter(
        recipient_id=person_id, ticket_id=ticket_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(*, person: User) -> int:
    return Notification.objects.filter(recipient=person, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def set_preferences(*, person: User, channels: dict[str, str]) -> None:
    """The person's channel per kind; a kind set back to its default keeps no row."""
    for kind, channel in channels.items():
        if kind not in Kind.values or channel not in Channel.values:
            raise ValueError(f"Unknown event {kind!r} or channel {channel!r}.")
    with transaction.atomic():
        for kind, channel in channels.items():
            if channel == default_channel(person, kind):
                NotificationPreference.objects.filter(person=person, kind=kind).delete()
            else:
                NotificationPreference.objects.update_or_create(
                    person=person, kind=kind, defaults={"channel": channel}
                )


def channels_of(person: User) -> dict[str, str]:
    """Every kind with the channel the person hears it by (chosen or default)."""
    chosen = preferences_of([person.pk])
    return {
        kind: chosen.get((person.pk, kind)) or default_channel(person, kind) for kind in Kind.values
    }
