"""Every change to a ticket's service-target clock, kept from the desk's events.

The clock handlers run in the desk's transaction (`when="transaction"`, see apps.py): a ticket
and its clock commit together, and the ticket's row, which the desk's service has already
written, orders concurrent changes to one clock. The sweep (`sweep`) runs from the scheduler:
it reads the clocks whose `next_check_at` has come (one indexed query) and writes, through the
desk's services and as the sla system user, a history entry for each target newly at risk or
breached.

How the clock counts (all in business time of the policy's calendar):
- it starts when the ticket is opened, against the first matching policy (`matching_policy`);
- the first response target is met by the desk's first public reply;
- it pauses while the ticket waits on the requester or a third party and resumes when it
  leaves those statuses; the due times are computed again on resumption;
- the resolution target is met when the ticket is resolved; a reopened ticket's clock runs on
  from the business time it had used (the reopen does not give the desk a fresh target);
- the next response target runs from a requester's public reply, once the first response is
  made, to the desk's next public reply (not paused);
- a change of priority, team or category takes the policy that matches now, keeping the time used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tierline.core import batch
from tierline.desk import permissions as perms
from tierline.desk import queries as desk_queries
from tierline.desk import services as desk_services
from tierline.desk.choices import Level, Status
from tierline.desk.events import (
    CategoryChanged,
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TicketOpened,
    TierMoved,
)
from tierline.desk.models import Ticket
from tierline.people.models import User
from tierline.people.services import system_user
from tierline.sla import assignment, notices
from tierline.sla.businesstime import (
    BusinessCalendar,
    CalendarError,
    add_business_time,
    business_time_between,
)
from tierline.sla.calendars import business_calendar
from tierline.sla.models import Action, ClockStatus, Policy, Target, TicketClock
from tierline.sla.paging import page_on_call

WAITING = frozenset({Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY})
FINISHED = frozenset({Status.RESOLVED, Status.CLOSED})
KINDS = ("first_response", "resolution", "next_response")
KIND_WORDS = {
    "first_response": "first response",
    "resolution": "resolution",
    "next_response": "next response",
}
SWEEP_BATCH = 500

logger = logging.getLogger(__name__)


def now() -> datetime:
    """The time the clock reads (tests replace it)."""
    return timezone.now()


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    policy: Policy
    target: Target


def active_policies() -> list[Policy]:
    """The active policies by order, with their calendars and targets: read once per batch of
    work (`core.batch`: a spool drain opens many tickets in one transaction), else per call."""
    return batch.memo(
        "sla:policies",
        lambda: list(
            Policy.objects.filter(is_active=True)
            .select_related("calendar")
            .prefetch_related("targets")
            .order_by("order", "pk")
        ),
    )


def matching_policy(
    *,
    priority: int,
    category_id: int | None,
    team_id: int | None,
    department_id: int | None,
    vip: bool = False,
) -> Match | None:
    """The first active policy, by order, whose conditions hold and which has a target for
    `priority`; None when no policy applies (the ticket has no targets)."""
    for policy in active_policies():
        if policy.category_id is not None and policy.category_id != category_id:
            continue
        if policy.team_id is not None and policy.team_id != team_id:
            continue
        if policy.department_id is not None and policy.department_id != department_id:
            continue
        if policy.vip_only and not vip:
            continue
        for target in policy.targets.all():
            if target.priority == priority:
                return Match(policy, target)
    return None


def _match_for(facts: dict[str, Any]) -> Match | None:
    return matching_policy(
        priority=facts["priority"],
        category_id=facts["category_id"],
        team_id=facts["team_id"],
        department_id=facts["department_id"],
        vip=bool(facts.get("requester_vip")),
    )


def _apply(clock: TicketClock, match: Match | None) -> None:
    clock.policy = match.policy if match else None
    clock.calendar = match.policy.calendar if match else None
    clock.at_risk_percent = match.policy.at_risk_percent if match else 75
    for kind in KINDS:
        setattr(
            clock, f"{kind}_minutes", getattr(match.target, f"{kind}_minutes") if match else None
        )


def _calendar(clock: TicketClock) -> BusinessCalendar | None:
    """The clock's calendar; None (no due times, logged) if its rows can't make one: a bad
    calendar must not stop the desk from opening or working a ticket."""
    if clock.calendar is None:
        return None
    try:
        return business_calendar(clock.calendar)
    except Exception:
        logger.exception(
            "Calendar %s can't be used; ticket %s has no due times",
            clock.calendar_id,
            clock.ticket_id,
        )
        return None


# --- scheduling -----------------------------------------------------------------------------


def _pending(clock: TicketClock, kind: str) -> bool:
    """Whether a target still runs (it exists and is neither met nor idle)."""
    if getattr(clock, f"{kind}_minutes") is None:
        return False
    if kind == "first_response":
        return clock.first_response_at is None
    if kind == "resolution":
        return clock.resolved_at is None
    return clock.next_response_since is not None


def _schedule(clock: TicketClock, calendar: BusinessCalendar | None) -> None:
    """Due and at-risk times of every running target, and the next moment to check."""
    try:
        _compute_schedule(clock, calendar)
    except CalendarError:  # open on no day for ten years: no due time can be given
        logger.exception("Ticket %s: its calendar never opens; no due times", clock.ticket_id)
        _compute_schedule(clock, None)


def _compute_schedule(clock: TicketClock, calendar: BusinessCalendar | None) -> None:
    running = clock.status == ClockStatus.RUNNING and calendar is not None
    share = clock.at_risk_percent / 100
    for kind in ("first_response", "resolution"):
        minutes = getattr(clock, f"{kind}_minutes")
        if minutes is None:
            setattr(clock, f"{kind}_due", None)
            setattr(clock, f"{kind}_risk_at", None)
            continue
        if not running or not _pending(clock, kind):
            continue  # paused or met: the due time stays what it was
        base, used = clock.running_since, clock.used_seconds
        remaining = minutes * 60 - used
        if remaining >= 0:
            setattr(
                clock,
                f"{kind}_due",
                add_business_time(calendar, base, timedelta(seconds=remaining)),
            )
        elif getattr(clock, f"{kind}_due") is None:  # used up before a new policy applied
            setattr(clock, f"{kind}_due", base)
        risk = max(0.0, share * minutes * 60 - used)
        setattr(
            clock, f"{kind}_risk_at", add_business_time(calendar, base, timedelta(seconds=risk))
        )
    if clock.next_response_minutes is None or clock.next_response_since is None or calendar is None:
        clock.next_response_due = clock.next_response_risk_at = None
    else:
        minutes = clock.next_response_minutes
        since = clock.next_response_since
        clock.next_response_due = add_business_time(calendar, since, timedelta(minutes=minutes))
        clock.next_response_risk_at = add_business_time(
            calendar, since, timedelta(seconds=share * minutes * 60)
        )
    clock.next_check_at = (
        min((moment for _, _, moment in _thresholds(clock) if moment is not None), default=None)
        if running
        else None
    )


def _thresholds(clock: TicketClock) -> list[tuple[str, str, datetime | None]]:
    """(kind, "at_risk" | "breached", moment) of every running target not yet noticed."""
    out = []
    for kind in KINDS:
        if not _pending(clock, kind):
            continue
        for level, field in (("at_risk", "risk_at"), ("breached", "due")):
            if f"{kind}:{level}" not in clock.noticed:
                out.append((kind, level, getattr(clock, f"{kind}_{field}")))
    return out


def _used_until(clock: TicketClock, calendar: BusinessCalendar | None, at: datetime) -> int:
    if clock.running_since is None or calendar is None or at <= clock.running_since:
        return clock.used_seconds
    used = business_time_between(calendar, clock.running_since, at)
    return clock.used_seconds + int(used.total_seconds())


def _stop_running(clock: TicketClock, calendar: BusinessCalendar | None, at: datetime) -> None:
    if clock.status == ClockStatus.RUNNING:
        clock.used_seconds = _used_until(clock, calendar, at)
        # A target overdue when the clock stops stays missed, swept or not yet.
        for kind in KINDS:
            if _pending(clock, kind):
                _mark_late(clock, kind, at)
    clock.running_since = None


def _seconds(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end, never below 0."""
    return max(0, int((end - start).total_seconds()))


