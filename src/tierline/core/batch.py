"""Reads kept for one batch of work, across apps: a spool drain reads the SLA policies, the
default team and the mailboxes once per batch of messages, not once per message.

A worker that handles many items in one transaction opens `scope()` around it; inside, every
`memo(key, read)` returns what `read()` gave the first time `key` was asked for. Outside any
scope, `memo` reads every time, so a service behaves the same called from a view or from a
batch. What is kept is forgotten with the block: open it around one transaction, so a
rolled-back batch keeps nothing and a change committed meanwhile is seen by the next batch.

Work that can wait for the end of the batch can be gathered too: `defer(key, item, flush)`
keeps `item`, and `flush(items)` runs once when the scope closes (the Redis task backend sends
a batch's tasks in one round trip so, not one per task after its commit).

Only reads the batch itself does not change belong here (configuration: policies, teams,
mailboxes), and only of rows that exist before the batch starts: a row created inside a
savepoint that rolls back would stay named in the memo. Keys start with the app's label
("sla:policies"): apps share one scope.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)

# What the current batch has read; None outside a batch (read each time).
_kept: ContextVar[dict[str, object] | None] = ContextVar("tierline_batch", default=None)
# What waits for the batch's end: key -> (flush, items), in the order first deferred.
_deferred: ContextVar[dict[str, tuple[Callable[[list[Any]], None], list[Any]]] | None] = ContextVar(
    "tierline_batch_deferred", default=None
)


@contextmanager
def scope() -> Iterator[None]:
    """Keep `memo`'s reads for the block, and run what was deferred when it closes (however
    it closes: a flush's exception is logged, never raised). A scope inside a scope is the
    same scope."""
    if _kept.get() is not None:
        yield
        return
    kept_token = _kept.set({})
    deferred: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = {}
    deferred_token = _deferred.set(deferred)
    try:
        yield
    finally:
        _kept.reset(kept_token)
        _deferred.reset(deferred_token)
        for key, (flush, items) in deferred.items():
            try:
                flush(items)
            except Exception:
                logger.exception("batch: flushing %s (%d items) failed", key, len(items))


def active() -> bool:
    """Whether a batch scope is open here."""
    return _kept.get() is not None


def memo(key: str, read: Callable[[], T]) -> T:
    """`read()`, once per batch scope for `key`; every time outside one."""
    kept = _kept.get()
    if kept is None:
        return read()
    if key not in kept:
        kept[key] = read()
    return kept[key]  # type: ignore[return-value]


def remember(key: str, value: object) -> None:
    """Put `value` under `key` in the open scope (nothing outside one)."""
    kept = _kept.get()
    if kept is not None:
        kept[key] = value


def defer(key: str, item: object, flush: Callable[[list[Any]], None]) -> bool:
    """Keep `item` under `key` for `flush(items)` when the open scope closes; False (nothing
    kept: the caller does it now) outside a scope."""
    deferred = _deferred.get()
    if deferred is None:
        return False
    deferred.setdefault(key, (flush, []))[1].append(item)
    return True
