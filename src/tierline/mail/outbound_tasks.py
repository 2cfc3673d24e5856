"""Background tasks of outgoing mail (ids in, nothing shared). Each is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.mail import outbound, outbound_events


@task()
def mail_for_desk_event(*, kind: str, ticket_id: int, message_id: int | None = None) -> int | None:
    """Queue the requester's mail for one desk event (at most once per event)."""
    row = outbound_events.mail_for_desk_event(kind=kind, ticket_id=ticket_id, message_id=message_id)
    return row.pk if row is not None else None


@task()
def send_outbox() -> str:
    """Send the queued mail that is due."""
    return str(outbound.send_due())
