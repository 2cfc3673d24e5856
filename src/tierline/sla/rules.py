"""Rules (automation): when a ticket is created, updated or has waited, if its conditions hold,
do the actions, through the desk's services as the sla system user.

    ticket created / updated   the desk's events (TicketOpened; any other TicketEvent is an
                               update), gathered per transaction in it, then one `run_rules`
                               task per ticket after commit (`subscriptions.on_ticket_event`)
    time waited                the `sla-rules` job: `sweep_time_rules()` reads, per time rule,
                               the open tickets not updated since the wait (the tickets'
                               updated_at index), each rule firing once per ticket per waiting
                               period (RuleFiring.period is the ticket's updated_at)

A rule's conditions all hold (an empty list holds for every ticket); its actions run in order
in one savepoint: a refused action (the desk's rules, a stale edit) rolls the rule's actions
back and is recorded on its firing; the next rules still run. Every firing is a `RuleFiring`
row and a history entry on the ticket naming the rule.

Loop safety: changes the engine makes (its actor is the sla system user) never trigger
"updated" rules; a rule fires at most MAX_FIRINGS_PER_HOUR times an hour on one ticket; and
the admin refuses a rule whose set action its own conditions still accept, and rules whose set
actions feed each other's conditions in a cycle (`validate_rule`).

Conditions: {"field": ..., "op": ..., "value": ...}

    status, channel                  is, is_not, in, not_in      (the desk's values)
    priority, impact, urgency, tier  is, is_not, in, not_in, greater, less   (numbers)
    team, category,                  is, is_not, in, not_in      (ids)
    requester_department
    assignee                         is_set                      (true / false)
    requester_vip                    is                          (true / false)
    subject, description             contains, not_contains      (text, any case)
    hours_since_update               greater, less               (a number)

Actions: {"action": ..., ...}

    set_team {"value": team id}      escalate or de-escalate to it
    set_tier {"value": 1-3}          to the tier's default team
    set_priority {"value": 1-4}      the impact and urgency the matrix gives it for
    set_category {"value": id|null}  set_assignee {"value": user id|null}
    add_note {"text"}                an internal note
    send_email {"subject", "body"}   queued (RuleEmail) to the requester, sent by a job
    escalate {"summary"?}            to the next tier
    resolve {"code", "note"}         close {"code", "note"}  (resolves first if still open)

Texts take placeholders: {number} {subject} {status} {priority} {team} {requester_name}
{requester_first_name} {assignee_name}.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from tierline.core import delivery
from tierline.desk import services as desk_services
from tierline.desk.choices import Level, Status
from tierline.desk.models import Category, Ticket
from tierline.people.models import Team, User
from tierline.people.services import system_user
from tierline.sla.calendars import business_calendar
from tierline.sla.models import Rule, RuleEmail, RuleFiring, RuleTrigger, WaitUnit
from tierline.sla.rule_checks import holds

logger = logging.getLogger(__name__)

MAX_FIRINGS_PER_HOUR = 5
TIME_BATCH = 500
EMAIL_BATCH = 50
EMAIL_MAX_ATTEMPTS = 6


def now() -> datetime:
    """The time the engine reads (tests replace it)."""
    return timezone.now()


# --- conditions -----------------------------------------------------------------------------


def _facts(ticket: Ticket, at: datetime) -> dict[str, Any]:
    requester = ticket.requester
    return {
        "status": ticket.status,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "tier": ticket.tier,
        "team": ticket.team_id,
        "category": ticket.category_id,
        "requester_department": requester.department_id,
        "assignee": ticket.assignee_id is not None,
        "requester_vip": bool(requester.is_vip),
        "subject": ticket.subject,
        "description": ticket.description,
        "hours_since_update": (at - ticket.updated_at).total_seconds() / 3600,
    }


# The ticket's column for each condition field the time sweep narrows its query by.
COLUMNS = {
    "status": "status",
    "channel": "channel",
    "priority": "priority",
    "impact": "impact",
    "urgency": "urgency",
    "tier": "tier",
    "team": "team_id",
    "category": "category_id",
    "requester_department": "requester__department_id",
    "requester_vip": "requester__is_vip",
}


def conditions_q(rule: Rule) -> Q:
    """The rule's conditions as a query, as far as they go (text and hours are left to
    `matches`): the time sweep reads only tickets that can match."""
    q = Q()
    for condition in rule.conditions:
        field, op, value = condition["field"], condition["op"], condition["value"]
        if field == "assignee":
            q &= Q(assignee__isnull=not value)
            continue
        column = COLUMNS.get(field)
        if column is None:
            continue
        if op == "is":
            q &= Q(**{column: value})
        elif op == "is_not":
            q &= ~Q(**{column: value}) | Q(**{f"{column}__isnull": True})
        elif op == "in":
            q &= Q(**{f"{column}__in": value})
        elif op == "not_in":
            q &= ~Q(**{f"{column}__in": value}) | Q(**{f"{column}__isnull": True})
        elif op == "greater":
            q &= Q(**{f"{column}__gt": value})
        elif op == "less":
            q &= Q(**{f"{column}__lt": value})
    return q


def matches(rule: Rule, ticket: Ticket, at: datetime) -> bool:
    facts = _facts(ticket, at)
    return all(holds(c, facts[c["field"]]) for c in rule.conditions)


# --- loops, checked in the admin ------------------------------------------------------------


# --- actions --------------------------------------------------------------------------------


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(text: str, ticket: Ticket) -> str:
    requester = ticket.requester
    values = _SafeDict(
        number=ticket.number or "",
        subject=ticket.subject,
        status=ticket.get_status_display(),
        priority=f"P{ticket.priority}",
        team=str(ticket.team),
        requester_name=requester.get_full_name() or requester.username,
        requester_first_name=requester.first_name or requester.username,
        assignee_name=str(ticket.assignee) if ticket.assignee_id else "",
    )
    try:
        return text.format_map(values)
    except (ValueError, KeyError, AttributeError, IndexError):  # saved before validation
        return text


def _levels_for(priority: int, ticket: Ticket) -> tuple[int, int] | None:
    """The impact and urgency the matrix gives `priority`, changing the ticket's least."""
    pairs = [
        (i, u)
        for i in Level.values
        for u in Level.values
        if desk_services.priority_for(i, u) == priority
    ]
    if not pairs:
        return None
    return min(pairs, key=lambda p: ((p[0] != ticket.impact) + (p[1] != ticket.urgency), p))


