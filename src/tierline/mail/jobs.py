"""The mail app's periodic jobs, registered when Django starts (MailConfig.ready imports this)."""

from __future__ import annotations

from datetime import timedelta

from tierline.core.scheduler import every, register
from tierline.mail import imap
from tierline.mail.spool import drain_job

DRAIN_SPOOL = register("mail-spool", schedule=every(minutes=1), run=drain_job)
# Each IMAP account is polled at its own interval (`ImapAccount.poll_minutes`, its own lease):
# this job looks every minute for the accounts that are due.
FETCH_IMAP = register(
    "mail-imap", schedule=every(minutes=1), run=imap.poll_due, lease=timedelta(minutes=20)
)
