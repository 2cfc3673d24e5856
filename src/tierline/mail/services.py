"""The inbound path: every raw message stored first, then made a ticket, a reply, or recorded as
ignored, held or quarantined, each with its reason. Never lost, never doubled.

    receive(raw)   the bytes on disk (fsync), then one transaction: RawMessage + Inbound
                   (pending). The same bytes or the same Message-ID again: "ignored: duplicate".
    process(id)    one transaction with the Inbound row locked: parse, the loop rules, the
                   sender, the thread, then the desk's services (a ticket or a reply) and the
                   outcome, committed together. A crash before the commit leaves it pending
                   (`reprocess` takes it again); anything that goes wrong is a quarantine with
                   the reason, never an exception out of the gateway.

Inside a transaction (a spool batch, `mail/spool.py`) `receive` does both in one savepoint per
message: the RawMessage row first (its unique indexes answer "duplicate"), then the raw file
(flushed with the batch, before it commits), the processing and the Inbound row, written once
with its outcome. A message that is not a ticket or a reply rolls its savepoint back and its
rows are written again with the outcome, so what it did in the desk is undone, as above.

Mail changes tickets only through `tierline.desk.services`: a new ticket is opened by the
mail system user for the sender; a reply is the sender's own public message (when the sender
may reply on that ticket), so the desk's rules about who may say what apply to mail as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tierline.desk import permissions as perms
from tierline.desk import services as desk
from tierline.desk.models import Channel, Status, Ticket
from tierline.mail import (
    loops,
    mailboxes,
    outbound,
    outbound_events,
    parsing,
    rawstore,
    senders,
    watchers,
)
from tierline.mail.models import DEFAULT_RATE_LIMIT, Inbound, Mailbox, RawMessage
from tierline.mail.quoting import trim_reply
from tierline.mail.threads import find_ticket
from tierline.people import services as people_services
from tierline.people.models import User

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200
DESCRIPTION_MAX = 20000
REPLY_MAX = 50000
# A sender's messages are counted over this window against the mailbox's hourly limit.
RATE_WINDOW = timedelta(hours=1)
Outcome = Inbound.Outcome


@dataclass(frozen=True)
class Received:
    """What `receive` did with one raw message: its Inbound record (for a duplicate, the
    first arrival's) and the line `tierline mail ingest` prints."""

    inbound: Inbound
    line: str
    duplicate: bool = False


# --- receiving ------------------------------------------------------------------------------


def _loaded(raw: bytes) -> parsing.EmailMessage | None:
    """The message object (parsed once: its Message-ID here, the rest by `process`), or None
    when it holds no message (`process` quarantines it with the reason)."""
    try:
        return parsing.load(raw)
    except parsing.Unparseable:
        return None


@dataclass(frozen=True)
class _InHand:
    """What `receive` already has of a message it just stored, handed to the processing so it
    is not read again: the bytes and their message object."""

    raw: bytes
    msg: parsing.EmailMessage | None


def _duplicate_of(sha256: str, message_id: str) -> RawMessage | None:
    query = Q(sha256=sha256)
    if message_id:
        query |= Q(message_id=message_id)
    return RawMessage.objects.filter(query).select_related("inbound").first()


def _as_duplicate(first: RawMessage) -> Received:
    RawMessage.objects.filter(pk=first.pk).update(duplicates=F("duplicates") + 1)
    inbound = Inbound.objects.select_related("ticket").get(raw=first)
    what = first.message_id or f"sha256 {first.sha256[:12]}"
    return Received(inbound=inbound, line=f"ignored: duplicate of {what}", duplicate=True)


def receive(
    raw: bytes,
    *,
    source: str = RawMessage.Source.INGEST,
    mailbox: Mailbox | None = None,
    envelope_sender: str | None = None,
) -> Received:
    """Store `raw` (on disk, then its rows) and process it; what became of it.

    The same bytes, or a message with the same Message-ID (the same mail in two mailboxes, a
    fetch retried), make no second entry: "ignored: duplicate of <id>"."""
    msg = _loaded(raw)
    if transaction.get_connection().in_atomic_block:
        # A spool batch: the new rows stay invisible to every other worker until it commits.
        return _receive_in_batch(
            raw, msg, source=source, mailbox=mailbox, envelope_sender=envelope_sender
        )
    stored = _store(raw, msg, source=source, mailbox=mailbox, envelope_sender=envelope_sender)
    if stored.duplicate:
        return stored
    inbound = process(stored.inbound.pk, _in_hand=_InHand(raw=raw, msg=msg))
    return Received(inbound=inbound, line=inbound.line)


def _raw_fields(
    raw: bytes,
    msg: parsing.EmailMessage | None,
    *,
    source: str,
    mailbox: Mailbox | None,
    envelope_sender: str | None,
) -> dict[str, Any]:
    """The RawMessage row of these bytes (its file under `rawstore.relative_path`)."""
    sha256 = rawstore.digest(raw)
    return {
        "sha256": sha256,
        "path": rawstore.relative_path(sha256),
        "size": len(raw),
        "message_id": parsing.message_id_of(msg)[:998] if msg is not None else "",
        "mailbox": mailbox,
        "source": source,
        "envelope_sender": envelope_sender,
    }


class _Duplicate(Exception):
    """The raw message's INSERT met its unique index (sha256 or Message-ID)."""


def _receive_in_batch(
    raw: bytes,
    msg: parsing.EmailMessage | None,
    *,
    source: str,
    mailbox: Mailbox | None,
    envelope_sender: str | None,
) -> Received:
    """`receive` inside a transaction (a spool batch): the message in one savepoint of its own,
    its rows and its processing together. No look-up before the INSERT: the unique indexes on
    sha256 and Message-ID answer "duplicate" (the savepoint rolls back, then the first arrival
    is read). The raw file is written after its row, in the same savepoint (so a duplicate
    writes no file), and flushed with the batch before it commits (`rawstore.synced_together`):
    no committed row names a file the disk could lose. The Inbound row is written once, with
    its outcome. A message that ends otherwise than as a ticket or a reply (ignored, held,
    quarantined) rolls its savepoint back whole, as `process` rolls its processing back, and
    its rows are written again with the outcome in a savepoint of their own: two statements
    more for those, two fewer for every ticket and reply."""
    fields = _raw_fields(raw, msg, source=source, mailbox=mailbox, envelope_sender=envelope_sender)
    sha256, message_id = fields["sha256"], fields["message_id"]
    inbound: Inbound | None = None
    try:
        with transaction.atomic():  # the message's savepoint
            try:
                row = RawMessage.objects.create(**fields)
            except IntegrityError as exc:
                raise _Duplicate from exc
            rawstore.store(raw, sha256)
            inbound = Inbound(raw=row, mailbox=mailbox, attempts=1, notes=[])
            _process(inbound, release=False, in_hand=_InHand(raw=raw, msg=msg))
            inbound.processed_at = timezone.now()
            inbound.save(force_insert=True)
            return Received(inbound=inbound, line=inbound.line)
    except _Duplicate as duplicate:
        first = _duplicate_of(sha256, message_id)
        if first is None:  # another constraint: as before, out to the drain
            raise duplicate.__cause__ from None
        return _as_duplicate(first)
    except Exception as exc:
        if inbound is None:  # the raw row or file could not be written: out to the drain
            raise
        after = _ended(inbound, exc, sha256[:12])
    # Rolled back: the rows again, with the outcome (what processing wrote is gone).
    inbound.processed_at = timezone.now()
    try:
        with transaction.atomic():
            inbound.raw = RawMessage.objects.create(**fields)
            rawstore.store(raw, sha256)
            inbound.pk = None
            inbound.save(force_insert=True)
            if after is not None:
                _run_after(after, inbound)
    except Exception as exc:  # never out of the gateway: quarantined with the reason alone
        logger.exception("mail: message %s could not be processed", sha256[:12])
        with transaction.atomic():
            inbound = Inbound.objects.create(
                raw=RawMessage.objects.create(**fields),
                mailbox=mailbox,
                outcome=Outcome.QUARANTINED,
                reason=_failure_reason(exc)[:500],
                attempts=1,
                processed_at=timezone.now(),
            )
            rawstore.store(raw, sha256)
    return Received(inbound=inbound, line=inbound.line)


def store(
    raw: bytes,
    *,
    source: str = RawMessage.Source.INGEST,
    mailbox: Mailbox | None = None,
    envelope_sender: str | None = None,
) -> Received:
    """Store `raw` (on disk, then RawMessage + a pending Inbound) without processing it; for a
    duplicate, the first arrival's record. `receive` is `store` then `process`; the IMAP
    fetcher commits its UID bookkeeping with these rows before processing."""
    return _store(
        raw, _loaded(raw), source=source, mailbox=mailbox, envelope_sender=envelope_sender
    )


def _store(
    raw: bytes,
    msg: parsing.EmailMessage | None,
    *,
    source: str,
    mailbox: Mailbox | None,
    envelope_sender: str | None,
) -> Received:
    fields = _raw_fields(raw, msg, source=source, mailbox=mailbox, envelope_sender=envelope_sender)
    sha256, message_id = fields["sha256"], fields["message_id"]
    first = _duplicate_of(sha256, message_id)
    if first is not None:
        return _as_duplicate(first)
    rawstore.store(raw, sha256)  # durable before any row says it exists
    try:
        with transaction.atomic():
            row = RawMessage.objects.create(**fields)
            inbound = Inbound.objects.create(raw=row, mailbox=mailbox)
    except IntegrityError:  # the same message, stored a moment ago by another worker
        first = _duplicate_of(sha256, message_id)
        if first is None:
            raise
        return _as_duplicate(first)
    return Received(inbound=inbound, line=inbound.line)


# --- processing -----------------------------------------------------------------------------


class _Outcome(Exception):
    """Raised inside processing to end it with an outcome other than a ticket. `after` runs
    with the outcome, once the message's savepoint is rolled back (the polite refusal of a
    "reject" mailbox, a bounce of our own mail marked on its outbox row)."""

    def __init__(
        self, outcome: str, reason: str, *, after: Callable[[], object] | None = None
    ) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.after = after


def process(inbound_id: int, *, release: bool = False, _in_hand: _InHand | None = None) -> Inbound:
    """Process a pending (or quarantined; with `release`, held) message once; its Inbound.

    The ticket or reply and the outcome commit together, so running this twice, or after a
    crash, never makes a second ticket. `_in_hand`: `receive`'s row, bytes and message object
    (not read again)."""
    try:
        with transaction.atomic():
            inbound = Inbound.objects.select_for_update().select_related("raw").get(pk=inbound_id)
            again = {Outcome.PENDING, Outcome.QUARANTINED} | ({Outcome.HELD} if release else set())
            if inbound.outcome not in again:
                return inbound
            after = _run_processing(inbound, release=release, in_hand=_in_hand)
            if after is not None:
                _run_after(after, inbound)
            inbound.save()
    except Exception as exc:  # never out of the gateway: quarantined with the reason
        logger.exception("mail: message %s could not be processed", inbound_id)
        Inbound.objects.filter(pk=inbound_id).update(
            outcome=Outcome.QUARANTINED,
            reason=_failure_reason(exc)[:500],
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
    return Inbound.objects.select_related("ticket", "raw").get(pk=inbound_id)


def _run_processing(
    inbound: Inbound, *, release: bool, in_hand: _InHand | None
) -> Callable[[], object] | None:
    """Process `inbound` in a savepoint of its own and set its outcome (not saved); what the
    outcome does besides (`_Outcome.after`), to run once the outcome is in place."""
    inbound.attempts += 1
    inbound.notes = []
    after = None
    try:
        with transaction.atomic():
            _process(inbound, release=release, in_hand=in_hand)
    except Exception as exc:  # rolled back to the savepoint
        after = _ended(inbound, exc, inbound.pk)
    inbound.processed_at = timezone.now()
    return after


def _ended(inbound: Inbound, exc: Exception, label: object) -> Callable[[], object] | None:
    """`inbound`'s outcome when its processing ended in `exc` (rolled back): the `_Outcome`
    raised (ignored, held, quarantined), else quarantined with why (logged, by `label`); no
    ticket. What that outcome does besides, to run once it is in place."""
    inbound.ticket = inbound.ticket_message = None
    if isinstance(exc, _Outcome):
        inbound.outcome, inbound.reason = exc.outcome, exc.reason[:500]
        return exc.after
    expected = isinstance(exc, ValidationError | PermissionDenied)
    logger.warning("mail: message %s quarantined: %r", label, exc, exc_info=not expected)
    inbound.outcome, inbound.reason = Outcome.QUARANTINED, _failure_reason(exc)[:500]
    return None


def _run_after(after: Callable[[], object], inbound: Inbound) -> None:
    """What an outcome does besides (a reply queued, a bounce noted), committed with it; a
    failure of it changes no outcome."""
    try:
        with transaction.atomic():
            after()
    except Exception:
        logger.exception("mail: the follow-up of message %s failed", inbound.pk)


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError | PermissionDenied):
        messages = getattr(exc, "messages", None) or [str(exc)]
        return "the desk refused it: " + " ".join(str(m) for m in messages)
    return f"could not be processed: {exc.__class__.__name__}: {exc}"


def _process(inbound: Inbound, *, release: bool, in_hand: _InHand | None = None) -> None:
    raw = in_hand.raw if in_hand is not None else rawstore.read(inbound.raw.path)
    try:
        msg, parsed = parsing.parse(raw, loaded=in_hand.msg if in_hand is not None else None)
    except parsing.Unparseable as exc:
        raise _Outcome(Outcome.QUARANTINED, f"unparseable: {exc}") from None
    inbound.sender = parsed.sender.lower()[:320]
    senders.saw(inbound.sender)
    inbound.sender_name = parsed.sender_name
    inbound.subject = parsed.subject[:500]
    inbound.cc = parsed.cc[:50]
    inbound.in_reply_to = parsed.in_reply_to
    inbound.html = parsed.html
    inbound.text = parsed.text
    inbound.notes = parsed.notes
    inbound.bounced_address = parsed.bounced_address
    if inbound.mailbox_id is None:
        inbound.mailbox = mailboxes.mailbox_for(msg, parsed)
    mailbox = inbound.mailbox

    automatic = loops.automatic_reason(
        msg,
        parsed,
        envelope_sender=inbound.raw.envelope_sender,
        own_addresses=mailboxes.own_addresses(),
    )
    if automatic:
        after = None
        if parsed.bounced_address or automatic.startswith("bounce"):
            after = partial(outbound.record_bounce, msg, parsed)
        raise _Outcome(Outcome.IGNORED, automatic, after=after)
    if not parsed.sender:
        raise _Outcome(Outcome.QUARANTINED, "no sender address (From)")
    if not release:
        _check_rate(inbound, mailbox)

    mail_user = mailboxes.mail_user()
    person = senders.person(parsed.sender)
    if person is not None and not person.is_active and not release:
        raise _Outcome(Outcome.HELD, f"the sender's account ({person.username}) is deactivated")
    ticket, found_by = find_ticket(parsed, reader=mail_user)
    if ticket is not None:
        inbound.notes = [*inbound.notes, f"Answers {ticket.number} (found by its {found_by})."]
    if ticket is not None and person is not None and _reply(inbound, parsed, ticket, person):
        _cc_watch(inbound, parsed, mail_user)
        return
    if person is None:
        person = _new_requester(inbound, parsed, mailbox, release=release)
    _open(inbound, parsed, person, mail_user, follow_up=ticket)
    _cc_watch(inbound, parsed, mail_user)


def _cc_watch(inbound: Inbound, parsed: parsing.ParsedMail, mail_user: User) -> None:
    """The known people CC'd on the mail follow its ticket (`mail.watchers`)."""
    if inbound.ticket is not None and parsed.cc:
        own = mailboxes.own_addresses()
        cc = [address for address in parsed.cc if address.lower() not in own]
        watchers.add_cc_watchers(ticket=inbound.ticket, addresses=cc, by=mail_user)


def _check_rate(inbound: Inbound, mailbox: Mailbox | None) -> None:
    limit = mailbox.rate_limit_per_hour if mailbox else DEFAULT_RATE_LIMIT
    # In a spool batch the row is written after, with its outcome (no pk yet).
    recent = senders.recent_count(
        inbound.sender,
        since=timezone.now() - RATE_WINDOW,
        limit=limit,
        exclude_pk=inbound.pk,
    )
    if recent >= limit:
        raise _Outcome(
            Outcome.HELD,
            f"rate limit: {recent} messages from {inbound.sender} in the last hour "
            f"(the limit is {limit})",
        )


def _new_requester(
    inbound: Inbound, parsed: parsing.ParsedMail, mailbox: Mailbox | None, *, release: bool
) -> User:
    domain = parsed.sender.rpartition("@")[2].lower()
    allowed = domain in (mailbox.domain_list if mailbox else [])
    policy = mailbox.policy if mailbox else Mailbox.Policy.HOLD
    if not (allowed or release or policy == Mailbox.Policy.ACCEPT):
        if policy == Mailbox.Policy.REJECT:
            raise _Outcome(
                Outcome.IGNORED,
                f"unknown sender {parsed.sender.lower()}: the mailbox rejects unknown senders",
                after=partial(outbound_events.queue_rejection, inbound=inbound),
            )
        where = f"mailbox {mailbox.name}" if mailbox else "no mailbox configured"
        raise _Outcome(Outcome.HELD, f"unknown sender {parsed.sender.lower()} ({where})")
    try:
        return people_services.requester_from_email(address=parsed.sender, name=parsed.sender_name)
    except ValidationError as exc:
        raise _Outcome(Outcome.QUARANTINED, " ".join(exc.messages)) from None


def _uploads(parsed: parsing.ParsedMail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The files the desk accepts (its type and size rules), and a line for each it does not."""
    accepted, refused = [], []
    for file in parsed.files:
        upload = SimpleUploadedFile(file.name, file.data, content_type=file.content_type)
        try:
            desk.validate_upload(upload)
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
            continue
        upload.seek(0)
        accepted.append(upload)
    return accepted, refused


def _text(body: str, refused: list[str], limit: int) -> str:
    body = body.strip() or "(The email had no text.)"
    if refused:
        body += "\n\nNot attached:\n" + "\n".join(f"- {line}" for line in refused)
    if len(body) > limit:
        cut = "\n\n[Cut here: the whole email is on its original.]"
        body = body[: limit - len(cut)] + cut
    return body


def _subject(parsed: parsing.ParsedMail) -> str:
    subject = parsing.one_line(parsed.subject) or "(no subject)"
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def _open(
    inbound: Inbound,
    parsed: parsing.ParsedMail,
    person: User,
    mail_user: User,
    *,
    follow_up: Ticket | None,
) -> None:
    uploads, refused = _uploads(parsed)
    body = parsed.text
    if follow_up is not None:
        body = f"(A follow-up to {follow_up.number}.)\n\n{body}"
    ticket = desk.open_ticket(
        requester=person,
        by=mail_user,
        subject=_subject(parsed),
        description=_text(body, refused, DESCRIPTION_MAX),
        channel=Channel.EMAIL,
        uploads=uploads,
    )
    inbound.outcome, inbound.ticket = Outcome.NEW_TICKET, ticket
    inbound.reason = f"follow-up to {follow_up.number}" if follow_up else ""


def _reply(inbound: Inbound, parsed: parsing.ParsedMail, ticket: Ticket, person: User) -> bool:
    """Add the message to `ticket` as the sender's reply; False when it should open a new
    ticket instead (the sender is not on that ticket, or it is closed for good)."""
    if not perms.can_reply_ticket(person, ticket):
        inbound.notes = [*inbound.notes, f"The sender is not on {ticket.number}."]
        return False
    staff = perms.can_work_ticket(person, ticket)
    finished = ticket.status in (Status.RESOLVED, Status.CLOSED)
    if finished and not (staff and ticket.status == Status.RESOLVED):
        if not desk.can_requester_reopen(ticket):
            return False
        desk.reopen(ticket=ticket, by=person, reason="Reopened by a reply by email.")
    uploads, refused = _uploads(parsed)
    message = desk.add_message(
        ticket=ticket,
        by=person,
        body=_text(trim_reply(parsed.text), refused, REPLY_MAX),
        internal=False,
        channel=Channel.EMAIL,
        uploads=uploads,
    )
    inbound.outcome, inbound.ticket, inbound.ticket_message = Outcome.REPLY, ticket, message
    inbound.reason = ""
    return True


# --- again ----------------------------------------------------------------------------------


def reprocess(*, include_held: bool = False) -> list[Inbound]:
    """Process again every quarantined and pending message (and, with `include_held`, the
    held ones: released as if reviewed); what became of each."""
    outcomes = [Outcome.QUARANTINED, Outcome.PENDING] + ([Outcome.HELD] if include_held else [])
    ids = list(
        Inbound.objects.filter(outcome__in=outcomes).order_by("pk").values_list("pk", flat=True)
    )
    return [process(pk, release=include_held) for pk in ids]


def release(*, inbound: Inbound, by: User) -> Inbound:
    """A held message reviewed and let through: processed as if its sender were allowed."""
    perms.ensure(perms.is_staff_member(by), "Only the help desk releases held mail.")
    return process(inbound.pk, release=True)
