"""Panels: how an app shows itself on another app's page without that page importing it.

A page names its *slots* (places where panels go) and renders them with the `{% panels %}` tag;
an app *registers* panels for a slot from its AppConfig.ready. The page's app never imports the
panel's app (NetBox's plug-in template extensions work the same way). The desk declares its slots
in `desk/panels.py`: the ticket page (main column and side), the requester card and the sidebar.

    from tierline.core.panels import register_panel

    register_panel(
        "desk.ticket.side",
        "sla.countdown",
        template="sla/_countdown_panel.html",
        context=lambda request, ticket: {"clock": clock_for(ticket.pk)},
        when=lambda request, ticket: ticket.is_open,
        order=10,
    )

A panel renders either a template (with the page's object as `object` and whatever `context`
returns) or a `render(request, obj)` callable returning HTML. A panel that fails is logged and
left out of the page: one broken app must not take the ticket page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

ContextFn = Callable[[HttpRequest, Any], dict[str, Any]]
RenderFn = Callable[[HttpRequest, Any], str]
WhenFn = Callable[[HttpRequest, Any], bool]


@dataclass(frozen=True)
class Slot:
    name: str
    description: str


@dataclass(frozen=True)
class Panel:
    slot: str
    name: str
    template: str | None = None
    context: ContextFn | None = None
    render: RenderFn | None = None
    when: WhenFn | None = None
    order: int = 100

    def html(self, request: HttpRequest, obj: Any) -> str:
        if self.render is not None:
            return str(self.render(request, obj))
        extra = self.context(request, obj) if self.context else {}
        return render_to_string(
            self.template or "", {"object": obj, "panel": self, **extra}, request=request
        )


_slots: dict[str, Slot] = {}
_panels: dict[str, list[Panel]] = {}


def declare_slot(name: str, description: str) -> Slot:
    """A place on a page where panels may go. Declaring it again with the same text is fine."""
    if not name or name != name.strip():
        raise ValueError("A slot needs a name without surrounding spaces.")
    existing = _slots.get(name)
    if existing is not None and existing.description != description:
        raise ValueError(f"Slot {name!r} is already declared: {existing.description!r}.")
    slot = _slots[name] = Slot(name, description)
    _panels.setdefault(name, [])
    return slot


def slots() -> list[Slot]:
    return sorted(_slots.values(), key=lambda s: s.name)


def register_panel(
    slot: str,
    name: str,
    *,
    template: str | None = None,
    context: ContextFn | None = None,
    render: RenderFn | None = None,
    when: WhenFn | None = None,
    order: int = 100,
) -> Panel:
    """Add a panel to a declared slot. Exactly one of `template` and `render` is given; the
    panel's `name` ("app.what") is unique within its slot."""
    if slot not in _slots:
        known = ", ".join(sorted(_slots)) or "none yet"
        raise ValueError(f"No slot named {slot!r} (declared slots: {known}).")
    if (template is None) == (render is None):
        raise ValueError(f"Panel {name!r}: give either a template or a render function.")
    if any(p.name == name for p in _panels[slot]):
        raise ValueError(f"A panel named {name!r} is already in slot {slot!r}.")
    panel = Panel(slot, name, template, context, render, when, order)
    _panels[slot].append(panel)
    _panels[slot].sort(key=lambda p: (p.order, p.name))
    return panel


def unregister_panel(slot: str, name: str) -> None:
    _panels[slot] = [p for p in _panels.get(slot, []) if p.name != name]


@contextmanager
def panel_registered(slot: str, name: str, **kwargs: Any) -> Iterator[Panel]:
    """Register a panel for the length of a `with` block (tests, previews)."""
    panel = register_panel(slot, name, **kwargs)
    try:
        yield panel
    finally:
        unregister_panel(slot, name)


def panels_for(slot: str) -> list[Panel]:
    if slot not in _slots:
        raise ValueError(f"No slot named {slot!r}.")
    return list(_panels[slot])


def render_slot(slot: str, request: HttpRequest, obj: Any = None) -> SafeString:
    """Every panel of `slot` that wants to show for this request and object, in order."""
    parts = []
    for panel in panels_for(slot):
        try:
            if panel.when is not None and not panel.when(request, obj):
                continue
            html = panel.html(request, obj)
        except Exception:
            logger.exception("Panel %s in slot %s failed; left out of the page", panel.name, slot)
            continue
        if html:
            # A render function's plain str is escaped; SafeString (format_html, templates) is kept.
            parts.append(
                f'<div class="panel" data-panel="{conditional_escape(panel.name)}">'
                f"{conditional_escape(html)}</div>"
            )
    return mark_safe("".join(parts))  # noqa: S308 (every part escaped above)
