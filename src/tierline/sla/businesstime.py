"""Business-time arithmetic: the one module that knows what an hour of service is.

Pure Python, no database: a `BusinessCalendar` says when the desk is open (intervals of local
wall-clock time per weekday, in one IANA zone, minus closed dates: public holidays and custom
closures), and two functions count on it:

    add_business_time(calendar, start, duration) -> datetime     when `duration` of open time
                                                                  after `start` has passed
    business_time_between(calendar, a, b) -> timedelta            open time between two instants

An instant is open when its local time, in the calendar's zone, falls in one of its weekday's
intervals and its local date is not closed. That is the whole definition; the property tests
check both functions against a minute-by-minute count of it (tests/sla/test_businesstime.py).

Daylight saving follows from it: on a spring-forward day the skipped local hour is simply not
there (a 09:00-17:00 day across it is 7 real hours if the gap falls inside), and on a fall-back
day a repeated local hour counts twice. No minute loops: each local date is turned once into
its open intervals as UTC instants (cached per calendar), and the functions walk dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A calendar open on no day of the next ten years can never reach a target.
MAX_DAYS_WALKED = 3660
# A UTC offset lies within ±14 h: the instants of a local date lie within this of it.
_OFFSET_BOUND = timedelta(hours=15)
_ZERO = timedelta(0)
_DAY = timedelta(days=1)

Interval = tuple[int, int]  # minutes after local midnight, [start, end), end up to 1440


class CalendarError(ValueError):
    """A calendar that can't be built (bad hours, unknown zone) or never opens."""


def _check_week(week: Sequence[Iterable[Interval]]) -> tuple[tuple[Interval, ...], ...]:
    if len(week) != 7:
        raise CalendarError("Business hours need one entry per weekday, Monday to Sunday.")
    checked = []
    for day, intervals in enumerate(week):
        spans = sorted((int(a), int(b)) for a, b in intervals)
        for a, b in spans:
            if not 0 <= a < b <= MINUTES_PER_DAY:
                raise CalendarError(
                    f"Day {day}: an interval runs forward within the day (0 to 1440 minutes), "
                    f"not {a} to {b}."
                )
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise CalendarError(f"Day {day}: business hours overlap.")
        merged: list[Interval] = []
        for a, b in spans:  # touching intervals (09-12, 12-17) are one
            if merged and merged[-1][1] == a:
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        checked.append(tuple(merged))
    return tuple(checked)