def _team_move(ticket: Ticket, actor: User, team: Team, why: str) -> bool:
    if team.pk == ticket.team_id:
        return False
    move = desk_services.escalate if team.tier >= ticket.tier else desk_services.de_escalate
    move(ticket=ticket, by=actor, team=team, summary=why)
    return True


def apply_action(action: dict[str, Any], ticket: Ticket, actor: User, rule: Rule) -> str | None:
    """Do one action; what was done (for the firing), or None when it changed nothing."""
    kind = action["action"]
    why = f"By rule “{rule.name}”."
    value = action.get("value")
    if kind == "set_team":
        team = Team.objects.get(pk=value)
        return f"team → {team}" if _team_move(ticket, actor, team, why) else None
    if kind == "set_tier":
        if value == ticket.tier:
            return None
        team = desk_services.default_team_for(value)
        return f"tier → {value} ({team})" if _team_move(ticket, actor, team, why) else None
    if kind == "set_priority":
        if value == ticket.priority:
            return None
        levels = _levels_for(value, ticket)
        if levels is None:
            raise ValidationError(f"No impact and urgency give priority {value} in the matrix.")
        desk_services.change_fields(ticket=ticket, by=actor, impact=levels[0], urgency=levels[1])
        return f"priority → P{value}"
    if kind == "set_category":
        if value == ticket.category_id:
            return None
        category = Category.objects.get(pk=value) if value is not None else None
        desk_services.change_fields(ticket=ticket, by=actor, category=category)
        return f"category → {category or 'none'}"
    if kind == "set_assignee":
        if value == ticket.assignee_id:
            return None
        person = User.objects.get(pk=value) if value is not None else None
        desk_services.assign(ticket=ticket, by=actor, assignee=person)
        return f"assignee → {person or 'nobody'}"
    if kind == "add_note":
        desk_services.add_message(
            ticket=ticket, by=actor, body=render(action["text"], ticket), internal=True
        )
        return "internal note"
    if kind == "send_email":
        address = ticket.requester.email
        if not address:
            raise ValidationError(f"The requester {ticket.requester} has no email address.")
        if not delivery.email_is_set_up():
            raise ValidationError("Outgoing mail is not set up (TIERLINE_SMTP_HOST): no email.")
        subject = " ".join(render(action["subject"], ticket).split())[:250]
        RuleEmail.objects.create(
            rule=rule,
            ticket=ticket,
            address=address,
            subject=subject,
            body=render(action["body"], ticket),
            next_attempt_at=now(),
        )
        return f"email queued to {address}"
    if kind == "escalate":
        summary = render(action.get("summary") or "", ticket).strip() or why
        desk_services.escalate(ticket=ticket, by=actor, summary=summary)
        return f"escalated to {ticket.team}"
    if kind in ("resolve", "close"):
        done = []
        if ticket.status != Status.RESOLVED and ticket.is_open:
            desk_services.resolve(
                ticket=ticket,
                by=actor,
                resolution_code=action["code"],
                body=render(action["note"], ticket),
            )
            done.append(f"resolved ({action['code']})")
        if kind == "close" and ticket.status == Status.RESOLVED:
            desk_services.close(ticket=ticket, by=actor, reason=why)
            done.append("closed")
        return ", ".join(done) or None
    raise ValidationError(f"Unknown action {kind!r}.")


