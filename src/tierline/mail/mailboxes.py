"""The mailboxes and the mail system user, read once per batch of messages.

Inside `batch_cache()` (a spool drain's batch; `core.batch.scope`, which other apps' reads
share) they are read once for the batch instead of once or twice per message; outside one,
each call reads them. The receiving services (mail/services.py) and the outbound mail's loop
check (mail/outbound_events.py) both ask here, so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tierline.core import batch
from tierline.mail import parsing
from tierline.mail.models import Mailbox
from tierline.people import services as people_services
from tierline.people.models import User


@contextmanager
def batch_cache() -> Iterator[None]:
    """Read the mailboxes and the mail system user once for the messages processed in the
    block (and, through `core.batch`, the other apps' configuration: SLA policies, the default
    team). A mailbox changed meanwhile is seen by the next batch. Use it around one
    transaction: what it read is forgotten with the block (a rolled-back batch keeps nothing)."""
    with batch.scope():
        # The mail user is read (or created) here, before any message's savepoint: created
        # inside one that rolls back, the memo would name a row that no longer exists.
        batch.remember("mail:mail-user", people_services.system_user("mail"))
        yield


def mail_user() -> User:
    return batch.memo("mail:mail-user", lambda: people_services.system_user("mail"))


# --- mailboxes ------------------------------------------------------------------------------


def own_addresses() -> frozenset[str]:
    """Every address of every mailbox: mail from them is our own coming back."""

    def read() -> frozenset[str]:
        found: set[str] = set()
        for mailbox in Mailbox.objects.all():
            found.update(mailbox.address_list)
        return frozenset(found)

    return batch.memo("mail:own-addresses", read)


def mailbox_for(msg: parsing.Message, parsed: parsing.ParsedMail) -> Mailbox | None:
    """The active mailbox the message was sent to (To, Cc, Delivered-To, X-Original-To), else
    the first active one, else None."""
    mailboxes = batch.memo("mail:mailboxes", lambda: list(Mailbox.objects.filter(is_active=True)))
    recipients = {address.lower() for address in [*parsed.to, *parsed.cc]}
    for name in ("delivered-to", "x-original-to"):
        recipients.update(
            value.strip().strip("<>").lower() for value in parsing.raw_header_values(msg, name)
        )
    for mailbox in mailboxes:
        if recipients & set(mailbox.address_list):
            return mailbox
    return mailboxes[0] if mailboxes else None
