"""Running a troubleshooting guide, step by step, in plain HTML forms (no JavaScript needed).

The same views serve the help desk (/knowledge/guides/…, on a ticket or a call) and the portal
(/portal/help/guides/…, public guides only): the URL says which (`where`). A run belongs to
whoever started it; another's run is a 404. An answer that does not fit the run (tampered
with, another guide's, sent twice) is a 400 page, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tierline.core.markdown import render_markdown
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.knowledge import guides
from tierline.knowledge.models import GuideRun
from tierline.knowledge.queries import can_write

DESK, PORTAL = GuideRun.Where.DESK, GuideRun.Where.PORTAL
# Each place's URL names and page frame.
NAMES = {
    DESK: {"ns": "knowledge", "base": "base.html", "list": "knowledge:guides"},
    PORTAL: {"ns": "portal", "base": "base_portal.html", "list": "portal:help"},
}


def _guides_for(request: HttpRequest, where: str) -> Any:
    if where == DESK:
        if not can_write(request.user):
            raise Http404("No such page.")
        return guides.desk_guides(request.user)
    return guides.portal_guides(request.user)


def _ticket(request: HttpRequest) -> Any:
    """The ticket named by ?ticket= or the form's ticket field, read as the help desk."""
    number = (request.POST.get("ticket") or request.GET.get("ticket") or "").strip()[:20]
    if not number:
        return None
    ticket = perms.ticket_for(request.user, number)
    if not perms.can_note_ticket(request.user, ticket):
        raise Http404("No such ticket.")
    return ticket


def _bad(request: HttpRequest, run: GuideRun | None, where: str, exc: ValidationError) -> Any:
    url = reverse(f"{NAMES[where]['ns']}:guide_run", args=[run.pk]) if run else None
    return render(
        request,
        "knowledge/guide_refused.html",
        {"messages_list": exc.messages, "run_url": url, "base": NAMES[where]["base"]},
        status=400,
    )


@login_required
def guide_list(request: HttpRequest) -> HttpResponse:
    """The help desk's guides, to run on a call or on a ticket (?ticket=TL-…)."""
    all_guides = _guides_for(request, DESK)
    ticket = _ticket(request)
    page = page_of(request, all_guides.order_by("title", "id"))
    return render(
        request,
        "knowledge/guides.html",
        {"page": page, "ticket": ticket, "desk_nav": "knowledge"},
    )


@login_required
@require_POST
def guide_start(request: HttpRequest, pk: Any, where: str) -> HttpResponse:
    guide = guides.guide_for(_guides_for(request, where), pk)
    ticket = _ticket(request) if where == DESK else None
    try:
        run = guides.start_run(guide=guide, by=request.user, where=where, ticket=ticket)
    except ValidationError as exc:
        return _bad(request, None, where, exc)
    return redirect(f"{NAMES[where]['ns']}:guide_run", run.pk)


@login_required
def guide_run(request: HttpRequest, pk: Any, where: str) -> HttpResponse:
    _guides_for(request, where)
    run = guides.run_for(request.user, pk, where)
    step = guides.step_of(run)
    ns = NAMES[where]["ns"]
    context = {
        "run": run,
        "guide": run.guide,
        "step": step,
        "step_html": render_markdown(step.text) if step else "",
        # at a step the guide no longer has (edited in the admin mid-run)
        "guide_changed": step is None and run.current_number is not None,
        "ending_html": render_markdown(run.ending_text) if run.outcome else "",
        "path_text": guides.path_text(run),
        "where": where,
        "base": NAMES[where]["base"],
        "list_url": reverse(NAMES[where]["list"]),
        "answer_url": reverse(f"{ns}:guide_answer", args=[run.pk]),
        "back_url": reverse(f"{ns}:guide_back", args=[run.pk]),
        "restart_url": reverse(f"{ns}:guide_restart", args=[run.pk]),
        "desk_nav": "knowledge",
    }
    if where == DESK and run.ticket is not None:
        context["can_note"] = perms.can_note_ticket(request.user, run.ticket)
        context["can_escalate"] = guides.can_escalate(request.user, run)
        context["write_url"] = reverse("knowledge:guide_write", args=[run.pk])
    return render(request, "knowledge/guide_run.html", context)


@login_required
@require_POST
def guide_answer(request: HttpRequest, pk: Any, where: str) -> HttpResponse:
    _guides_for(request, where)
    run = guides.run_for(request.user, pk, where)
    try:
        guides.answer(
            run=run,
            by=request.user,
            step_number=request.POST.get("step"),
            answer_id=request.POST.get("answer"),
        )
    except guides.BadAnswer as exc:
        return _bad(request, run, where, exc)
    return redirect(f"{NAMES[where]['ns']}:guide_run", run.pk)


@login_required
@require_POST
def guide_back(request: HttpRequest, pk: Any, where: str) -> HttpResponse:
    _guides_for(request, where)
    run = guides.run_for(request.user, pk, where)
    try:
        guides.go_back(run=run, by=request.user)
    except guides.BadAnswer as exc:
        return _bad(request, run, where, exc)
    return redirect(f"{NAMES[where]['ns']}:guide_run", run.pk)


@login_required
@require_POST
def guide_restart(request: HttpRequest, pk: Any, where: str) -> HttpResponse:
    _guides_for(request, where)
    run = guides.run_for(request.user, pk, where)
    try:
        new = guides.restart(run=run, by=request.user)
    except ValidationError as exc:
        return _bad(request, run, where, exc)
    return redirect(f"{NAMES[where]['ns']}:guide_run", new.pk)


@login_required
@require_POST
def guide_write(request: HttpRequest, pk: Any) -> HttpResponse:
    """The end of a run on a ticket: the path as an internal note, or the escalation."""
    _guides_for(request, DESK)
    run = guides.run_for(request.user, pk, DESK)
    action = request.POST.get("action")
    if action not in ("note", "escalate"):
        return _bad(request, run, DESK, ValidationError("Choose to write a note or to escalate."))
    try:
        if action == "escalate":
            guides.escalate_with_answers(run=run, by=request.user)
        else:
            guides.write_on_ticket(run=run, by=request.user)
    except guides.BadAnswer as exc:
        return _bad(request, run, DESK, exc)
    except ValidationError as exc:  # the desk refused (a closed ticket, the top tier)
        for message in exc.messages:
            messages.error(request, message)
        return redirect("knowledge:guide_run", run.pk)
    number = run.ticket.number
    if action == "escalate":
        messages.success(request, f"{number} escalated with the guide's answers.")
    else:
        messages.success(request, f"The guide's answers are an internal note on {number}.")
    return redirect("desk:ticket", number)