# --- the engine -----------------------------------------------------------------------------


def _load(ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("requester", "team", "assignee").filter(pk=ticket_id).first()
    )


def _capped(rule: Rule, ticket_id: int, at: datetime) -> bool:
    recent = RuleFiring.objects.filter(
        rule=rule, ticket_id=ticket_id, fired_at__gte=at - timedelta(hours=1)
    ).count()
    return recent >= MAX_FIRINGS_PER_HOUR


def fire(
    rule: Rule, ticket: Ticket, *, trigger: str, at: datetime, period: datetime | None = None
) -> RuleFiring:
    """Do `rule`'s actions on `ticket` and record the firing, in one transaction.

    The firing row is written first: for a time rule it claims the waiting period (a second
    sweeper's insert fails on the unique constraint, IntegrityError, and does nothing). The
    actions run in a savepoint: refused, they roll back and the error is kept on the row."""
    actor = system_user("sla")
    taken: list[str] = []
    error = ""
    with transaction.atomic():
        firing = RuleFiring.objects.create(
            rule=rule, ticket_id=ticket.pk, trigger=trigger, period=period, fired_at=at
        )
        try:
            with transaction.atomic():
                for action in rule.actions:
                    done = apply_action(action, ticket, actor, rule)
                    if done:
                        taken.append(done)
                    ticket.refresh_from_db()
        except Exception as exc:  # noqa: BLE001 (a refused action is recorded, never raised)
            if isinstance(exc, ValidationError):
                error = "; ".join(exc.messages)
            else:
                error = f"{type(exc).__name__}: {exc}"
                logger.exception("Rule %s failed on ticket %s", rule.pk, ticket.pk)
            error = error[:500] or "refused"
            taken = []
        firing.actions_taken, firing.error = taken, error
        firing.save(update_fields=["actions_taken", "error"])
        desk_services.record_on_ticket(
            ticket_id=ticket.pk,
            by=actor,
            action="rule failed" if error else "rule fired",
            summary=f"{rule.name}: " + (error or ", ".join(taken) or "nothing to change"),
        )
    return firing


