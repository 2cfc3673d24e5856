"""Factories for service targets: calendars and policies, made as the admin makes them."""

from __future__ import annotations

from datetime import time

from tierline.desk.choices import Priority
from tierline.sla.models import BusinessHours, Calendar, Closure, Policy, Target


def calendar(
    name: str = "Desk hours",
    *,
    zone: str = "Europe/London",
    hours: dict[int, list[tuple[time, time]]] | None = None,
    country: str = "",
    subdivision: str = "",
    closures: tuple = (),
) -> Calendar:
    """Monday to Friday 09:00-17:00 unless `hours` says otherwise ({} hours: 24 x 7)."""
    row = Calendar.objects.create(
        name=name, zone=zone, holiday_country=country, holiday_subdivision=subdivision
    )
    if hours is None:
        hours = dict.fromkeys(range(5), [(time(9), time(17))])
    elif not hours:
        hours = dict.fromkeys(range(7), [(time(0), time(0))])
    for weekday, spans in hours.items():
        for start, end in spans:
            BusinessHours.objects.create(calendar=row, weekday=weekday, start=start, end=end)
    for day in closures:
        Closure.objects.create(calendar=row, date=day, name="Closed")
    return row


def always_open(name: str = "Servers 24x7", zone: str = "UTC") -> Calendar:
    return calendar(name, zone=zone, hours={})


def policy(
    name: str = "Standard",
    *,
    on: Calendar,
    order: int = 100,
    targets: dict[int, tuple[int | None, int | None, int | None]] | None = None,
    **conditions,
) -> Policy:
    """Targets per priority as (first response, next response, resolution) minutes."""
    row = Policy.objects.create(name=name, order=order, calendar=on, **conditions)
    if targets is None:
        targets = dict.fromkeys(Priority.values, (60, 120, 8 * 60))
    for priority, (first, following, resolution) in targets.items():
        Target.objects.create(
            policy=row,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
    return row
