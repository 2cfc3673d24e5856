"""Typed events: how an app learns what happened in another without being imported by it.

An event is a frozen dataclass of ids and plain values (never a model instance: a handler that
runs after commit, or a task it queues, reads fresh rows by id). A service publishes it;
handlers subscribe to its class (or to a base class, to hear a whole family):

    @events.subscribe(TicketOpened)                      # after commit (the default)
    def queue_triage(event: TicketOpened) -> None:
        triage.enqueue(ticket_id=event.ticket_id)

    events.subscribe(TicketOpened, start_clock, when="transaction")

Two kinds of handlers:

- ``when="transaction"`` runs inside the publishing service's transaction, at once. Only for
  what must commit together with the change (a service-level clock). If it raises, the
  exception reaches the service and the whole change rolls back.
- ``when="commit"`` runs once the transaction commits (``transaction.on_commit``); never if it
  rolls back. Everything else: notify, triage, index, webhooks. Such a handler should only
  queue a task with ids. If it raises, the change stays committed: the handler is tried again
  (``COMMIT_HANDLER_ATTEMPTS`` tries in all, waiting ``COMMIT_HANDLER_BACKOFF`` seconds, doubled
  each time), each failure is logged as a warning and the last as an error with the event, and
  the other handlers still run. The retry is short and in-process on purpose (at most 0.15 s
  more for the request, and only when a handler fails): a handler that only queues a task
  fails for a moment (the task store is busy, a connection dropped); the real work, and its
  own failures, belong to the task it queues.

Not Django model signals: the desk writes with ``QuerySet.update()``, which sends none, and a
signal carries an instance, not what changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

When = Literal["transaction", "commit"]
WHENS: tuple[str, ...] = ("transaction", "commit")

# A failing after-commit handler is tried this many times in all, waiting BACKOFF seconds
# before the second try, twice that before the third...
COMMIT_HANDLER_ATTEMPTS = 3
COMMIT_HANDLER_BACKOFF = 0.05


@dataclass(frozen=True, kw_only=True)
class Event:
    """The base of every event. Subclasses are frozen, keyword-only dataclasses of plain values."""

    @classmethod
    def name(cls) -> str:
        return cls.__name__


E = TypeVar("E", bound=Event)
Handler = Callable[[E], object]


@dataclass(frozen=True)
class Subscription:
    event_type: type[Event]
    handler: Callable[[Event], object]
    when: str


_subscriptions: dict[type[Event], list[Subscription]] = {}
_captures: list[list[Event]] = []


def _check_event_type(event_type: object) -> type[Event]:
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"{event_type!r} is not an Event class.")
    return event_type


def subscribe(event_type: type[E], handler: Handler | None = None, *, when: When = "commit"):
    """Call `handler(event)` for every event of `event_type` (or of a subclass) published.

    With a handler, subscribes it and returns it; without, returns a decorator. Subscribing the
    same handler twice to the same type is a no-op, so an app's ready() may run twice safely.
    """
    _check_event_type(event_type)
    if when not in WHENS:
        raise ValueError(f"when must be one of {', '.join(WHENS)}, not {when!r}.")

    def register(fn: Handler) -> Handler:
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable.")
        subscription = Subscription(event_type, fn, when)
        handlers = _subscriptions.setdefault(event_type, [])
        if subscription not in handlers:
            handlers.append(subscription)
        return fn

    return register if handler is None else register(handler)


def unsubscribe(event_type: type[Event], handler: Handler) -> None:
    """Remove `handler` from `event_type` (both kinds); unknown handlers are ignored."""
    _subscriptions[event_type] = [
        s for s in _subscriptions.get(event_type, []) if s.handler != handler
    ]


@contextmanager
def subscribed(
    event_type: type[E], handler: Handler, *, when: When = "commit"
) -> Iterator[Handler]:
    """Subscribe `handler` for the length of a `with` block (tests, one-off listeners)."""
    subscribe(event_type, handler, when=when)
    try:
        yield handler
    finally:
        unsubscribe(event_type, handler)


def handlers_for(event_type: type[Event]) -> list[Subscription]:
    """Every subscription an event of this type reaches: its own class's, then its bases'."""
    found: list[Subscription] = []
    for klass in event_type.__mro__:
        found.extend(_subscriptions.get(klass, ()))
    return found


def publish(event: Event) -> None:
    """Hand `event` to its handlers: in-transaction ones now, after-commit ones on commit.

    Called by a service inside its transaction, after the rows it describes are written.
    An in-transaction handler's exception propagates (and rolls the service back).
    """
    if not isinstance(event, Event):  # a subclass is frozen: dataclasses refuse otherwise
        raise TypeError(f"{event!r} is not an Event.")
    for captured in _captures:
        captured.append(event)
    for subscription in handlers_for(type(event)):
        if subscription.when == "transaction":
            subscription.handler(event)
        else:
            transaction.on_commit(lambda s=subscription: run_after_commit(s, event))


def run_after_commit(subscription: Subscription, event: Event) -> bool:
    """Run one after-commit handler, retrying it; never raises. True if it succeeded."""
    attempts = max(1, COMMIT_HANDLER_ATTEMPTS)
    handler_name = getattr(subscription.handler, "__qualname__", repr(subscription.handler))
    for attempt in range(1, attempts + 1):
        try:
            subscription.handler(event)
        except Exception:
            if attempt == attempts:
                logger.exception(
                    "Event handler %s failed %d times; giving up on %r",
                    handler_name,
                    attempts,
                    event,
                )
                return False
            logger.warning(
                "Event handler %s failed (attempt %d of %d) on %r; trying again",
                handler_name,
                attempt,
                attempts,
                event,
                exc_info=True,
            )
            time.sleep(COMMIT_HANDLER_BACKOFF * 2 ** (attempt - 1))
        else:
            return True
    return False  # pragma: no cover (the loop always returns)


@contextmanager
def capture_events() -> Iterator[list[Event]]:
    """Collect every event published inside the block, in order (tests).

    Collects at publish time, whatever then happens to the transaction: to see what reaches
    after-commit handlers, subscribe one with `subscribed()`.
    """
    captured: list[Event] = []
    _captures.append(captured)
    try:
        yield captured
    finally:
        _captures[:] = [c for c in _captures if c is not captured]
