"""Errors services raise; views show them as messages, the API as 400 or 409."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ActionRefused(ValidationError):
    """The action is not allowed in the ticket's current state (an illegal transition, say)."""


class StaleEdit(ValidationError):
    """Someone else saved the record since it was loaded; nothing was overwritten."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Someone else changed this record while you were editing it. "
            "Reload to see their change, then apply yours again.",
            code="stale",
        )
