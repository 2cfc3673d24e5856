"""The assets' panels on desk pages: the requester's devices on the requester card
(`desk.requester.card`) and the assets linked to a ticket (`desk.ticket.side`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tierline.assets import queries
from tierline.core.panels import panels_for, register_panel

REQUESTER_DEVICES = "assets.requester_devices"
TICKET_ASSETS = "assets.ticket_assets"


def _staff(request: HttpRequest, obj: Any) -> bool:
    return bool(getattr(request.user, "is_staff_member", False))


def _devices(request: HttpRequest, requester: Any) -> dict[str, Any]:
    return {
        "assets": queries.assets_of_person(requester.pk),
        "heading": "Their devices",
        "card": False,
    }


def _linked(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "assets": queries.assets_linked_to_ticket(ticket.pk),
        "heading": "Linked assets",
        "card": True,
    }


if not any(p.name == REQUESTER_DEVICES for p in panels_for("desk.requester.card")):
    register_panel(
        "desk.requester.card",
        REQUESTER_DEVICES,
        template="assets/_asset_panel.html",
        context=_devices,
        when=_staff,
        order=20,
    )
if not any(p.name == TICKET_ASSETS for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        TICKET_ASSETS,
        template="assets/_asset_panel.html",
        context=_linked,
        when=_staff,
        order=20,
    )