def _business_seconds(
    calendar: BusinessCalendar | None, start: datetime, end: datetime
) -> int | None:
    """Whole business seconds from start to end by the calendar; None without one."""
    if calendar is None:
        return None
    if end <= start:
        return 0
    return int(business_time_between(calendar, start, end).total_seconds())


def _mark_late(clock: TicketClock, kind: str, at: datetime) -> None:
    due = getattr(clock, f"{kind}_due")
    if due is not None and at > due:
        clock.breached = True


# --- the clock, from the desk's events --------------------------------------------------------


def start_clock(*, ticket_id: int, facts: dict[str, Any] | None = None) -> TicketClock | None:
    """A new ticket's clock, from its opening time, against the policy that matches it.
    `facts` are `desk.queries.clock_facts`'s, when the caller has them (the TicketOpened
    event carries them); else they are read."""
    if facts is None:
        facts = desk_queries.clock_facts(ticket_id)
    if facts is None:
        return None
    clock = TicketClock(
        ticket_id=ticket_id,
        requester_id=facts["requester_id"],
        started_at=facts["created_at"],
        running_since=facts["created_at"],
        status=ClockStatus.RUNNING,
    )
    _apply(clock, _match_for(facts))
    if facts["status"] in WAITING:
        clock.status, clock.running_since = ClockStatus.PAUSED, None
    _schedule(clock, _calendar(clock))
    clock.save(force_insert=True)
    return clock


