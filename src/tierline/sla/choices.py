"""The sla app's choices that its logic reads as well as its models (rule_checks.py may not
import the models, which import it)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleTrigger(models.TextChoices):
    CREATED = "created", _("Ticket created")
    UPDATED = "updated", _("Ticket updated")
    TIME = "time", _("Time waited")


class WaitUnit(models.TextChoices):
    HOURS = "hours", _("Hours")
    BUSINESS_DAYS = "business_days", _("Business days")


__all__ = ["RuleTrigger", "WaitUnit"]
