"""Teams with auto-assignment and a rota, for the assignment and on-call tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from tests.people import factories as people_factories
from tests.sla import factories
from tierline.people.models import Team, User
from tierline.sla.models import Calendar, Shift, ShiftKind, TeamRota


def rota(team: Team, **fields) -> TeamRota:
    return TeamRota.objects.create(team=team, **fields)


def closed_now(name: str = "Closed now") -> Calendar:
    """A calendar open one hour on a weekday that is not today (UTC): now is out of hours."""
    other_day = (timezone.now().weekday() + 3) % 7
    return factories.calendar(name, zone="UTC", hours={other_day: [(time(9), time(10))]})


def shift(
    team: Team,
    person: User,
    *,
    start: datetime | None = None,
    hours: float = 2,
    kind: str = ShiftKind.NIGHT,
    name: str = "",
) -> Shift:
    """A shift on now (from an hour ago) unless `start` says otherwise."""
    start = start or timezone.now() - timedelta(hours=1)
    return Shift.objects.create(
        team=team,
        person=person,
        kind=kind,
        name=name,
        start=start,
        end=start + timedelta(hours=hours),
    )


def technicians(tier: int, count: int, prefix: str = "tech") -> list[User]:
    return [
        people_factories.technician(tier, username=f"{prefix}{n}", first_name=f"T{n}")
        for n in range(count)
    ]
