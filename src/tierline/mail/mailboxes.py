"""The mailboxes and the mail system user, read once per batch of messages.

Inside `batch_cache()` (a spool drain's batch) they are read once for the batch instead of once
or twice per message; outside one, each call reads them. The receiving services
(mail/services.py) and the outbound mail's loop check (mail/outbound_events.py) both ask here,
so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tierline.mail import parsing
from tierline.mail.models import Mailbox
from tierline.people import services as people_services
from tierline.people.models import User

# What the current batch has read (None: outside a batch, read each time).
_batch: ContextVar[dict[str, object] | None] = ContextVar("mail_batch_cache", default=None)


@contextmanager
def batch_cache() -> Iterator[None]:
    """Read the mailboxes and the mail system user once for the messages processed in the
    block. A mailbox changed meanwhile is seen by the next batch. Use it around one
    transaction: what it read is forgotten with the block (a rolled-back batch keeps nothing)."""
    # The mail user is read (or created) here, before any message's savepoint: created inside
    # one that rolls back, the cache would name a row that no longer exists.
    token = _batch.set({"mail-user": people_services.system_user("mail")})
    try:
        yield
    finally:
        _batch.reset(token)


def _once(key: str, read: Callable[[], object]) -> object:
    cache = _batch.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


def mail_user() -> User:
    return _once("mail-user", lambda: people_services.system_user("mail"))  # type: ignore[return-value]


# --- mailboxes ------------------------------------------------------------------------------


def own_addresses() -> frozenset[str]:
    """Every address of every mailbox: mail from them is our own coming back."""

    def read() -> frozenset[str]:
        found: set[str] = set()
        for mailbox in Mailbox.objects.all():
            found.update(mailbox.address_list)
        return frozenset(found)

    return _once("own-addresses", read)  # type: ignore[return-value]


def mailbox_for(msg: parsing.Message, parsed: parsing.ParsedMail) -> Mailbox | None:
    """The active mailbox the message was sent to (To, Cc, Delivered-To, X-Original-To), else
    the first active one, else None."""
    mailboxes: list[Mailbox] = _once(  # type: ignore[assignment]
        "mailboxes", lambda: list(Mailbox.objects.filter(is_active=True))
    )
    recipients = {address.lower() for address in [*parsed.to, *parsed.cc]}
    for name in ("delivered-to", "x-original-to"):
        recipients.update(
            value.strip().strip("<>").lower() for value in parsing.raw_header_values(msg, name)
        )
    for mailbox in mailboxes:
        if recipients & set(mailbox.address_list):
            return mailbox
    return mailboxes[0] if mailboxes else None
