"""The desk's enumerations: the values other apps read (status, priority, channel, levels).

They live apart from the models so that an app can name a ticket's status or channel without
importing the desk's tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """Impact and urgency share one scale."""

    HIGH = 1, _("High")
    MEDIUM = 2, _("Medium")
    LOW = 3, _("Low")


class Priority(models.IntegerChoices):
    """Lower sorts first: P1 is worked before P4."""

    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    MEDIUM = 3, _("Medium")
    LOW = 4, _("Low")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_REQUESTER = "waiting_requester", _("Waiting on requester")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING_REQUESTER,
        Status.WAITING_THIRD_PARTY,
    }
)

# What the requester reads: plain words, no help desk jargon.
REQUESTER_STATUS_WORDS = {
    Status.NEW: _("Received, not picked up yet"),
    Status.OPEN: _("We're working on it"),
    Status.IN_PROGRESS: _("We're working on it"),
    Status.WAITING_REQUESTER: _("We need something from you"),
    Status.WAITING_THIRD_PARTY: _("Waiting on a supplier"),
    Status.RESOLVED: _("Fixed: please confirm"),
    Status.CLOSED: _("Done"),
}


class Channel(models.TextChoices):
    PORTAL = "portal", _("Web portal")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    API = "api", _("API")
    AGENT = "agent", _("Endpoint agent")
    CHAT = "chat", _("Chat")
