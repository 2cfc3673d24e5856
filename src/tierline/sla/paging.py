"""Paging who is on call: by email and by a signed webhook, never from a request.

    a new urgent ticket out of hours   `page_if_urgent` (a task after commit): the team's rota
    or one moved into a team out of    says who; `page_on_call` writes one `Page` row per
    its hours (`page_if_urgent_move`,  channel and person, and one history entry on the ticket
    once per ticket and team in
    MOVE_PAGE_WINDOW), or a policy's
    "page on-call" action
    every minute                       the `sla-pages` job: `deliver_due()` claims due rows (one
                                       conditional UPDATE each), sends each with a short timeout
                                       and on failure tries again after 1, 2, 4... minutes, up
                                       to MAX_ATTEMPTS, then "failed" with the last error

The webhook body is JSON; `X-Tierline-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact
body with the team's secret (`core.delivery.signed_post`, as the mail app's webhooks sign theirs). The email goes through
Django's `send_mail` (the EMAIL_* settings): the sla app may not import the mail app's sender.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from tierline.core import delivery
from tierline.desk import queries as desk_queries
from tierline.desk import services as desk_services
from tierline.desk.models import Ticket
from tierline.people.services import system_user
from tierline.sla import notices
from tierline.sla.models import Page, TeamRota
from tierline.sla.rota import in_business_hours, on_call, rota_of

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5.0
BATCH = 50
# A ticket moved into a team is paged to it once in this long, however often it bounces back.
MOVE_PAGE_WINDOW = timedelta(hours=1)
SIGNATURE_HEADER = delivery.SIGNATURE_HEADER


def timeout() -> float:
    return float(getattr(settings, "TIERLINE_PAGE_TIMEOUT", TIMEOUT_SECONDS))


def body_of(page: Page) -> bytes:
    return json.dumps(page.payload, separators=(",", ":"), sort_keys=True).encode()


def page_if_urgent(*, ticket_id: int, at: datetime | None = None) -> list[Page]:
    """Page the team's on-call technician if this new ticket is urgent enough for the team's
    rota and it came outside the team calendar's business hours."""
    at = at or timezone.now()
    facts = desk_queries.clock_facts(ticket_id)
    if facts is None:
        return []
    rota = rota_of(facts["team_id"])
    if rota is None or rota.page_priority is None or rota.calendar is None:
        return []
    if facts["priority"] > rota.page_priority or in_business_hours(rota, at):
        return []
    return page_on_call(
        ticket_id=ticket_id, reason=f"P{facts['priority']} ticket out of hours", at=at
    )


def page_if_urgent_move(*, ticket_id: int, at: datetime | None = None) -> list[Page]:
    """Page the on-call technician of the team a ticket was moved (escalated or de-escalated)
    into, if the ticket is urgent enough for that team's rota and the team is out of its
    calendar's hours; once per ticket and team in MOVE_PAGE_WINDOW (a page of the new ticket
    counts)."""
    at = at or timezone.now()
    with transaction.atomic():
        # The ticket's row orders two moves' tasks: the second sees the first one's pages.
        locked = Ticket.objects.select_for_update().filter(pk=ticket_id).values_list("pk")
        if not list(locked):
            return []
        facts = desk_queries.clock_facts(ticket_id)
        if facts is None:
            return []
        rota = rota_of(facts["team_id"])
        if rota is None or rota.page_priority is None or rota.calendar is None:
            return []
        if facts["priority"] > rota.page_priority or in_business_hours(rota, at):
            return []
        if Page.objects.filter(
            ticket_id=ticket_id, team_id=facts["team_id"], created_at__gt=at - MOVE_PAGE_WINDOW
        ).exists():
            return []
        return page_on_call(
            ticket_id=ticket_id,
            reason=f"P{facts['priority']} ticket moved to the team out of hours",
            at=at,
        )


