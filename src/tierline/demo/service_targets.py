"""The demo's service targets: calendars, policies, the on-call rota, rules, canned responses and
macros, so `make demo` shows countdowns, who is on call and rules at work.

    calendars   "Servers 24x7" (every hour counts) and "Service desk 9 to 5" (Monday to Friday,
                England's bank holidays and the office's own closure days)
    VIPs        requesters whose title says Director or Controller
    policies    Infrastructure (Tier 3's team, on 24x7, pages on-call when breached), VIP
                requesters and Standard (on 9 to 5, the lead is told when breached), each with
                targets for P1-P4
    rota        per tier team: day (Mon-Fri 09-17), night (Mon-Thu 17-09) and weekend (Fri 17 -
                Mon 09) shifts in Europe/London, from last Monday for five weeks, so someone is
                on call at any moment; Tier 1 auto-assigns round-robin, Tier 2 least-loaded
    rules       VIP requests start at P2; phishing reports go to Tier 3; a ticket waiting on its
                requester for five business days is closed
    canned      shared and personal replies, and two macros ("Password reset done")
    clocks      the bulk-written past has no events: the open tickets of the last week get their
                clocks here (the service targets were switched on a week ago); today's tickets,
                opened through the services, start theirs themselves
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q

from tierline.desk.choices import Priority, Status
from tierline.desk.models import (
    OPEN_STATUSES,
    CannedResponse,
    Category,
    Macro,
    ResolutionCode,
    Ticket,
)
from tierline.people.models import Team, User
from tierline.sla import services as sla_services
from tierline.sla.models import (
    Action,
    AssignmentMode,
    BusinessHours,
    Calendar,
    Closure,
    Policy,
    Rule,
    RuleTrigger,
    Shift,
    ShiftKind,
    Target,
    TeamRota,
    TicketClock,
    WaitUnit,
)

ZONE = ZoneInfo("Europe/London")
ROTA_WEEKS = 5  # last week, this week and three to come
CLOCKS_FOR_DAYS = 7

# (first response, next response, resolution) in business minutes of the policy's calendar.
TARGETS = {
    "Infrastructure 24x7": {
        Priority.CRITICAL: (15, 30, 4 * 60),
        Priority.HIGH: (30, 60, 8 * 60),
        Priority.MEDIUM: (2 * 60, 4 * 60, 24 * 60),
        Priority.LOW: (8 * 60, 16 * 60, 72 * 60),
    },
    "VIP requesters": {
        Priority.CRITICAL: (15, 30, 2 * 60),
        Priority.HIGH: (30, 60, 4 * 60),
        Priority.MEDIUM: (60, 2 * 60, 8 * 60),
        Priority.LOW: (2 * 60, 4 * 60, 16 * 60),
    },
    "Standard": {
        Priority.CRITICAL: (30, 60, 4 * 60),
        Priority.HIGH: (60, 2 * 60, 8 * 60),
        Priority.MEDIUM: (4 * 60, 8 * 60, 3 * 8 * 60),
        Priority.LOW: (8 * 60, 16 * 60, 5 * 8 * 60),
    },
}

CANNED = [
    # (title, body, personal for / team tier / None)
    (
        "Ask for a screenshot",
        "Hello {first_name},\n\nCould you send me a screenshot of the message you see? "
        "You can reply to this email or add it on {ticket_link}.\n\nThanks,\n{my_first_name}",
        None,
    ),
    (
        "Password reset done",
        "Hello {first_name},\n\nI've reset your password. You'll be asked to choose a new one "
        "when you next sign in; it needs 12 characters or more.\n\n{my_first_name}",
        None,
    ),
    (
        "Thanks for reporting phishing",
        "Hello {first_name},\n\nThank you for reporting it: the message was phishing and we "
        "have removed it from every mailbox. Please delete it if you still see it.\n\n"
        "{my_first_name}, IT Security",
        None,
    ),
    (
        "Visit booked",
        "Hello {first_name},\n\nI've booked a visit to your desk about {ticket_number}. I'll "
        "bring what's needed; you don't need to do anything before then.\n\n{my_first_name}",
        2,
    ),
    (
        "My sign-off",
        "If anything else comes up, reply here and it comes straight back to me.\n\nTess",
        "tier1",
    ),
]


def _calendars(today: date) -> tuple[Calendar, Calendar]:
    servers = Calendar.objects.create(name="Servers 24x7", zone="Europe/London")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=servers, weekday=day, start=time(0), end=time(0)) for day in range(7)
    )
    return servers, desk_calendar(today)


def desk_calendar(today: date) -> Calendar:
    """The service desk's calendar: 9 to 5 on weekdays, England's public holidays, and the
    office closed on Christmas Eve (bench/mail.py sets it up too)."""
    desk = Calendar.objects.create(
        name="Service desk 9 to 5",
        zone="Europe/London",
        holiday_country="GB",
        holiday_subdivision="ENG",
    )
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=desk, weekday=day, start=time(9), end=time(17)) for day in range(5)
    )
    Closure.objects.bulk_create(
        [
            Closure(calendar=desk, date=date(year, 12, 24), name="Office closed (Christmas Eve)")
            for year in (today.year, today.year + 1)
        ]
    )
    return desk


def _policies(servers: Calendar, desk: Calendar, teams: dict[int, Team]) -> list[Policy]:
    specs = [
        (
            "Infrastructure 24x7",
            10,
            servers,
            {"team": teams[3], "at_risk_action": Action.NOTIFY_LEAD},
            Action.PAGE_ON_CALL,
        ),
        ("VIP requesters", 20, desk, {"vip_only": True}, Action.NOTIFY_LEAD),
        ("Standard", 100, desk, {}, Action.NOTIFY_LEAD),
    ]
    return [
        policy_with_targets(name, order, calendar, breach_action=breach, **conditions)
        for name, order, calendar, conditions, breach in specs
    ]


def policy_with_targets(name: str, order: int, calendar: Calendar, **fields: Any) -> Policy:
    """The demo's policy `name` (one of TARGETS) on `calendar`, with its targets."""
    policy = Policy.objects.create(name=name, order=order, calendar=calendar, **fields)
    Target.objects.bulk_create(
        Target(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in TARGETS[name].items()
    )
    return policy


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE)