def run_rules(*, ticket_id: int, trigger: str, at: datetime | None = None) -> list[RuleFiring]:
    """Evaluate the active rules of `trigger` (created or updated) on one ticket, in order."""
    at = at or now()
    ticket = _load(ticket_id)
    if ticket is None:
        return []
    firings = []
    for rule in Rule.objects.filter(trigger=trigger, is_active=True).order_by("order", "pk"):
        try:
            if not matches(rule, ticket, at):
                continue
        except (KeyError, TypeError, ValueError, AttributeError):  # saved around the admin
            logger.exception("Rule %s has conditions the engine can't read", rule.pk)
            continue
        if _capped(rule, ticket.pk, at):
            logger.warning("Rule %s reached its cap on ticket %s this hour", rule.pk, ticket.pk)
            continue
        firings.append(fire(rule, ticket, trigger=trigger, at=at))
        ticket = _load(ticket_id)
        if ticket is None or rule.stop_processing:
            break
    return firings


def _business_days_between(rule: Rule, start: datetime, end: datetime) -> int:
    """Business days of the rule's calendar after `start`'s day up to `end`'s day (at most
    the rule's wait, which is all the sweep needs to know)."""
    calendar = business_calendar(rule.calendar)
    zone = calendar.zone
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    count = 0
    while day < last and count < (rule.wait_amount or 0):
        day += timedelta(days=1)
        if calendar.intervals_on(day):
            count += 1
    return count


def waited(rule: Rule, ticket: Ticket, at: datetime) -> bool:
    if rule.wait_unit == WaitUnit.HOURS:
        return at - ticket.updated_at >= timedelta(hours=rule.wait_amount or 0)
    return _business_days_between(rule, ticket.updated_at, at) >= (rule.wait_amount or 0)


def sweep_time_rules(*, at: datetime | None = None, limit: int = TIME_BATCH) -> int:
    """Fire the time rules on the tickets that have waited; how many firings."""
    at = at or now()
    fired = 0
    for rule in Rule.objects.filter(trigger=RuleTrigger.TIME, is_active=True).order_by(
        "order", "pk"
    ):
        if not rule.wait_amount or not rule.wait_unit:
            continue
        # Hours: exactly; business days: at least that many calendar days (then counted).
        if rule.wait_unit == WaitUnit.HOURS:
            cutoff = at - timedelta(hours=rule.wait_amount)
        else:
            cutoff = at - timedelta(days=max(0, rule.wait_amount - 1))
        try:
            narrowed = conditions_q(rule)
        except (KeyError, TypeError, ValueError, AttributeError):  # saved around the admin
            logger.exception("Time rule %s has conditions the engine can't read", rule.pk)
            continue
        candidates = Ticket.objects.filter(narrowed, is_open=True, updated_at__lte=cutoff)
        if rule.wait_status:
            candidates = candidates.filter(status=rule.wait_status)
        candidates = candidates.exclude(
            Exists(
                RuleFiring.objects.filter(
                    rule=rule, ticket=OuterRef("pk"), period=OuterRef("updated_at")
                )
            )
        ).order_by("updated_at", "id")
        for ticket in candidates.select_related("requester", "team", "assignee")[:limit]:
            try:
                if not waited(rule, ticket, at) or not matches(rule, ticket, at):
                    continue
            except Exception:  # a calendar that can't be used: logged, the others go on
                logger.exception("Time rule %s can't be evaluated", rule.pk)
                break
            try:
                fire(rule, ticket, trigger=RuleTrigger.TIME, at=at, period=ticket.updated_at)
            except IntegrityError:  # another sweeper fired it in this period
                continue
            fired += 1
    return fired


# --- emails ---------------------------------------------------------------------------------


def _send_email(email: RuleEmail) -> None:
    send_mail(email.subject, email.body, None, [email.address], fail_silently=False)


def deliver_emails(*, at: datetime | None = None, limit: int = EMAIL_BATCH) -> tuple[int, int]:
    """Send the queued rule emails that are due; (sent, failed). SMTP or network failures
    are tried again with back-off (`core.delivery`)."""
    return delivery.deliver_due(
        RuleEmail,
        send=_send_email,
        max_attempts=EMAIL_MAX_ATTEMPTS,
        lease=timedelta(minutes=2),
        now=at,
        limit=limit,
        label="rule email",
    )
