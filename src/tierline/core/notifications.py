"""Telling people something that is not a desk event, from an app that may not import the one
that tells them (the service targets' "at risk" and "breached" notices; mail owns notices).

    the sla sweep, on its commit      notify(recipients=..., kind="sla_breached", ticket_id=...,
                                             text=...)  ->  the registered deliverer
    mail's ready()                    register_deliverer(notify.deliver_notice): a notification
                                      per person, by the channel each chose for the kind

`notify` returns whether a deliverer took the notice. None registered (the mail app is not
installed), a kind the deliverer does not know, or a deliverer that raises (logged): False, and
the caller falls back on its own (the sla app emails with Django's `send_mail`). The caller
says once: the deliverer does not look for repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Notice:
    """One thing to tell some people: plain values only (the text is typed text, escaped
    when shown)."""

    recipient_ids: tuple[int, ...]
    kind: str
    ticket_id: int | None
    text: str


Deliverer = Callable[[Notice], bool]

_deliverer: Deliverer | None = None


def register_deliverer(deliverer: Deliverer | None) -> None:
    """The one function that delivers notices (an AppConfig.ready calls it; None removes it).
    It returns False for a notice it does not deliver (an unknown kind)."""
    global _deliverer
    _deliverer = deliverer


def deliverer() -> Deliverer | None:
    return _deliverer


def notify(*, recipients: Iterable[int], kind: str, ticket_id: int | None, text: str) -> bool:
    """Hand a notice to the registered deliverer; False if nobody took it (see the module)."""
    notice = Notice(
        recipient_ids=tuple(sorted({pk for pk in recipients if pk})),
        kind=kind,
        ticket_id=ticket_id,
        text=text[:500],
    )
    if _deliverer is None:
        return False
    try:
        return bool(_deliverer(notice))
    except Exception:
        logger.exception("notifications: the deliverer failed on %r", notice)
        return False