def shifts_for(team: Team, people: list[User], first_monday: date, weeks: int) -> list[Shift]:
    """Day, night and weekend shifts that tile the weeks (no gap, no overlap), each taken in
    turn by the team's people."""
    if not people:
        return []
    n, rows = len(people), []
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        for day in range(5):
            on = monday + timedelta(days=day)
            turn = week * 5 + day
            rows.append(
                Shift(
                    team=team,
                    person=people[turn % n],
                    kind=ShiftKind.DAY,
                    start=_local(on, time(9)),
                    end=_local(on, time(17)),
                )
            )
            if day < 4:
                rows.append(
                    Shift(
                        team=team,
                        person=people[(turn + 2) % n],
                        kind=ShiftKind.NIGHT,
                        start=_local(on, time(17)),
                        end=_local(on + timedelta(days=1), time(9)),
                    )
                )
        rows.append(
            Shift(
                team=team,
                person=people[(week + 1) % n],
                kind=ShiftKind.WEEKEND,
                start=_local(monday + timedelta(days=4), time(17)),
                end=_local(monday + timedelta(days=7), time(9)),
            )
        )
    return rows


def _rota(desk: Calendar, teams: dict[int, Team], by_tier: dict[int, list[User]], now: datetime):
    modes = {1: AssignmentMode.ROUND_ROBIN, 2: AssignmentMode.LEAST_LOADED, 3: ""}
    for tier, team in teams.items():
        TeamRota.objects.create(
            team=team,
            mode=modes[tier],
            open_ticket_cap=25 if modes[tier] else None,
            calendar=desk,
            page_priority=Priority.CRITICAL,
            page_email=True,
        )
    local_today = now.astimezone(ZONE).date()
    last_monday = local_today - timedelta(days=local_today.weekday() + 7)
    Shift.objects.bulk_create(
        shift
        for tier, team in teams.items()
        for shift in shifts_for(
            team, sorted(by_tier.get(tier, []), key=lambda p: p.pk), last_monday, ROTA_WEEKS
        )
    )


