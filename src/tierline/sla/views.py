"""The on-call page (who is on call now, the coming shifts, my intake) and the rota's
iCalendar feed."""

from __future__ import annotations

import hmac

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tierline.core.inputs import parse_id
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk.views.queue import staff_required
from tierline.people import queries as people_queries
from tierline.sla import assignment, rota
from tierline.sla.models import Shift, TeamRota

SHIFTS_PER_PAGE = 25


@staff_required
@require_GET
def oncall(request: HttpRequest) -> HttpResponse:
    at = timezone.now()
    teams = list(people_queries.teams())
    team_id = parse_id(request.GET.get("team", ""))
    if team_id is not None and team_id not in {t.pk for t in teams}:
        team_id = None
    now_by_team: dict[int, list[Shift]] = {}
    for shift in Shift.objects.select_related("person").filter(start__lte=at, end__gt=at):
        now_by_team.setdefault(shift.team_id, []).append(shift)
    rotas = set(TeamRota.objects.values_list("team_id", flat=True))
    board = [
        {"team": t, "shifts": now_by_team.get(t.pk, [])}
        for t in teams
        if t.pk in now_by_team or t.pk in rotas
    ]
    page = page_of(request, rota.current_and_next(team_id, at), per_page=SHIFTS_PER_PAGE)
    return render(
        request,
        "sla/oncall.html",
        {
            "at": at,
            "board": board,
            "teams": teams,
            "team_id": team_id,
            "page": page,
            "query": f"team={team_id}" if team_id else "",
            "paused": assignment.is_paused(request.user),
        },
    )


@staff_required
@require_POST
def intake(request: HttpRequest) -> HttpResponse:
    paused = request.POST.get("paused") == "1"
    try:
        assignment.set_intake_paused(person=request.user, paused=paused)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Your intake is paused: auto-assignment gives you no new tickets."
            if paused
            else "You take new tickets from auto-assignment again.",
        )
    return redirect("sla:oncall")


@require_GET
def rota_ics(request: HttpRequest, team_id: str) -> HttpResponse:
    """The team's rota as iCalendar: for the help desk signed in, or anyone with the team's
    feed token (`?token=`, set in the admin) for a calendar app."""
    pk = parse_id(team_id)
    team = people_queries.teams().filter(pk=pk).first() if pk else None
    if team is None:
        raise Http404("No such team.")
    token = request.GET.get("token", "")
    feed = TeamRota.objects.filter(team=team).values_list("ics_token", flat=True).first() or ""
    signed_in = request.user.is_authenticated and perms.is_staff_member(request.user)
    by_token = bool(feed) and hmac.compare_digest(feed.encode(), token.encode())
    if not (signed_in or by_token):
        raise Http404("No such team.")
    at = timezone.now()
    text = rota.rota_ics(team.name, rota.shifts_for_feed(team.pk, at), host=_host(request), at=at)
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{team.pk}.ics"'
    return response


def _host(request: HttpRequest) -> str:
    try:
        return request.get_host().split(":")[0] or "tierline"
    except Exception:  # DisallowedHost: the uid only needs to be stable
        return "tierline"
