"""The mail app's periodic jobs, registered when Django starts (MailConfig.ready imports this)."""

from __future__ import annotations

from tierline.core.scheduler import every, register
from tierline.mail.spool import drain_job

DRAIN_SPOOL = register("mail-spool", schedule=every(minutes=1), run=drain_job)
