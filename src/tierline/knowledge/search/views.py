"""The search page: one box over tickets, replies and notes, and people, for the help desk.

A ticket number alone goes straight to the ticket, an email address alone to that person's
tickets; anything else lists the ranked matches the user may read, with marked snippets,
narrowed by kind and ticket status.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tierline.desk import permissions as perms
from tierline.desk.models import Status
from tierline.knowledge.models_search import SearchDocument
from tierline.knowledge.search import queries

MAX_TEXT = 200


def _chosen(values: list[str], allowed: list[str]) -> tuple[str, ...]:
    return tuple(v for v in values if v in allowed)


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    if not perms.is_staff_member(request.user):
        return redirect("portal:home")
    text = (request.GET.get("q") or "").strip()[:MAX_TEXT]
    kinds = _chosen(request.GET.getlist("kind"), SearchDocument.Kind.values)
    statuses = _chosen(request.GET.getlist("status"), Status.values)
    results = None
    if text:
        results = queries.search(request.user, text, kinds=kinds or None, statuses=statuses or None)
        if results.exact_ticket is not None:
            return redirect("desk:ticket", number=results.exact_ticket.number)
        if results.exact_person is not None:
            return redirect(f"{reverse('desk:search')}?requester={results.exact_person.pk}")
    return render(
        request,
        "knowledge/search.html",
        {
            "q": text,
            "results": results,
            "kinds": SearchDocument.Kind.choices,
            "statuses": Status.choices,
            "chosen_kinds": kinds,
            "chosen_statuses": statuses,
            "desk_nav": "search",
        },
    )