@transaction.atomic
def page_on_call(*, ticket_id: int, reason: str, at: datetime | None = None) -> list[Page]:
    """Queue a page to whoever is on call for the ticket's team now (each channel the team's
    rota has), and write it on the ticket; nobody on call is written too."""
    at = at or timezone.now()
    actor = system_user("sla")
    ticket = Ticket.objects.select_related("team").filter(pk=ticket_id).first()
    if ticket is None:
        return []
    rota = rota_of(ticket.team_id) or TeamRota(team_id=ticket.team_id)
    shifts = on_call(ticket.team_id, at)
    if not shifts:
        desk_services.record_on_ticket(
            ticket_id=ticket_id,
            by=actor,
            action="page skipped",
            summary=f"Nobody is on call for {ticket.team} ({reason}).",
        )
        return []
    pages: list[Page] = []
    email_set_up = delivery.email_is_set_up()
    for shift in shifts:
        person = shift.person
        payload = {
            "event": "page",
            "reason": reason,
            "ticket": {
                "id": ticket.pk,
                "number": ticket.number,
                "subject": ticket.subject,
                "priority": ticket.priority,
                "team": str(ticket.team),
            },
            "on_call": {"id": person.pk, "username": person.username, "name": str(person)},
            "shift": {"id": shift.pk, "kind": shift.kind, "end": shift.end.isoformat()},
        }
        common = {"ticket": ticket, "team_id": ticket.team_id, "person": person}
        ways = []
        by_email = rota.page_email and person.email and email_set_up
        if by_email:
            pages.append(
                Page(
                    **common,
                    reason=reason[:200],
                    channel=Page.Channel.EMAIL,
                    address=person.email,
                    payload=payload,
                    next_attempt_at=at,
                )
            )
            ways.append("email")
        if rota.page_webhook_url:
            pages.append(
                Page(
                    **common,
                    reason=reason[:200],
                    channel=Page.Channel.WEBHOOK,
                    address=rota.page_webhook_url,
                    payload=payload,
                    next_attempt_at=at,
                )
            )
            ways.append("webhook")
        how = " and ".join(ways) or (
            "no channel (outgoing mail is not set up, no webhook)"
            if rota.page_email and person.email
            else "no channel (no email address, no webhook)"
        )
        desk_services.record_on_ticket(
            ticket_id=ticket_id,
            by=actor,
            action="paged on-call",
            summary=f"{person} ({shift.get_kind_display().lower()} shift) by {how}: {reason}.",
        )
    notices.tell_paged(
        ticket=ticket, person_ids=[shift.person_id for shift in shifts], reason=reason
    )
    return Page.objects.bulk_create(pages)


# --- delivery (core.delivery: claim, one try, back-off) ---------------------------------------


def _email(page: Page) -> None:
    ticket = page.payload.get("ticket", {})
    subject = f"[Tierline] On call: {ticket.get('number', '')} {ticket.get('subject', '')}"
    text = (
        f"You are on call for {ticket.get('team', '')}.\n\n"
        f"Why: {page.reason}\n"
        f"Ticket: {ticket.get('number', '')} (P{ticket.get('priority', '')})\n"
        f"Subject: {ticket.get('subject', '')}\n"
    )
    send_mail(
        " ".join(subject.split())[:250],
        text,
        None,
        [page.address],
        fail_silently=False,
    )


def send(page: Page) -> None:
    """Send one page once; raises on any failure (network, SMTP, timeout: each is retried)."""
    if page.channel != Page.Channel.WEBHOOK:
        _email(page)
        return
    secret = (
        TeamRota.objects.filter(team_id=page.team_id)
        .values_list("page_webhook_secret", flat=True)
        .first()
    )
    delivery.signed_post(
        page.address,
        body_of(page),
        secret=secret or "",
        timeout=timeout(),
        headers=[
            ("User-Agent", "Tierline-Page"),
            ("X-Tierline-Event", "page"),
            ("X-Tierline-Delivery", f"page-{page.pk}"),
        ],
    )


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> tuple[int, int]:
    """Send the pages that are due (oldest first); (sent, failed) counts. Outside any
    transaction: a POST never holds a lock."""
    return delivery.deliver_due(
        Page,
        send=send,
        max_attempts=MAX_ATTEMPTS,
        lease=timedelta(seconds=timeout() + 60),
        now=now,
        limit=limit,
        label="on-call page",
    )
