"""The on-call rota, read side: who is on call now, who is on shift (may be given tickets), and
the rota as an iCalendar feed (RFC 5545, written by hand: a few properties, escaped and folded).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from tierline.sla.calendars import business_calendar
from tierline.sla.models import Shift, TeamRota

ICS_DAYS_BACK = 31
ICS_LIMIT = 2000


def rota_of(team_id: int) -> TeamRota | None:
    return TeamRota.objects.select_related("calendar", "team").filter(team_id=team_id).first()


def on_call(team_id: int, at: datetime | None = None) -> list[Shift]:
    """The shifts of the team that cover `at` (usually one), earliest started first."""
    at = at or timezone.now()
    return list(
        Shift.objects.select_related("person")
        .filter(team_id=team_id, start__lte=at, end__gt=at)
        .order_by("start", "pk")
    )


def current_and_next(team_id: int | None = None, at: datetime | None = None) -> QuerySet[Shift]:
    """Shifts not yet over (on now first, then the coming ones), of one team or all."""
    at = at or timezone.now()
    shifts = Shift.objects.select_related("person", "team").filter(end__gt=at)
    if team_id is not None:
        shifts = shifts.filter(team_id=team_id)
    return shifts.order_by("start", "pk")


def in_business_hours(rota: TeamRota | None, at: datetime) -> bool:
    """Whether the team's calendar is open at `at`; a team without a calendar always is (so
    nothing is "out of hours" until a calendar says so). A broken calendar counts as open."""
    if rota is None or rota.calendar is None:
        return True
    try:
        return business_calendar(rota.calendar).is_open(at)
    except Exception:  # a calendar that can't be built must not stop assignment or paging
        return True


def on_shift_ids(rota: TeamRota | None, team_id: int, at: datetime) -> set[int] | None:
    """Who may be given a ticket now: None for the whole team (in business hours, or no
    calendar), else only the people on call (a rota shift covering `at`)."""
    if in_business_hours(rota, at):
        return None
    return {shift.person_id for shift in on_call(team_id, at)}


# --- iCalendar ------------------------------------------------------------------------------


def ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (3.1): CRLF and one space, never inside a UTF-8
    character."""
    out: list[str] = []
    current, size, limit = [], 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with the space
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def rota_ics(team_name: str, shifts: Iterable[Shift], *, host: str, at: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tierline//On-call rota//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{ics_escape(f'On call: {team_name}')}",
    ]
    for shift in shifts:
        title = f"On call ({shift.get_kind_display()}): {shift.person}"
        if shift.name:
            title += f" · {shift.name}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:shift-{shift.pk}@{host}",
            f"DTSTAMP:{_stamp(at)}",
            f"DTSTART:{_stamp(shift.start)}",
            f"DTEND:{_stamp(shift.end)}",
            f"SUMMARY:{ics_escape(title)}",
            f"DESCRIPTION:{ics_escape(f'{team_name}: {shift.person} is on call.')}",
            f"CATEGORIES:{ics_escape(shift.get_kind_display())}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) + "\r\n" for line in lines)


def shifts_for_feed(team_id: int, at: datetime) -> list[Shift]:
    """The feed's shifts: from a month back on, at most ICS_LIMIT."""
    return list(
        Shift.objects.select_related("person")
        .filter(team_id=team_id, end__gt=at - timedelta(days=ICS_DAYS_BACK))
        .order_by("start", "pk")[:ICS_LIMIT]
    )
