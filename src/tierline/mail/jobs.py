"""The mail app's periodic jobs, registered when Django starts (MailConfig.ready imports this)."""

from __future__ import annotations

from datetime import timedelta

from tierline.core.scheduler import every, register
from tierline.mail import imap
from tierline.mail.outbound_tasks import send_outbox
from tierline.mail.spool import drain_job
from tierline.mail.webhooks import deliver_job

DRAIN_SPOOL = register("mail-spool", schedule=every(minutes=1), run=drain_job)


def enqueue_send_outbox() -> object:
    # Enqueued, not called: with TIERLINE_TASKS=database the worker sends; the immediate backend
    # sends right here. The scheduler's lease runs it once a minute across servers.
    return send_outbox.enqueue()


SEND_OUTBOX = register("mail-send", schedule=every(minutes=1), run=enqueue_send_outbox)
# Each IMAP account is polled at its own interval (`ImapAccount.poll_minutes`, its own lease):
# this job looks every minute for the accounts that are due.
FETCH_IMAP = register(
    "mail-imap", schedule=every(minutes=1), run=imap.poll_due, lease=timedelta(minutes=20)
)
# Webhook deliveries: sent here, never in the request that made them (a slow receiver
# never slows the desk).
WEBHOOKS = register("mail-webhooks", schedule=every(minutes=1), run=deliver_job)
