"""Business-time arithmetic against the definition, counted one minute at a time.

The reference walks UTC minutes and asks `BusinessCalendar.is_open` of each (its local time in
the zone falls in that weekday's hours and its local date is not closed); the fast functions walk
cached per-date intervals. Hypothesis draws calendars in zones with daylight saving (including a
30-minute change, a change at midnight and a 45-minute offset), holidays and starts around the
changes of 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierline.sla.businesstime import (
    BusinessCalendar,
    CalendarError,
    add_business_time,
    business_time_between,
)

MINUTE = timedelta(minutes=1)
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",  # changes at midnight local
    "Australia/Lord_Howe",  # a 30-minute change
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",  # +05:30, no DST
]
# Windows around the 2026 changes of those zones (both hemispheres).
WINDOWS = [
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 3, 26, tzinfo=UTC),
    datetime(2026, 4, 1, tzinfo=UTC),
    datetime(2026, 9, 4, tzinfo=UTC),
    datetime(2026, 9, 24, tzinfo=UTC),
    datetime(2026, 10, 22, tzinfo=UTC),
    datetime(2026, 10, 30, tzinfo=UTC),
]


@st.composite
def day_hours(draw: st.DrawFn) -> list[tuple[int, int]]:
    """0 to 3 disjoint intervals, on a 15-minute grid (DST changes fall inside some)."""
    points = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    if len(points) % 2:
        points = points[:-1]
    return [(points[i] * 15, points[i + 1] * 15) for i in range(0, len(points), 2)]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    week = [draw(day_hours()) for _ in range(7)]
    if not any(week):
        week[draw(st.integers(0, 6))] = [(9 * 60, 17 * 60)]
    closed = draw(st.sets(st.dates(date(2026, 3, 1), date(2026, 11, 15)), max_size=40))
    return BusinessCalendar(ZoneInfo(draw(st.sampled_from(ZONES))), tuple(week), frozenset(closed))


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    base = draw(st.sampled_from(WINDOWS))
    return base + timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))


def reference_add(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    if minutes == 0:
        return start
    moment, counted = start, 0
    # Long enough for the sparsest calendar the strategy draws: 30 open minutes a week, most of
    # its days closed, three days' worth of minutes (200 days once ran out: a hypothesis find).
    for _ in range(3 * 366 * 24 * 60):
        if calendar.is_open(moment):
            counted += 1
            if counted == minutes:
                return moment + MINUTE
        moment += MINUTE
    raise AssertionError("reference ran out of days")


def reference_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    counted, moment = 0, a
    while moment < b:
        counted += calendar.is_open(moment)
        moment += MINUTE
    return counted * MINUTE


REFERENCE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@REFERENCE
@given(calendar=calendars(), start=instants(), minutes=st.integers(0, 3 * 24 * 60))
def test_adding_business_time_matches_the_minute_by_minute_count(calendar, start, minutes):
    # when
    due = add_business_time(calendar, start, timedelta(minutes=minutes))
    # then
    assert due == reference_add(calendar, start, minutes)


@REFERENCE
@given(calendar=calendars(), a=instants(), length=st.integers(0, 4 * 24 * 60))
def test_business_time_between_matches_the_minute_by_minute_count(calendar, a, length):
    b = a + timedelta(minutes=length)
    # when
    counted = business_time_between(calendar, a, b)
    # then
    assert counted == reference_between(calendar, a, b)
    assert business_time_between(calendar, b, a) == -counted


@settings(max_examples=200, deadline=None)
@given(
    calendar=calendars(),
    start=instants(),
    first=st.integers(0, 2000),
    second=st.integers(0, 2000),
)
def test_a_pause_splits_a_target_without_losing_time(calendar, start, first, second):
    # given: a clock that ran `first` minutes of business time, was paused, then resumed later
    paused_at = add_business_time(calendar, start, timedelta(minutes=first))
    resumed_at = paused_at + timedelta(hours=30)
    # when: the rest of the target is counted from the resumption
    due = add_business_time(calendar, resumed_at, timedelta(minutes=second))
    # then: the open time counted, outside the pause, is the whole target
    counted = business_time_between(calendar, start, paused_at) + business_time_between(
        calendar, resumed_at, due
    )
    assert counted == timedelta(minutes=first + second)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants(), minutes=st.integers(1, 5000))
def test_adding_then_measuring_gives_the_duration_back(calendar, start, minutes):
    due = add_business_time(calendar, start, timedelta(minutes=minutes))
    assert business_time_between(calendar, start, due) == timedelta(minutes=minutes)
    assert calendar.is_open(due - MINUTE)


def nine_to_five(zone: str, closed: frozenset[date] = frozenset()) -> BusinessCalendar:
    weekdays = [(time(9), time(17))]
    return BusinessCalendar.build(zone=zone, hours=dict.fromkeys(range(5), weekdays), closed=closed)


def test_a_target_that_runs_past_closing_lands_on_the_next_open_morning():
    calendar = nine_to_five("Europe/London")
    friday_afternoon = datetime(2026, 1, 9, 16, 30, tzinfo=UTC)  # GMT = UTC in January
    assert add_business_time(calendar, friday_afternoon, timedelta(hours=1)) == datetime(
        2026, 1, 12, 9, 30, tzinfo=UTC
    )


def test_the_day_the_clocks_go_forward_is_a_full_working_day_in_local_time():
    # given: 09:00-17:00 Europe/London; on 2026-03-30 (Monday, after the change) 09:00 is 08:00 UTC
    calendar = nine_to_five("Europe/London")
    friday_close = datetime(2026, 3, 27, 17, 0, tzinfo=UTC)  # GMT until Sunday 29 March
    # when / then: 8 hours from Friday's close end at Monday's 17:00 BST, 16:00 UTC
    assert add_business_time(calendar, friday_close, timedelta(hours=8)) == datetime(
        2026, 3, 30, 16, 0, tzinfo=UTC
    )


def test_a_skipped_hour_inside_business_hours_is_not_counted():
    # given: a desk open 00:00-06:00 on Sundays in London; 2026-03-29 skips 01:00-02:00
    calendar = BusinessCalendar.build(zone="Europe/London", hours={6: [(time(0), time(6))]})
    sunday = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    # then: five real hours that day
    assert business_time_between(calendar, sunday, sunday + timedelta(days=1)) == timedelta(hours=5)


def test_a_repeated_hour_inside_business_hours_counts_twice():
    calendar = BusinessCalendar.build(zone="Europe/London", hours={6: [(time(0), time(6))]})
    sunday = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # local 00:00 BST on 25 October
    assert business_time_between(calendar, sunday, sunday + timedelta(days=1)) == timedelta(hours=7)


def test_holidays_and_closures_are_skipped():
    calendar = nine_to_five("UTC", closed=frozenset({date(2026, 12, 25)}))
    christmas_eve_close = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert add_business_time(calendar, christmas_eve_close, timedelta(hours=1)) == datetime(
        2026, 12, 28, 10, 0, tzinfo=UTC
    )


def test_calendars_in_two_zones_count_the_same_instant_differently():
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday: 08:00 in Berlin, 02:00 in New York
    berlin, new_york = nine_to_five("Europe/Berlin"), nine_to_five("America/New_York")
    assert add_business_time(berlin, start, timedelta(hours=1)) == datetime(
        2026, 6, 1, 8, 0, tzinfo=UTC
    )
    assert add_business_time(new_york, start, timedelta(hours=1)) == datetime(
        2026, 6, 1, 14, 0, tzinfo=UTC
    )


def test_always_open_is_plain_time():
    calendar = BusinessCalendar.always_open()
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert add_business_time(calendar, start, timedelta(hours=50)) == start + timedelta(hours=50)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ([[(60, 30)]] + [[]] * 6, "runs forward"),
        ([[(0, 120), (60, 180)]] + [[]] * 6, "overlap"),
        ([[]] * 7, "at least one interval"),
        ([[]] * 6, "one entry per weekday"),
    ],
)
def test_a_calendar_with_bad_hours_is_refused_with_a_reason(week, message):
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(ZoneInfo("UTC"), tuple(week))


def test_naive_times_and_negative_durations_are_refused():
    calendar = BusinessCalendar.always_open()
    with pytest.raises(ValueError, match="aware"):
        add_business_time(calendar, datetime(2026, 1, 1), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        add_business_time(calendar, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=-1))


def test_a_calendar_closed_for_ten_years_says_so():
    everything = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(3700))
    calendar = nine_to_five("UTC", closed=everything)
    with pytest.raises(CalendarError, match="no open time"):
        add_business_time(calendar, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))
