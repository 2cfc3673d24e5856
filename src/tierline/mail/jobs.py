"""The mail app's periodic jobs, registered when Django starts (MailConfig.ready imports this)."""

from __future__ import annotations

from tierline.core.scheduler import every, register
from tierline.mail.spool import drain_job
from tierline.mail.webhooks import deliver_job

DRAIN_SPOOL = register("mail-spool", schedule=every(minutes=1), run=drain_job)
# Webhook deliveries: sent here, never in the request that made them (a slow receiver
# never slows the desk).
WEBHOOKS = register("mail-webhooks", schedule=every(minutes=1), run=deliver_job)