@dataclass(eq=False)
class BusinessCalendar:
    """When the desk is open. `week[0]` is Monday's intervals (minutes after local midnight).

    `closed` holds the local dates it is shut all day (holidays and closures). Build it once
    and reuse it: each date's open intervals are computed once and kept.
    """

    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    closed: frozenset[date] = frozenset()
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.zone, ZoneInfo):
            raise CalendarError(f"A calendar's zone is a ZoneInfo, not {self.zone!r}.")
        self.week = _check_week(self.week)
        self.closed = frozenset(self.closed)
        if not any(self.week):
            raise CalendarError("A calendar must be open at least one interval a week.")

    @classmethod
    def always_open(cls, zone: str = "UTC") -> BusinessCalendar:
        """24 × 7: every instant counts (the server team's calendar)."""
        return cls(ZoneInfo(zone), tuple(((0, MINUTES_PER_DAY),) for _ in range(7)))

    @classmethod
    def build(
        cls,
        *,
        zone: str,
        hours: Mapping[int, Iterable[tuple[time, time]]],
        closed: Iterable[date] = (),
    ) -> BusinessCalendar:
        """From {weekday: [(start, end), ...]} of times of day; an end of 00:00 is midnight."""
        week = []
        for day in range(7):
            spans = []
            for start, end in hours.get(day, ()):
                a = start.hour * 60 + start.minute
                b = end.hour * 60 + end.minute or MINUTES_PER_DAY
                spans.append((a, b))
            week.append(spans)
        return cls(ZoneInfo(zone), tuple(week), frozenset(closed))

    def is_open(self, moment: datetime) -> bool:
        """Whether the desk is open at this instant (the definition, one instant at a time)."""
        local = moment.astimezone(self.zone)
        if local.date() in self.closed:
            return False
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.week[local.weekday()])

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of one local date, as ordered, disjoint UTC instants."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._compute(day)
        return found

    def _compute(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        spans = self.week[day.weekday()]
        if not spans or day in self.closed:
            return ()
        midnight = datetime(day.year, day.month, day.day)  # naive local wall time
        # The UTC offset, piecewise constant across the instants that can show this date.
        segments = _offset_segments(
            self.zone, midnight - _OFFSET_BOUND, midnight + _DAY + _OFFSET_BOUND
        )
        out: list[tuple[datetime, datetime]] = []
        for a, b in spans:
            local_a = midnight + timedelta(minutes=a)
            local_b = midnight + timedelta(minutes=b)
            for seg_start, seg_end, offset in segments:
                # In this segment, local time = utc + offset, running without a jump.
                lo = max(local_a, seg_start + offset)
                hi = min(local_b, seg_end + offset)
                if lo < hi:
                    out.append(
                        ((lo - offset).replace(tzinfo=UTC), (hi - offset).replace(tzinfo=UTC))
                    )
        out.sort()
        merged: list[tuple[datetime, datetime]] = []
        for start, end in out:
            if merged and merged[-1][1] >= start:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return tuple(merged)


def _offset(zone: ZoneInfo, naive_utc: datetime) -> timedelta:
    """The zone's UTC offset at an instant given as naive UTC."""
    return naive_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset() or _ZERO


def _offset_segments(
    zone: ZoneInfo, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[(utc_start, utc_end, offset)] covering naive-UTC [lo, hi), split where the offset changes.

    Hours are sampled and a change is pinned to the second by bisection; zones change their
    offset at most a few times a year, so almost every date is one segment and two samples.
    """
    first, last = _offset(zone, lo), _offset(zone, hi)
    if first == last and _offset(zone, lo + (hi - lo) / 2) == first:
        return [(lo, hi, first)]
    segments = []
    start, current = lo, first
    probe = lo
    step = timedelta(hours=1)
    while probe < hi:
        nxt = min(probe + step, hi)
        if _offset(zone, nxt) != current:
            a, b = probe, nxt  # the change lies in (a, b]
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                mid = mid.replace(microsecond=0)
                if mid <= a:
                    break
                if _offset(zone, mid) == current:
                    a = mid
                else:
                    b = mid
            segments.append((start, b, current))
            start, current = b, _offset(zone, b)
            probe = b
            continue
        probe = nxt
    segments.append((start, hi, current))
    return segments


def _check_instant(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}.")
    return value.astimezone(UTC)


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (UTC) at which `duration` of open time has passed since `start`.

    A zero duration is `start` itself; otherwise the answer is where the last counted open
    moment ends (a 1-hour target from 16:30 on a 09-17 calendar lands at 09:30 next open day).
    """
    start = _check_instant("start", start)
    if duration < _ZERO:
        raise ValueError("A duration to add can't be negative.")
    if duration == _ZERO:
        return start
    remaining = duration
    # One local date back: near a fall-back at midnight an earlier date's hours can come later.
    day = start.astimezone(calendar.zone).date() - _DAY
    intervals_on = calendar.intervals_on
    for _ in range(MAX_DAYS_WALKED):
        for a, b in intervals_on(day):
            if b <= start:
                continue
            if a < start:
                a = start
            available = b - a
            if remaining <= available:
                return a + remaining
            remaining -= available
        day += _DAY
    raise CalendarError("This calendar has no open time within ten years of the start.")


def business_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Open time from `a` to `b` (negative when `b` is before `a`)."""
    a, b = _check_instant("a", a), _check_instant("b", b)
    if b < a:
        return -business_time_between(calendar, b, a)
    total = _ZERO
    day = a.astimezone(calendar.zone).date() - _DAY
    last = b.astimezone(calendar.zone).date() + _DAY
    intervals_on = calendar.intervals_on
    while day <= last:
        for start, end in intervals_on(day):
            if end <= a or start >= b:
                continue
            total += min(end, b) - max(start, a)
        day += _DAY
    return total