def _rules(desk: Calendar, teams: dict[int, Team]) -> list[Rule]:
    phishing = Category.objects.filter(full_name="Security › Phishing report").first()
    specs = [
        Rule(
            name="VIP requests start at P2",
            order=10,
            trigger=RuleTrigger.CREATED,
            conditions=[
                {"field": "requester_vip", "op": "is", "value": True},
                {"field": "priority", "op": "greater", "value": 2},
            ],
            actions=[
                {"action": "set_priority", "value": 2},
                {"action": "add_note", "text": "VIP requester {requester_name}: raised to P2."},
            ],
        ),
        Rule(
            name="Close after five business days waiting on the requester",
            order=30,
            trigger=RuleTrigger.TIME,
            wait_status=Status.WAITING_REQUESTER,
            wait_amount=5,
            wait_unit=WaitUnit.BUSINESS_DAYS,
            calendar=desk,
            actions=[
                {
                    "action": "close",
                    "code": "user-cancelled",
                    "note": "Closed after five business days without an answer. Reply to "
                    "this email within a week to open {number} again.",
                }
            ],
        ),
    ]
    if phishing is not None:
        specs.insert(
            1,
            Rule(
                name="Phishing reports go to Tier 3",
                order=20,
                trigger=RuleTrigger.CREATED,
                conditions=[{"field": "category", "op": "is", "value": phishing.pk}],
                actions=[{"action": "set_team", "value": teams[3].pk}],
            ),
        )
    for rule in specs:
        rule.full_clean()  # the admin's checks: a demo rule is one an admin could save
        rule.save()
    return specs


def _canned(teams: dict[int, Team], named: dict[str, User]) -> None:
    responses = {}
    for title, body, whose in CANNED:
        responses[title] = CannedResponse.objects.create(
            title=title,
            body=body,
            owner=named.get(whose) if isinstance(whose, str) else None,
            team=teams.get(whose) if isinstance(whose, int) else None,
        )
    categories = {c.full_name: c for c in Category.objects.all()}
    codes = {c.code: c for c in ResolutionCode.objects.all()}
    Macro.objects.create(
        name="Password reset done",
        response=responses["Password reset done"],
        category=categories.get("Accounts & access › Password reset"),
        resolution_code=codes.get("fixed"),
    )
    Macro.objects.create(
        name="Phishing: thanks, removed",
        response=responses["Thanks for reporting phishing"],
        category=categories.get("Security › Phishing report"),
        resolution_code=codes.get("advice"),
    )


def start_recent_clocks(now: datetime) -> int:
    """Clocks for the open tickets of the last CLOCKS_FOR_DAYS days that have none (they were
    written in bulk, past the desk's events); how many."""
    ids = list(
        Ticket.objects.filter(
            status__in=OPEN_STATUSES, created_at__gte=now - timedelta(days=CLOCKS_FOR_DAYS)
        )
        .filter(~Exists(TicketClock.objects.filter(ticket_id=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        sla_services.start_clock(ticket_id=pk)
    return len(ids)


def load_service_targets(
    *,
    teams: dict[int, Team],
    by_tier: dict[int, list[User]],
    named: dict[str, User],
    now: datetime,
) -> dict[str, int]:
    """Everything above; before today's tickets are opened, so theirs run on these policies."""
    # Directors and controllers are the demo's VIPs (the people admin's flag).
    User.objects.filter(role=User.Role.REQUESTER).filter(
        Q(job_title__icontains="Director") | Q(job_title__icontains="Controller")
    ).update(is_vip=True)
    servers, desk = _calendars(now.date())
    policies = _policies(servers, desk, teams)
    _rota(desk, teams, by_tier, now)
    rules = _rules(desk, teams)
    _canned(teams, named)
    return {
        "policies": len(policies),
        "rules": len(rules),
        "shifts": Shift.objects.count(),
        "clocks": start_recent_clocks(now),
    }
