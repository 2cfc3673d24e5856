"""Canned responses: the placeholders a reply template may use, checked at save and filled in.

A placeholder is `{name}` from the fixed list below; any other `{word}` is refused when the
template is saved (with the list in the message), so a typing error never reaches a requester.
Filling in is plain text substitution (no format strings, no attribute lookups): the reply is
stored as typed and escaped when shown, as every message is. `{{` and `}}` write a brace.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse

from tierline.desk.models import CannedResponse, Macro, Ticket
from tierline.people import queries as directory

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\s]{0,40})\}")

PLACEHOLDERS: dict[str, tuple[str, Callable[[Ticket, object, str], str]]] = {
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


def fill(text: str, *, ticket: Ticket, by: object, base: str = "") -> str:
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


def responses_for(user: object, text: str = "") -> QuerySet[CannedResponse]:
    """The responses a technician may use: their own, their teams', the desk's shared ones;
    narrowed by words of the title when `text` is given."""
    teams = [team_id for team_id, _ in directory.team_memberships(user)]
    mine = (
        Q(owner=user)
        | Q(owner__isnull=True, team__isnull=True)
        | Q(owner__isnull=True, team__in=teams)
    )
    found = CannedResponse.objects.filter(mine)
    for word in (text or "").split()[:5]:
        found = found.filter(title__icontains=word[:40])
    return found.order_by("title", "pk")


def macros_for(user: object) -> QuerySet[Macro]:
    teams = [team_id for team_id, _ in directory.team_memberships(user)]
    wanted = Q(team__isnull=True) | Q(team__in=teams)
    return Macro.objects.filter(wanted, is_active=True).select_related(
        "response", "category", "resolution_code"
    )
