"""The seam between the lists that filter tickets by text and the app that indexes them.

The desk may not import the knowledge app (layers), yet its queue filter and the API's text
parameter must search the same index as the search page. The knowledge app registers a
provider from its AppConfig.ready; the desk asks `ticket_text_filter(text, user)` and, when no
provider is registered (the app is not installed), falls back to its own substring match.

A provider answers a `Q` over tickets (never a list of ids: the match stays a subquery in the
database, however many tickets match) for what `user` may match: a requester's text never
matches an internal note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

TicketTextFilter = Callable[[str, Any], Q]
TextCorrection = Callable[[str], "str | None"]

_provider: TicketTextFilter | None = None
_correction: TextCorrection | None = None


def register_ticket_text_filter(provider: TicketTextFilter) -> None:
    """Make `provider(text, user) -> Q` the one way lists filter tickets by text."""
    global _provider
    if not callable(provider):
        raise TypeError(f"{provider!r} is not callable.")
    _provider = provider


def unregister_ticket_text_filter() -> None:
    """Back to the lists' own substring match (tests)."""
    global _provider
    _provider = None


def register_text_correction(provider: TextCorrection) -> None:
    """Make `provider(text) -> str | None` the lists' "did you mean": the text with each word
    the index lacks replaced by its nearest known word, or None when nothing would change."""
    global _correction
    if not callable(provider):
        raise TypeError(f"{provider!r} is not callable.")
    _correction = provider


def corrected_text(text: str) -> str | None:
    """The registered provider's correction of `text`, or None (none registered, nothing to
    correct). Says nothing about visibility: the caller offers it only with readable hits."""
    if _correction is None or not text.strip():
        return None
    return _correction(text)


def ticket_text_filter(text: str, user: Any) -> Q | None:
    """The registered provider's `Q` for `text` as `user` may match it; None when none is
    registered (the caller falls back to its own match)."""
    if _provider is None:
        return None
    return _provider(text, user)
