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
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from tierline.core import delivery
from tierline.desk import services as desk_services
from tierline.desk.choices import Channel, Level, Priority, Status
from tierline.desk.models import Category, ResolutionCode, Ticket
from tierline.people.models import Department, Team, User
from tierline.people.services import system_user
from tierline.sla.calendars import business_calendar
from tierline.sla.models import Rule, RuleEmail, RuleFiring, RuleTrigger, WaitUnit

logger = logging.getLogger(__name__)

MAX_FIRINGS_PER_HOUR = 5
TIME_BATCH = 500
EMAIL_BATCH = 50
EMAIL_MAX_ATTEMPTS = 6
MAX_TEXT = 10000
PLACEHOLDERS = (
    "number",
    "subject",
    "status",
    "priority",
    "team",
    "requester_name",
    "requester_first_name",
    "assignee_name",
)


def now() -> datetime:
    """The time the engine reads (tests replace it)."""
    return timezone.now()


# --- the vocabulary ---------------------------------------------------------------------------

CHOICE_OPS = ("is", "is_not", "in", "not_in")
NUMBER_OPS = (*CHOICE_OPS, "greater", "less")


@dataclass(frozen=True)
class Field:
    kind: str  # choice, number, id, bool, text, set, hours
    ops: tuple[str, ...]
    choices: tuple[Any, ...] = ()
    model: type | None = None


FIELDS: dict[str, Field] = {
    "status": Field("choice", CHOICE_OPS, tuple(Status.values)),
    "channel": Field("choice", CHOICE_OPS, tuple(Channel.values)),
    "priority": Field("number", NUMBER_OPS, tuple(Priority.values)),
    "impact": Field("number", NUMBER_OPS, tuple(Level.values)),
    "urgency": Field("number", NUMBER_OPS, tuple(Level.values)),
    "tier": Field("number", NUMBER_OPS, (1, 2, 3)),
    "team": Field("id", CHOICE_OPS, model=Team),
    "category": Field("id", CHOICE_OPS, model=Category),
    "requester_department": Field("id", CHOICE_OPS, model=Department),
    "assignee": Field("set", ("is_set",)),
    "requester_vip": Field("bool", ("is",)),
    "subject": Field("text", ("contains", "not_contains")),
    "description": Field("text", ("contains", "not_contains")),
    "hours_since_update": Field("hours", ("greater", "less")),
}

# Set actions: the condition field each one changes.
SET_ACTIONS = {
    "set_team": "team",
    "set_tier": "tier",
    "set_priority": "priority",
    "set_category": "category",
    "set_assignee": "assignee",
}
ACTIONS = (*SET_ACTIONS, "add_note", "send_email", "escalate", "resolve", "close")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(field: Field, value: object, where: str, *, many: bool) -> str | None:
    """The error for a condition's value, or None."""
    if many:
        if not isinstance(value, list) or not value:
            return f"{where}: the value must be a non-empty list."
        for item in value:
            problem = _check_value(field, item, where, many=False)
            if problem:
                return problem
        return None
    if field.kind == "choice" and value not in field.choices:
        return f"{where}: “{value}” is not one of {', '.join(map(str, field.choices))}."
    if field.kind == "number" and (not _is_int(value) or value not in field.choices):
        return (
            f"{where}: the value must be a whole number, one of "
            + ", ".join(map(str, field.choices))
            + "."
        )
    if field.kind == "id":
        if not _is_int(value):
            return f"{where}: the value must be an id (a whole number)."
        if not field.model.objects.filter(pk=value).exists():
            return f"{where}: there is no {field.model._meta.verbose_name} with id {value}."
    if field.kind in ("bool", "set") and not isinstance(value, bool):
        return f"{where}: the value must be true or false."
    if field.kind == "text" and (not isinstance(value, str) or not value.strip()):
        return f"{where}: the value must be some text."
    if field.kind == "hours" and (
        not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 10**5
    ):
        return f"{where}: the value must be a number of hours (0 to 100000)."
    return None