def _clock(ticket_id: int) -> TicketClock | None:
    return TicketClock.objects.select_related("calendar").filter(ticket_id=ticket_id).first()


def status_changed(*, ticket_id: int, old_status: str, new_status: str) -> None:
    """Pause while waiting, resume on leaving, stop on resolve or close, run again on reopen."""
    clock = _clock(ticket_id)
    if clock is None:
        return
    at, calendar = now(), _calendar(clock)
    if new_status in FINISHED:
        _stop_running(clock, calendar, at)
        clock.status = ClockStatus.STOPPED
        if new_status == Status.RESOLVED and clock.resolved_at is None:
            clock.resolved_at = at
            _mark_late(clock, "resolution", at)
            clock.resolution_seconds = _seconds(clock.started_at, at)
            clock.resolution_business_seconds = clock.used_seconds if calendar else None
        clock.next_response_since = None
    elif new_status in WAITING:
        _stop_running(clock, calendar, at)
        clock.status = ClockStatus.PAUSED
    else:
        if clock.status != ClockStatus.RUNNING:
            clock.status, clock.running_since = ClockStatus.RUNNING, at
        if old_status in FINISHED:
            clock.reopen_count += 1
            clock.resolved_at = None
            clock.resolution_seconds = clock.resolution_business_seconds = None
            clock.noticed = [n for n in clock.noticed if not n.startswith("resolution:at_risk")]
    _schedule(clock, calendar)
    clock.save()


def message_added(
    *, ticket_id: int, actor_id: int | None, internal: bool, first_response: bool
) -> None:
    """A first response meets its target; a requester's reply starts the next response target,
    the desk's next public reply meets it."""
    if internal:
        return
    clock = _clock(ticket_id)
    if clock is None:
        return
    at = now()
    from_requester = actor_id == clock.requester_id
    calendar = _calendar(clock)
    if not from_requester:
        clock.desk_replies += 1
    if first_response and clock.first_response_at is None:
        clock.first_response_at = at
        _mark_late(clock, "first_response", at)
        clock.first_response_seconds = _seconds(clock.started_at, at)
        clock.first_response_business_seconds = _business_seconds(calendar, clock.started_at, at)
    elif from_requester:
        if clock.first_response_at is not None and clock.next_response_since is None:
            clock.next_response_since = at
            clock.noticed = [n for n in clock.noticed if not n.startswith("next_response:")]
    elif clock.next_response_since is not None:
        _mark_late(clock, "next_response", at)
        clock.next_response_since = None
    _schedule(clock, calendar)
    clock.save()


def retarget(*, ticket_id: int) -> None:
    """The priority, team or category changed: the policy that matches now, with the time already used."""
    clock = _clock(ticket_id)
    facts = desk_queries.clock_facts(ticket_id)
    if clock is None or facts is None:
        return
    at = now()
    old_calendar = _calendar(clock)
    if clock.status == ClockStatus.RUNNING:
        clock.used_seconds = _used_until(clock, old_calendar, at)
        clock.running_since = at
    _apply(clock, _match_for(facts))
    _schedule(clock, _calendar(clock))
    clock.save()


def on_ticket_opened(event: TicketOpened) -> None:
    start_clock(
        ticket_id=event.ticket_id,
        facts={
            "created_at": event.created_at,
            "status": event.status,
            "priority": event.priority,
            "category_id": event.category_id,
            "team_id": event.team_id,
            "requester_id": event.requester_id,
            "department_id": event.requester_department_id,
            "requester_vip": event.requester_vip,
        },
    )


def on_status_changed(event: StatusChanged) -> None:
    status_changed(
        ticket_id=event.ticket_id, old_status=event.old_status, new_status=event.new_status
    )


def on_message_added(event: MessageAdded) -> None:
    message_added(
        ticket_id=event.ticket_id,
        actor_id=event.actor_id,
        internal=event.internal,
        first_response=event.first_response,
    )


def on_retarget(event: PriorityChanged | TierMoved | CategoryChanged) -> None:
    retarget(ticket_id=event.ticket_id)


# --- the sweep ------------------------------------------------------------------------------


def _notice_text(clock: TicketClock, kind: str, level: str) -> str:
    due = getattr(clock, f"{kind}_due")
    zone = clock.calendar.zone if clock.calendar else "UTC"
    when = due.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M") + f" ({zone})" if due else ""
    words = KIND_WORDS[kind].capitalize()
    if level == "breached":
        return f"{words} target missed: it was due {when}."
    return f"{words} at risk: due {when}."


