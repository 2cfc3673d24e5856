"""The assets' panels on desk pages: the requester's devices on the requester card
(`desk.requester.card`), the assets linked to a ticket and their diagnostics
(`desk.ticket.side`). And the asset page's own slots, `assets.asset.main` and
`assets.asset.side`, where other apps (changes) show themselves without the assets app
importing them; the asset's relations and diagnostics are panels there too."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tierline.assets import diagnostics, queries, relations
from tierline.assets.models import DiagnosticKind
from tierline.core.panels import declare_slot, panels_for, register_panel

REQUESTER_DEVICES = "assets.requester_devices"
TICKET_ASSETS = "assets.ticket_assets"
TICKET_DIAGNOSTICS = "assets.ticket_diagnostics"
ASSET_MAIN = "assets.asset.main"
ASSET_SIDE = "assets.asset.side"
ASSET_RELATIONS = "assets.relations"
ASSET_DIAGNOSTICS = "assets.diagnostics"

declare_slot(ASSET_MAIN, "Asset page, main column, under what the agent saw (object: the asset)")
declare_slot(ASSET_SIDE, "Asset page, side column, under its tickets (object: the asset)")


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


def _relations(request: HttpRequest, asset: Any) -> dict[str, Any]:
    return {
        "related": relations.relations_of(asset),
        "choices": relations.direction_choices(),
    }


def _diagnostic_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "request": d,
            "described": diagnostics.describe(d),
            "lines": diagnostics.result_lines(d) if d.completed_at else [],
        }
        for d in rows
    ]


def _diagnostics(request: HttpRequest, asset: Any) -> dict[str, Any]:
    return {
        "has_agent": diagnostics.has_agent(asset),
        "kinds": DiagnosticKind.choices,
        "rows": _diagnostic_rows(diagnostics.diagnostics_of(asset)),
    }


def _ticket_diagnostics(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    devices = [a for a in queries.assets_linked_to_ticket(ticket.pk) if diagnostics.has_agent(a)]
    return {
        "devices": devices,
        "ticket": ticket,
        "kinds": DiagnosticKind.choices,
        "rows": _diagnostic_rows(diagnostics.diagnostics_of_ticket(ticket.pk)),
    }


def _register(slot: str, name: str, **kwargs: Any) -> None:
    if not any(p.name == name for p in panels_for(slot)):
        register_panel(slot, name, **kwargs)


_register(
    ASSET_MAIN,
    ASSET_RELATIONS,
    template="assets/_relations_panel.html",
    context=_relations,
    when=_staff,
    order=10,
)
_register(
    ASSET_MAIN,
    ASSET_DIAGNOSTICS,
    template="assets/_diagnostics_panel.html",
    context=_diagnostics,
    when=_staff,
    order=20,
)
_register(
    "desk.ticket.side",
    TICKET_DIAGNOSTICS,
    template="assets/_ticket_diagnostics_panel.html",
    context=_ticket_diagnostics,
    when=_staff,
    order=21,
)
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