def condition_errors(conditions: object) -> list[str]:
    if not isinstance(conditions, list):
        return ["Conditions must be a list of {field, op, value} objects."]
    errors = []
    for number, condition in enumerate(conditions, 1):
        where = f"Condition {number}"
        if not isinstance(condition, dict):
            errors.append(f"{where}: must be an object with field, op and value.")
            continue
        where = f"Condition {number} ({condition.get('field', '?')})"
        extra = set(condition) - {"field", "op", "value"}
        if extra:
            errors.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}.")
            continue
        field = FIELDS.get(condition.get("field"))  # type: ignore[arg-type]
        if field is None:
            errors.append(f"{where}: unknown field; use one of {', '.join(FIELDS)}.")
            continue
        op = condition.get("op")
        if op not in field.ops:
            errors.append(f"{where}: unknown operator “{op}”; use one of {', '.join(field.ops)}.")
            continue
        if "value" not in condition:
            errors.append(f"{where}: a value is needed.")
            continue
        problem = _check_value(field, condition["value"], where, many=op in ("in", "not_in"))
        if problem:
            errors.append(problem)
    return errors


def template_errors(text: object, where: str, *, required: bool = True) -> str | None:
    if text is None and not required:
        return None
    if not isinstance(text, str) or (required and not text.strip()):
        return f"{where}: some text is needed."
    if len(text) > MAX_TEXT:
        return f"{where}: at most {MAX_TEXT} characters."
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as error:
        return f"{where}: {error} (write {{{{ and }}}} for braces)."
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            return (
                f"{where}: unknown placeholder {{{name}}}; use "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                + "."
            )
    return None


def action_errors(actions: object) -> list[str]:
    if not isinstance(actions, list) or not actions:
        return ["Actions must be a non-empty list of {action, ...} objects."]
    errors = []
    for number, item in enumerate(actions, 1):
        where = f"Action {number}"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object with an action.")
            continue
        kind = item.get("action")
        where = f"Action {number} ({kind})"
        if kind not in ACTIONS:
            errors.append(
                f"Action {number}: unknown action “{kind}”; use one of {', '.join(ACTIONS)}."
            )
            continue
        allowed = {
            "add_note": {"text"},
            "send_email": {"subject", "body"},
            "escalate": {"summary"},
            "resolve": {"code", "note"},
            "close": {"code", "note"},
        }.get(kind, {"value"})
        extra = set(item) - allowed - {"action"}
        if extra:
            errors.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}.")
            continue
        problem = None
        value = item.get("value")
        if kind in ("set_team", "set_category", "set_assignee"):
            nullable = kind != "set_team"
            if value is None and nullable and "value" in item:
                pass
            elif not _is_int(value):
                problem = f"{where}: the value must be an id" + (" or null." if nullable else ".")
            elif kind == "set_team" and not Team.objects.filter(pk=value).exists():
                problem = f"{where}: there is no team with id {value}."
            elif kind == "set_category" and not Category.objects.filter(pk=value).exists():
                problem = f"{where}: there is no category with id {value}."
            elif kind == "set_assignee" and not (
                User.objects.filter(pk=value, is_active=True)
                .exclude(role=User.Role.REQUESTER)
                .exists()
            ):
                problem = f"{where}: there is no active technician with id {value}."
        elif kind == "set_tier" and (not _is_int(value) or value not in (1, 2, 3)):
            problem = f"{where}: the value must be 1, 2 or 3."
        elif kind == "set_priority" and (not _is_int(value) or value not in Priority.values):
            problem = f"{where}: the value must be 1, 2, 3 or 4."
        elif kind == "add_note":
            problem = template_errors(item.get("text"), where)
        elif kind == "send_email":
            problem = template_errors(item.get("subject"), f"{where} subject") or template_errors(
                item.get("body"), f"{where} body"
            )
            if not problem and len(item["subject"]) > 200:
                problem = f"{where} subject: at most 200 characters."
        elif kind == "escalate":
            problem = template_errors(item.get("summary"), where, required=False)
        elif kind in ("resolve", "close"):
            code = item.get("code")
            if (
                not isinstance(code, str)
                or not ResolutionCode.objects.filter(code=code, is_active=True).exists()
            ):
                problem = f"{where}: “{code}” is not an active resolution code."
            else:
                problem = template_errors(item.get("note"), f"{where} note")
        if problem:
            errors.append(problem)
    return errors


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


