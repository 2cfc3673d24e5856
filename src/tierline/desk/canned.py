"""Canned responses and macros: which ones a technician may use (their own, their teams',
everyone's), and filling one in for a ticket (placeholders: `desk.placeholders`).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tierline.desk.models import CannedResponse, Macro
from tierline.people import queries as directory


def responses_for(user: object, text: str = "") -> QuerySet[CannedResponse]:
    """The responses a technician may use: their own, their teams', the desk's shared ones;
    narrowed by words of the title when `text` is given."""
    teams = [team_id for team_id, _ in directory.team_memberships(user)]
    mine = (
        Q(owner=user)
        | Q(owner__isnull=True, team__isnull=True)
        | Q(owner__isnull=True, team__in=teams)
    )
    found = CannedResponse.objects.filter(mine)
    for word in (text or "").split()[:5]:
        found = found.filter(title__icontains=word[:40])
    return found.order_by("title", "pk")


def macros_for(user: object) -> QuerySet[Macro]:
    teams = [team_id for team_id, _ in directory.team_memberships(user)]
    wanted = Q(team__isnull=True) | Q(team__in=teams)
    return Macro.objects.filter(wanted, is_active=True).select_related(
        "response", "category", "resolution_code"
    )
