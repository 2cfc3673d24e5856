"""Errors services raise; views show them as messages, the API as 400 or 409."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ActionRefused(ValidationError):
    """The action is not allowed in the ticket's current state (an illegal transition, say)."""


class StaleEdit(ValidationError):
    """Someone else saved the record since it was loaded; nothing was overwritten.

    `current` holds the record's values as they are now (plain JSON values), so whoever asked
    sees what they would have overwritten: the UI names them, the API sends them with its 409.
    """

    def __init__(self, message: str | None = None, *, current: dict | None = None) -> None:
        super().__init__(
            message
            or "Someone else changed this record while you were editing it. "
            "Reload to see their change, then apply yours again.",
            code="stale",
        )
        self.current = current or {}


class IdempotencyConflict(ValidationError):
    """A one-time key (an Idempotency-Key header, a form token) came back with other content."""
