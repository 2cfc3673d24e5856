"""The changes' panels on other apps' pages: a link to the change records in the workspace
sidebar (`desk.sidebar`), the changes linked to a ticket (`desk.ticket.side`) and to an asset
(`assets.asset.side`, a slot the assets app declares; changes never imports assets)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tierline.changes import queries
from tierline.core.panels import panels_for, register_panel

SIDEBAR_LINK = "changes.sidebar_link"
TICKET_CHANGES = "changes.ticket_changes"
ASSET_CHANGES = "changes.asset_changes"


def _staff(request: HttpRequest, obj: Any) -> bool:
    return bool(getattr(request.user, "is_staff_member", False))


def _sidebar(request: HttpRequest, user: Any) -> SafeString:
    html = render_to_string("changes/_sidebar_link.html", {}, request=request)
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


def _linked(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {"changes": queries.changes_linked_to_ticket(ticket.pk)}


def _of_asset(request: HttpRequest, asset: Any) -> dict[str, Any]:
    return {"changes": queries.changes_linked_to_asset(asset.pk)}


if not any(p.name == SIDEBAR_LINK for p in panels_for("desk.sidebar")):
    register_panel("desk.sidebar", SIDEBAR_LINK, render=_sidebar, when=_staff, order=40)
if not any(p.name == TICKET_CHANGES for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        TICKET_CHANGES,
        template="changes/_ticket_panel.html",
        context=_linked,
        when=_staff,
        order=30,
    )
if not any(p.name == ASSET_CHANGES for p in panels_for("assets.asset.side")):
    register_panel(
        "assets.asset.side",
        ASSET_CHANGES,
        template="changes/_ticket_panel.html",
        context=_of_asset,
        when=_staff,
        order=30,
    )
