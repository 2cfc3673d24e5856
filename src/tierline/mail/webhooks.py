"""Webhooks: a signed JSON POST per desk event to each receiver that asked for it.

    after commit   `queue(events)`: one WebhookDelivery row per event and matching webhook
                   (no network: the desk never waits on a receiver)
    every minute   the `mail-webhooks` job: `deliver_due()` claims due rows (one conditional
                   UPDATE each, so two runners never send one twice), POSTs with a short
                   timeout, and on failure tries again later: 1, 2, 4... minutes, up to
                   MAX_ATTEMPTS, then "failed" with the last error (admin: webhook deliveries)

The body is JSON; `X-Tierline-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body
with the webhook's secret (`verify` shows how a receiver checks it). Slack and Teams get the
shapes their incoming webhooks take (`text`; a MessageCard), with the same signature header.
No message bodies go out: a webhook names the event, the ticket and its public fields.
"""

from __future__ import annotations

import json
import logging
import urllib.error
from dataclasses import fields
from datetime import datetime, timedelta

from django.conf import settings

from tierline.core import delivery
from tierline.desk import events as desk_events
from tierline.desk.models import Ticket
from tierline.mail.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 5.0
BATCH = 50
SIGNATURE_HEADER = delivery.SIGNATURE_HEADER

SUMMARIES = {
    "TicketOpened": "New ticket",
    "TicketAssigned": "Assigned",
    "MessageAdded": "New message",
    "StatusChanged": "Status changed",
    "PriorityChanged": "Priority changed",
    "CategoryChanged": "Category changed",
    "Escalated": "Escalated",
    "DeEscalated": "De-escalated",
    "Resolved": "Resolved",
    "Reopened": "Reopened",
    "Closed": "Closed",
    "Merged": "Merged",
    "WorkOrderOpened": "Work order scheduled",
    "WorkOrderCompleted": "Work order completed",
    "WorkOrderCancelled": "Work order cancelled",
}


def timeout() -> float:
    return float(getattr(settings, "TIERLINE_WEBHOOK_TIMEOUT", TIMEOUT_SECONDS))


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def payload_for(webhook: Webhook, event: desk_events.TicketEvent, ticket: Ticket) -> dict:
    """What this webhook is sent for this event, in its format."""
    name = event.name()
    summary = f"{SUMMARIES.get(name, name)}: {ticket.number} {ticket.subject}"
    if webhook.format == Webhook.Format.SLACK:
        return {"text": summary}
    if webhook.format == Webhook.Format.TEAMS:
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": summary,
            "title": f"{SUMMARIES.get(name, name)}: {ticket.number}",
            "text": ticket.subject,
        }
    data = {
        item.name: _plain(getattr(event, item.name))
        for item in fields(event)
        if not item.metadata.get(desk_events.PRIVATE)
    }
    if isinstance(event, desk_events.MessageAdded) and event.internal:
        data["internal"] = True
    return {
        "event": name,
        "ticket": {
            "id": ticket.pk,
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "team_id": ticket.team_id,
            "assignee_id": ticket.assignee_id,
        },
        "data": data,
    }


def queue(batch: list[desk_events.TicketEvent]) -> list[WebhookDelivery]:
    """One pending delivery per event and webhook that wants it (after commit)."""
    hooks = list(Webhook.objects.filter(is_active=True))
    if not hooks or not batch:
        return []
    tickets = Ticket.objects.in_bulk({event.ticket_id for event in batch})
    rows = []
    for event in batch:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            continue
        for hook in hooks:
            if hook.events and event.name() not in hook.events:
                continue
            rows.append(
                WebhookDelivery(
                    webhook=hook, event=event.name(), payload=payload_for(hook, event, ticket)
                )
            )
    return WebhookDelivery.objects.bulk_create(rows)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


signature = delivery.signature
verify = delivery.verify  # how a receiver checks a delivery: the HMAC of the exact body


def post(row: WebhookDelivery) -> None:
    """POST the delivery once; raises on a network error, a timeout or a non-2xx answer."""
    delivery.signed_post(
        row.webhook.url,
        body_of(row),
        secret=row.webhook.secret,
        timeout=timeout(),
        headers=[
            ("User-Agent", "Tierline-Webhook"),
            ("X-Tierline-Event", row.event),
            ("X-Tierline-Delivery", str(row.pk)),
        ],
    )


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> tuple[int, int]:
    """Send what is due (oldest first); (sent, failed) counts. Outside any transaction: a POST
    never holds a lock."""
    return delivery.deliver_due(
        WebhookDelivery,
        send=post,
        max_attempts=MAX_ATTEMPTS,
        lease=timedelta(seconds=timeout() + 60),
        now=now,
        limit=limit,
        retry_on=(urllib.error.URLError, OSError, ValueError),
        rows=lambda due: due.select_related("webhook"),
        label="webhook delivery",
    )


def deliver_job() -> int:
    """The scheduled job: the deliveries due now."""
    return sum(deliver_due())
