from __future__ import annotations

from django.http import HttpRequest


def tierline(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "is_staff_member": bool(user and user.is_authenticated and user.is_staff_member),
    }
