"""The assistant on other apps' pages: its suggestions on the ticket page (slot
`desk.ticket.side`), the plain-language check in the reply form (`desk.ticket.composer`) and on a
public knowledge base article (`knowledge.article`: the object is the article, read by its
attributes; assist never imports knowledge); a new ticket's likely duplicates and the possible
major incident it is part of (`desk.ticket.main`). No sidebar link to the list of possible major
incidents: a third nav squeezes the workspace strip to nothing on a phone (see the assets app's);
the incident panel links to it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tierline.assist import duplicates, queries, services
from tierline.core.panels import panels_for, register_panel
from tierline.desk import permissions as perms

SUGGESTIONS = "assist.suggestions"
SIMILAR = "assist.similar_answers"
DUPLICATES = "assist.duplicates"
INCIDENT = "assist.incident"
COMPOSER_CHECK = "assist.plain_language"
ARTICLE_CHECK = "assist.plain_language"


def _context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "suggestions": services.pending_for(ticket),
        "can_apply": perms.can_work_ticket(request.user, ticket),
    }


def _for_the_desk(request: HttpRequest, ticket: Any) -> bool:
    return perms.is_staff_member(request.user) and perms.can_read_as_technician(
        request.user, ticket
    )


if not any(p.name == SUGGESTIONS for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        SUGGESTIONS,
        template="assist/_suggestions.html",
        context=_context,
        when=_for_the_desk,
        order=5,
    )


def _can_send_public_reply(request: HttpRequest, ticket: Any) -> bool:
    return perms.can_work_ticket(request.user, ticket)


def _article_context(request: HttpRequest, article: Any) -> dict[str, Any]:
    return {"result": queries.check_article(article.body)}


def _public_article_for_the_desk(request: HttpRequest, article: Any) -> bool:
    return perms.is_staff_member(request.user) and bool(getattr(article, "is_public", False))


if not any(p.name == COMPOSER_CHECK for p in panels_for("desk.ticket.composer")):
    register_panel(
        "desk.ticket.composer",
        COMPOSER_CHECK,
        template="assist/_composer_check.html",
        when=_can_send_public_reply,
    )

if not any(p.name == ARTICLE_CHECK for p in panels_for("knowledge.article")):
    register_panel(
        "knowledge.article",
        ARTICLE_CHECK,
        template="assist/_article_check.html",
        context=_article_context,
        when=_public_article_for_the_desk,
    )


def _duplicates_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "duplicates": duplicates.duplicates_for(ticket, request.user),
        "can_merge": perms.can_work_ticket(request.user, ticket),
    }


def _incident_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {"incident": duplicates.cluster_for(ticket, request.user)}


def _open_for_the_desk(request: HttpRequest, ticket: Any) -> bool:
    return bool(ticket.is_open) and _for_the_desk(request, ticket)


if not any(p.name == DUPLICATES for p in panels_for("desk.ticket.main")):
    register_panel(
        "desk.ticket.main",
        DUPLICATES,
        template="assist/_duplicates.html",
        context=_duplicates_context,
        when=_open_for_the_desk,
        order=5,
    )

if not any(p.name == INCIDENT for p in panels_for("desk.ticket.main")):
    register_panel(
        "desk.ticket.main",
        INCIDENT,
        template="assist/_incident_panel.html",
        context=_incident_context,
        when=_for_the_desk,
        order=6,
    )

if not any(p.name == SIMILAR for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        SIMILAR,
        template="assist/_similar_panel.html",
        when=_for_the_desk,
        order=6,
    )
