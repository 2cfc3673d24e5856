"""What a rule may say, and why one is refused: the vocabulary of conditions and actions (see
sla/rules.py's docstring), the checks of each, and the loops between rules. `Rule.clean`
calls `validate_rule`; the engine (sla/rules.py) reads the same vocabulary and `holds`. No
model of this app is imported here (models.py imports this module): the Rule model is the
rule's own class.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from tierline.desk.choices import Channel, Level, Priority, Status
from tierline.desk.models import Category, ResolutionCode
from tierline.people.models import Department, Team, User
from tierline.sla.choices import RuleTrigger, WaitUnit

if TYPE_CHECKING:
    from tierline.sla.models import Rule

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


# --- conditions and loops ------------------------------------------------------------------


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
    rules = type(rule)._default_manager  # the Rule model, whose clean() calls this
    others = list(rules.exclude(pk=rule.pk)) if rule.pk else list(rules.all())
    loops = loop_errors(rule, others)
    if loops:
        raise ValidationError({"actions": loops})
