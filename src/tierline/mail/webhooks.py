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

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tierline.desk import events as desk_events
from tierline.desk.models import Ticket
from tierline.mail.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 5.0
BATCH = 50
SIGNATURE_HEADER = "X-Tierline-Signature"

SUMMARIES = {
    "TicketOpened": "New ticket",
    "TicketAssigned": "Assigned",
    "MessageAdded": "New message",
    "StatusChanged": "Status changed",
    "PriorityChanged": "Priority changed",
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
    data = {key: _plain(value) for key, value in asdict(event).items()}
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


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """How a receiver checks a delivery: the header is the HMAC of the exact body."""
    return hmac.compare_digest(signature(secret, body), header or "")


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    """Take the row for this runner: its next attempt moves past the POST's timeout."""
    lease = now + timedelta(seconds=timeout() + 60)
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery.pk,
            state=WebhookDelivery.State.PENDING,
            next_attempt_at=delivery.next_attempt_at,
        ).update(next_attempt_at=lease)
    )


def post(delivery: WebhookDelivery) -> None:
    """POST the delivery once; raises on a network error, a timeout or a non-2xx answer."""
    url = delivery.webhook.url
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {url[:100]}")
    body = body_of(delivery)
    request = urllib.request.Request(  # noqa: S310 (http or https only, checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Tierline-Webhook",
            "X-Tierline-Event": delivery.event,
            "X-Tierline-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: signature(delivery.webhook.secret, body),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout()) as answer:  # noqa: S310 (checked above)
        answer.read(1024)


def deliver(delivery: WebhookDelivery) -> bool:
    """One attempt at one claimed delivery; True if the receiver took it."""
    now = timezone.now()
    try:
        post(delivery)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        attempts = delivery.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:500],
            state=WebhookDelivery.State.FAILED if failed else WebhookDelivery.State.PENDING,
            next_attempt_at=now + backoff(attempts),
        )
        logger.warning("webhook %s: delivery %s failed: %s", delivery.webhook, delivery.pk, exc)
        return False
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1, state=WebhookDelivery.State.SENT, sent_at=now
    )
    return True


def deliver_due(*, now: datetime | None = None, limit: int = BATCH) -> tuple[int, int]:
    """Send what is due (oldest first); (sent, failed) counts. Outside any transaction: a POST
    never holds a lock."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
        )
        .select_related("webhook")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    sent = failed = 0
    for delivery in due:
        with transaction.atomic():
            claimed = _claim(delivery, now)
        if not claimed:
            continue
        if deliver(delivery):
            sent += 1
        else:
            failed += 1
    return sent, failed


def deliver_job() -> int:
    """The scheduled job: the deliveries due now."""
    return sum(deliver_due())
