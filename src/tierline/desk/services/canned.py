"""Canned responses (reply templates) and macros (a template and field changes in one click)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.core.errors import ActionRefused
from tierline.desk.canned import macros_for
from tierline.desk.models import CannedResponse, Macro, Ticket
from tierline.desk.placeholders import check_placeholders, fill
from tierline.desk.services.common import ensure_workable
from tierline.desk.services.lifecycle import resolve
from tierline.desk.services.messages import add_message
from tierline.desk.services.saving import ensure_current
from tierline.desk.services.tickets import change_fields
from tierline.people.models import Team, User


@transaction.atomic
def save_canned_response(
    *,
    by: User,
    title: str,
    body: str,
    team: Team | None = None,
    personal: bool = True,
    response: CannedResponse | None = None,
) -> CannedResponse:
    """Create (or change) a reply template; unknown placeholders are refused with the list."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the response a title."
    elif len(title) > 80:
        errors["title"] = "A title has at most 80 characters."
    if not (body or "").strip():
        errors["body"] = "Write the response's text."
    elif len(body) > 10000:
        errors["body"] = "A response has at most 10,000 characters."
    if errors:
        raise ValidationError(errors)
    check_placeholders(body)
    row = response or CannedResponse()
    row.title, row.body = title, body
    row.owner = by if personal else None
    row.team = None if personal else team
    row.save()
    return row


@transaction.atomic
def apply_macro(
    *,
    ticket: Ticket,
    by: User,
    macro: Macro,
    expected_version: int | None = None,
    base_url: str = "",
) -> Ticket:
    """The macro's changes, all or none: the category, then the reply (or, with a resolution
    code, resolve with the reply as the note). From a page loaded at `expected_version`,
    refused (StaleEdit) if the ticket changed since, as every edit is."""
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    if not macros_for(by).filter(pk=macro.pk).exists():
        raise ActionRefused(f"The macro “{macro.name}” is not offered to you.")
    body = ""
    if macro.response is not None:
        check_placeholders(macro.response.body)
        body = fill(macro.response.body, ticket=ticket, by=by, base=base_url)
    if macro.category_id is not None and macro.category_id != ticket.category_id:
        change_fields(ticket=ticket, by=by, category=macro.category)
    if macro.resolution_code_id is not None:
        ticket.refresh_from_db()
        resolve(ticket=ticket, by=by, resolution_code=macro.resolution_code, body=body)
    elif body:
        add_message(ticket=ticket, by=by, body=body)
    ticket.refresh_from_db()
    return ticket