def holds(condition: dict[str, Any], actual: Any) -> bool:
    op, value = condition["op"], condition["value"]
    if op == "is" or op == "is_set":
        return actual == value
    if op == "is_not":
        return actual != value
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if op == "greater":
        return actual is not None and actual > value
    if op == "less":
        return actual is not None and actual < value
    if op == "contains":
        return value.casefold() in (actual or "").casefold()
    if op == "not_contains":
        return value.casefold() not in (actual or "").casefold()
    raise ValueError(f"unknown operator {op!r}")


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


def _set_value(action: dict[str, Any]) -> tuple[str, Any] | None:
    """(condition field, the value it will hold) for a set action."""
    field = SET_ACTIONS.get(action.get("action", ""))
    if field is None:
        return None
    value = action.get("value")
    return field, (value is not None) if field == "assignee" else value


def _accepts(rule: Rule, field: str, value: Any) -> bool:
    """Whether `rule` tests `field` and all its conditions on it accept `value`."""
    tests = [c for c in rule.conditions if isinstance(c, dict) and c.get("field") == field]
    try:
        return bool(tests) and all(holds(c, value) for c in tests)
    except (KeyError, TypeError, ValueError, AttributeError):  # a row saved around the admin
        return False


def feeds(first: Rule, second: Rule) -> str | None:
    """How `first`'s set action makes `second`'s conditions on that field hold ("priority = 1"),
    or None."""
    for action in first.actions:
        found = _set_value(action) if isinstance(action, dict) else None
        if found and _accepts(second, *found):
            return f"{found[0]} = {found[1]}"
    return None


def loop_errors(rule: Rule, others: list[Rule]) -> list[str]:
    if rule.trigger != RuleTrigger.UPDATED:
        return []
    own = feeds(rule, rule)
    if own:
        return [
            f"Rule “{rule.name}” sets {own}, which its own conditions still accept: it would "
            "match its own change again. Add a guard condition (the field is not that value)."
        ]
    if not any(_set_value(a) for a in rule.actions if isinstance(a, dict)):
        return []
    if not rule.is_active:
        return []
    # A cycle through this rule: rules whose set actions feed each other's conditions.
    graph = [r for r in others if r.trigger == RuleTrigger.UPDATED and r.is_active]

    explored: set[int] = set()  # rules with no way back to `rule`: not walked again

    def walk(current: Rule, path: list[Rule]) -> list[Rule] | None:
        if feeds(current, rule) and current is not rule:
            return path
        for nxt in graph:
            if nxt in path or nxt.pk in explored or not feeds(current, nxt):
                continue
            found = walk(nxt, [*path, nxt])
            explored.add(nxt.pk)
            if found:
                return found
        return None

    cycle = walk(rule, [rule])
    if cycle:
        names = " → ".join(f"“{r.name}”" for r in [*cycle, rule])
        return [f"These rules would undo each other's changes in a loop: {names}."]
    return []


def validate_rule(rule: Rule) -> None:
    """Raise a ValidationError (by field) for everything wrong with `rule`."""
    errors: dict[str, list[str]] = {}
    conditions = condition_errors(rule.conditions)
    if conditions:
        errors["conditions"] = conditions
    actions = action_errors(rule.actions)
    if actions:
        errors["actions"] = actions
    if rule.trigger == RuleTrigger.TIME:
        if not rule.wait_amount or not rule.wait_unit:
            errors["wait_amount"] = ["A time rule needs a wait and its unit."]
        if rule.wait_unit == WaitUnit.BUSINESS_DAYS and rule.calendar_id is None:
            errors["calendar"] = ["Choose the calendar whose business days count."]
        if rule.wait_status and rule.wait_status not in Status.values:
            errors["wait_status"] = [f"“{rule.wait_status}” is not a status."]
    elif rule.wait_amount or rule.wait_unit or rule.wait_status:
        errors["wait_amount"] = ["Only a time rule waits; clear the wait fields."]
    if errors:
        raise ValidationError(errors)
    others = list(Rule.objects.exclude(pk=rule.pk)) if rule.pk else list(Rule.objects.all())
    loops = loop_errors(rule, others)
    if loops:
        raise ValidationError({"actions": loops})


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
