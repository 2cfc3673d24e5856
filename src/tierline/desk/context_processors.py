"""What the workspace sidebar needs on every desk page: the active link and the queue counts."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from tierline.core import permissions as perms
from tierline.desk import queries


def sidebar(request: HttpRequest) -> dict:
    """`desk_nav` names the active sidebar link; `queue_counts` is counted only when a template
    reads it (portal pages never do), and at most once per request."""
    user = getattr(request, "user", None)
    if user is None or not perms.is_staff_member(user):
        return {}
    match = getattr(request, "resolver_match", None)
    nav = ""
    if match is not None and match.namespace == "desk":
        nav = match.url_name or ""
        if nav == "queue":
            queue = request.GET.get("queue") or "team"
            if queue not in queries.QUEUES or (queue == "all" and not perms.sees_everything(user)):
                queue = "team"
            nav = f"queue:{queue}"

    @cache
    def counts() -> dict[str, int]:
        return queries.queue_counts(user)

    return {"desk_nav": nav, "queue_counts": counts}
