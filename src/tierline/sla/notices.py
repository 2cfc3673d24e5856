"""Notices of targets at risk or breached, to the people who answer for the ticket.

    the sweep marks a ticket          `tell(...)`: queued on the sweep's commit (a rollback
                                      tells nobody; the clock's `noticed` makes it once)
    on commit                         core.notifications.notify(kind="sla_at_risk" or
                                      "sla_breached"): the mail app's notifications, by the
                                      channel each person chose for the kind (in the app, by
                                      email, not at all)
    no deliverer (mail not installed) an email to each of them through Django's `send_mail`

A page (`paging.page_on_call`) also tells who is paged, in the app ("sla_paged"), through the
same seam; its email and webhook are the page's own (retried, on the health page), so without a
deliverer nothing more is sent.

Who: the assignee; the team's leads too when the policy's action for the level is "notify the
team lead", or when nobody is assigned (someone must hear). The sla app may not import mail.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

from tierline.core import delivery, notifications
from tierline.desk.models import Ticket
from tierline.people import queries as people_queries
from tierline.people.models import User

logger = logging.getLogger(__name__)

KIND_OF_LEVEL = {"at_risk": "sla_at_risk", "breached": "sla_breached"}


def team_lead_ids(team_id: int) -> list[int]:
    """The active team leads who are members of the team, by id."""
    return list(
        people_queries.team_members(team_id)
        .filter(role=User.Role.LEAD)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def recipients_for(ticket: Ticket, *, leads: bool) -> list[int]:
    """Who hears of this ticket's target: its assignee, and its team's leads when `leads` or
    when nobody is assigned."""
    ids = [ticket.assignee_id] if ticket.assignee_id else []
    if leads or not ids:
        ids += [pk for pk in team_lead_ids(ticket.team_id) if pk not in ids]
    return ids


def tell(*, ticket: Ticket, level: str, text: str, recipient_ids: list[int]) -> None:
    """Tell these people, once the caller's transaction commits (see the module)."""
    if not recipient_ids:
        return
    kind = KIND_OF_LEVEL[level]
    text = f"{ticket.number} {ticket.subject}: {text}"[:500]
    ticket_id, ids = ticket.pk, list(recipient_ids)

    def send() -> None:
        if notifications.notify(recipients=ids, kind=kind, ticket_id=ticket_id, text=text):
            return
        email_fallback(recipient_ids=ids, text=text)

    transaction.on_commit(send)


def email_fallback(*, recipient_ids: list[int], text: str) -> int:
    """Without a notification service: one email each (a failure is logged, not retried: the
    history entry on the ticket stays), none when outgoing mail is not set up. How many went."""
    sent = 0
    if not delivery.email_is_set_up():
        return sent
    for person in User.objects.filter(pk__in=recipient_ids, is_active=True).exclude(email=""):
        try:
            send_mail(
                " ".join(f"[Tierline] {text}".split())[:250],
                f"{text}\n\nOpen the ticket in Tierline to act on it.\n",
                None,
                [person.email],
                fail_silently=False,
            )
            sent += 1
        except Exception as exc:  # noqa: BLE001 (SMTP down: the notice is on the ticket anyway)
            logger.warning("service target notice to %s not sent: %s", person.pk, exc)
    return sent


def tell_paged(*, ticket: Ticket, person_ids: list[int], reason: str) -> None:
    """Tell who was paged in their notifications too, on commit (see the module)."""
    if not person_ids:
        return
    text = f"You are paged for {ticket.number} {ticket.subject}: {reason}"[:500]
    ticket_id, ids = ticket.pk, list(person_ids)
    transaction.on_commit(
        lambda: notifications.notify(
            recipients=ids, kind="sla_paged", ticket_id=ticket_id, text=text
        )
    )
