"""Business calendars as the arithmetic reads them: a `Calendar` row, its hours, its closures
and the public holidays of its country, turned into a `BusinessCalendar` once per process (and
again when the row changes)."""

from __future__ import annotations

import threading

from django.utils import timezone

from tierline.sla.businesstime import BusinessCalendar, CalendarError
from tierline.sla.models import Calendar
from tierline.sla.regions import public_holidays

# Public holidays are taken for this many years around today (a target reaching further than
# three years ahead counts those years' holidays as open days).
YEARS_BACK, YEARS_AHEAD = 2, 3

_cache: dict[tuple[int, object], BusinessCalendar] = {}
_lock = threading.Lock()


def business_calendar(calendar: Calendar) -> BusinessCalendar:
    """The arithmetic's calendar for this row, built once per version of the row."""
    key = (calendar.pk, calendar.updated_at)
    found = _cache.get(key)
    if found is not None:
        return found
    this_year = timezone.now().year
    hours: dict[int, list] = {}
    for row in calendar.hours.all():
        hours.setdefault(row.weekday, []).append((row.start, row.end))
    closed = {row.date for row in calendar.closures.all()}
    closed |= public_holidays(
        calendar.holiday_country,
        calendar.holiday_subdivision,
        range(this_year - YEARS_BACK, this_year + YEARS_AHEAD + 1),
    )
    built = BusinessCalendar.build(zone=calendar.zone, hours=hours, closed=closed)
    with _lock:
        for stale in [k for k in _cache if k[0] == calendar.pk]:
            _cache.pop(stale, None)
        _cache[key] = built
    return built


__all__ = ["CalendarError", "business_calendar"]
