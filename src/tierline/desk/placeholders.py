"""Placeholders a canned response may use: `{name}` from a fixed list, checked when a template is
saved (the model's `clean`) and filled in when it is used.

Any other `{word}` is refused at save (with the list in the message), so a typing error never
reaches a requester. Filling in is plain text substitution (no format strings, no attribute
lookups): the reply is stored as typed and escaped when shown, as every message is. `{{` and `}}`
write a brace. No model is imported here, so `desk.models` can check its templates with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.urls import reverse


class Filled(Protocol):
    """What filling in reads of a ticket (a `desk.Ticket`; no model is imported here, not even
    for the type checker, so `desk.models` imports this module one way)."""

    number: str
    subject: str
    requester: Any


_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\s]{0,40})\}")

PLACEHOLDERS: dict[str, tuple[str, Callable[[Filled, object, str], str]]] = {
    "first_name": (
        "the requester's first name",
        lambda t, by, base: t.requester.first_name or t.requester.get_username(),
    ),
    "requester": ("the requester's full name", lambda t, by, base: str(t.requester)),
    "ticket_number": ("the ticket's number", lambda t, by, base: t.number),
    "subject": ("the ticket's subject", lambda t, by, base: t.subject),
    "ticket_link": (
        "the link to the ticket in the portal",
        lambda t, by, base: base.rstrip("/") + reverse("portal:ticket", args=[t.number]),
    ),
    "my_first_name": (
        "your first name",
        lambda t, by, base: getattr(by, "first_name", "") or str(by),
    ),
}


def check_placeholders(text: str, *, field: str = "body") -> None:
    """Refuse a template with a `{name}` that is not in PLACEHOLDERS (or a lone brace pair)."""
    unknown = sorted(
        {m.group(1) for m in _TOKEN.finditer(text or "") if m.group(1) is not None}
        - set(PLACEHOLDERS)
    )
    if unknown:
        raise ValidationError(
            {
                field: "Unknown placeholder "
                + ", ".join("{" + name + "}" for name in unknown)
                + ". Use "
                + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                + " (write {{ or }} for a brace)."
            }
        )


def fill(text: str, *, ticket: Filled, by: object, base: str = "") -> str:
    """The template's text with its placeholders filled in for this ticket, as plain text."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name not in PLACEHOLDERS:  # saved before the check, or edited in the database
            return token
        return PLACEHOLDERS[name][1](ticket, by, base)

    return _TOKEN.sub(replace, text)
