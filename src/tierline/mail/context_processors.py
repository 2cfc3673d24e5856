"""The unread count in the header: one COUNT on the partial unread index, only when a page
shows it (lazy), none for the anonymous."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tierline.mail import notify


def inbox(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notify.unread_count(user))}