def sweep(*, at: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Record every target that became at risk or breached since the last sweep, and take the
    policy's action for it; returns how many were recorded. Safe to run twice: a notice (and
    its action) happens once per clock, target and level."""
    at = at or now()
    ids = list(
        TicketClock.objects.filter(next_check_at__lte=at)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    actor = system_user("sla")
    recorded = 0
    for pk in ids:
        with transaction.atomic():
            recorded += _sweep_one(pk, actor=actor, at=at)
    return recorded


def _sweep_one(pk: int, *, actor: User, at: datetime) -> int:
    # The ticket's row first, then the clock's: the order the desk's services and their
    # in-transaction handlers take them in, so a sweep and a reply never deadlock.
    ticket = perms.visible_tickets(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    clock = (
        TicketClock.objects.select_for_update(of=("self",))
        .select_related("calendar", "policy")
        .filter(pk=pk)
        .first()
    )
    if ticket is None or clock is None or clock.next_check_at is None or clock.next_check_at > at:
        return 0
    passed: dict[str, str] = {}  # kind -> the highest level reached, once per kind
    for kind, level, moment in _thresholds(clock):
        if moment is not None and moment <= at:
            passed[kind] = level if passed.get(kind) != "breached" else "breached"
    for kind, level in passed.items():
        desk_services.record_on_ticket(
            ticket_id=clock.ticket_id,
            by=actor,
            action="marked breached" if level == "breached" else "marked at risk",
            summary=_notice_text(clock, kind, level),
        )
        # Missed outright (no sweep saw it at risk): one entry, both noticed.
        levels = ("at_risk", "breached") if level == "breached" else ("at_risk",)
        clock.noticed = sorted({*clock.noticed, *(f"{kind}:{lv}" for lv in levels)})
        clock.breached = clock.breached or level == "breached"
    _schedule(clock, _calendar(clock))
    clock.save()
    # Actions after the clock is saved: they go through the desk's services, whose events
    # retarget this clock from its saved row.
    policy = clock.policy
    actions: set[str] = set()
    if policy is not None:
        actions = {
            policy.breach_action if level == "breached" else policy.at_risk_action
            for level in passed.values()
        } - {Action.NONE}
        for action in sorted(actions):
            _act(
                action,
                ticket=ticket,
                actor=actor,
                why=", ".join(
                    f"{KIND_WORDS[kind]} {'breached' if level == 'breached' else 'at risk'}"
                    for kind, level in passed.items()
                ),
            )
    if passed:
        # Told on commit, after the actions: a reassigned ticket's new assignee hears of it.
        notices.tell(
            ticket=ticket,
            level="breached" if "breached" in passed.values() else "at_risk",
            text=" ".join(_notice_text(clock, kind, level) for kind, level in passed.items()),
            recipient_ids=notices.recipients_for(ticket, leads=Action.NOTIFY_LEAD in actions),
        )
    return len(passed)


def _act(action: str, *, ticket: Ticket, actor: User, why: str) -> None:
    """One escalation action through the desk's services (their history entries say what was
    done, by the sla user); a refusal (already Tier 3, resolved meanwhile) is written instead."""
    try:
        with transaction.atomic():
            if action == Action.RAISE_URGENCY:
                if ticket.urgency != Level.HIGH:
                    desk_services.change_fields(ticket=ticket, by=actor, urgency=Level.HIGH)
            elif action == Action.ESCALATE:
                desk_services.escalate(
                    ticket=ticket,
                    by=actor,
                    summary=f"Escalated by the service targets: {why}.",
                )
            elif action == Action.PAGE_ON_CALL:
                page_on_call(ticket_id=ticket.pk, reason=f"service target {why}")
            elif action == Action.NOTIFY_LEAD:
                leads = list(User.objects.filter(pk__in=notices.team_lead_ids(ticket.team_id)))
                if not leads:
                    raise ValidationError(f"{ticket.team} has no team lead.")
                desk_services.record_on_ticket(
                    ticket_id=ticket.pk,
                    by=actor,
                    action="notified team lead",
                    summary=f"{', '.join(str(lead) for lead in leads)}: {why}.",
                )
            elif action == Action.REASSIGN:
                before = ticket.assignee
                chosen = assignment.reassign(ticket=ticket, by=actor)
                desk_services.record_on_ticket(
                    ticket_id=ticket.pk,
                    by=actor,
                    action="reassigned",
                    summary=f"From {before or 'nobody'} to {chosen}: {why}.",
                )
    except ValidationError as refused:
        desk_services.record_on_ticket(
            ticket_id=ticket.pk,
            by=actor,
            action="escalation skipped",
            summary=f"{Action(action).label}: {' '.join(refused.messages)}",
        )
