"""What the workspace sidebar needs on every desk page: which link is active."""

from __future__ import annotations

from django.http import HttpRequest

from tierline.desk import permissions as perms
from tierline.desk import queries


def sidebar(request: HttpRequest) -> dict:
    """`desk_nav` names the active sidebar link. The queue counts are not here: the sidebar
    fetches them after the page has loaded (desk:sidebar)."""
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
    return {"desk_nav": nav}
