"""Work orders: a visit to the requester's desk, decided by Tier 2 or above."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tierline.core import events
from tierline.core.errors import ActionRefused
from tierline.core.history import record, record_changes
from tierline.core.inputs import DATE_RANGE_MESSAGE, date_in_range
from tierline.desk import permissions as perms
from tierline.desk.events import WorkOrderCancelled, WorkOrderCompleted, WorkOrderOpened
from tierline.desk.models import Ticket, WorkOrder
from tierline.desk.services.common import (
    ensure_not_finished,
    ensure_workable,
    optional_text,
    raise_if,
    require_text,
)
from tierline.desk.services.saving import append_to_ticket, save_versioned
from tierline.people.models import Location, User

_WORK_ORDER_FIELDS = (
    "location",
    "desk",
    "device",
    "scheduled_start",
    "scheduled_end",
    "technician",
    "instructions",
    "checklist",
)


def _clean_checklist(items: Any) -> list[dict]:
    if items is None:
        return []
    cleaned = []
    for item in items:
        if isinstance(item, str):
            item = {"text": item, "done": False}
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            raise ValidationError({"checklist": "Each checklist item needs a text."})
        text = _text_field("checklist", str(item["text"]))
        cleaned.append({"text": text, "done": bool(item.get("done"))})
    if len(cleaned) > 50:
        raise ValidationError({"checklist": "At most 50 checklist items."})
    return cleaned


_TEXT_FIELDS = {  # name: (label, max length, holds lines)
    "desk": ("The desk", 60, False),
    "device": ("The device", 120, False),
    "instructions": ("The instructions", 10000, True),
    "checklist": ("A checklist item", 200, False),
}


def _text_field(name: str, value: str | None) -> str:
    """One optional text field as stored (core.text.normalise_text); refused at once."""
    label, max_length, multiline = _TEXT_FIELDS[name]
    errors: dict[str, str] = {}
    value = optional_text(
        errors, name, value, max_length=max_length, label=label, multiline=multiline
    )
    raise_if(errors)
    return value


def _validate_work_order(wo: WorkOrder) -> None:
    errors: dict[str, str] = {}
    if wo.scheduled_start is None:
        errors["scheduled_start"] = "When should the visit start?"
    if wo.scheduled_end is None:
        errors["scheduled_end"] = "When should the visit end?"
    elif wo.scheduled_start and wo.scheduled_end < wo.scheduled_start:
        errors["scheduled_end"] = "The visit can't end before it starts."
    for name in ("scheduled_start", "scheduled_end"):
        when = getattr(wo, name)
        if when is not None and not date_in_range(when.date()):
            errors[name] = DATE_RANGE_MESSAGE
    if wo.technician_id is None:
        errors["technician"] = "Choose the technician who visits."
    elif not wo.technician.is_staff_member:
        errors["technician"] = f"{wo.technician} is not on the help desk."
    elif not perms.can_read_as_technician(wo.technician, wo.ticket):
        errors["technician"] = (
            f"{wo.technician} can't read {wo.ticket.number} (its team's tickets are restricted): "
            "choose someone who can."
        )
    for name, limit in (("desk", 60), ("device", 120)):
        if len(getattr(wo, name) or "") > limit:
            errors[name] = f"At most {limit} characters."
    raise_if(errors)


def _ensure_not_done(work_order: WorkOrder, prefix: str = "") -> None:
    if work_order.status in (WorkOrder.Status.DONE, WorkOrder.Status.CANCELLED):
        raise ActionRefused(
            f"{work_order.number} is {prefix}{work_order.get_status_display().lower()}."
        )


@transaction.atomic
def create_work_order(
    *,
    ticket: Ticket,
    by: User,
    technician: User,
    scheduled_start: datetime,
    scheduled_end: datetime,
    location: Location | None = None,
    desk: str = "",
    device: str = "",
    instructions: str = "",
    checklist: Any = None,
) -> WorkOrder:
    """Decide the ticket needs a visit: Tier 2 and above only."""
    ensure_workable(by, ticket)
    perms.ensure(perms.can_open_work_order(by), "Work orders are opened by Tier 2 or above.")
    ensure_not_finished(ticket, "add a work order to")
    requester = ticket.requester
    wo = WorkOrder(
        ticket=ticket,
        technician=technician,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        location=location or requester.location,
        desk=_text_field("desk", desk) or requester.desk,
        device=_text_field("device", device),
        instructions=_text_field("instructions", instructions),
        checklist=_clean_checklist(checklist),
        created_by=by,
    )
    _validate_work_order(wo)
    wo.save()
    wo.number = f"WO-{wo.pk:06d}"
    WorkOrder.objects.filter(pk=wo.pk).update(number=wo.number)
    record(wo, by, "created", summary=f"for {ticket.number}")
    record(
        ticket,
        by,
        "work order",
        summary=f"{wo.number}: visit {scheduled_start:%Y-%m-%d %H:%M} by {technician}",
    )
    events.publish(
        WorkOrderOpened(
            ticket_id=ticket.pk,
            actor_id=by.pk,
            work_order_id=wo.pk,
            technician_id=technician.pk,
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
        )
    )
    return wo


_WORK_ORDER_REFUSED = (
    "Work orders are changed by their field technician, Tier 2 or above working the ticket, "
    "or a lead."
)


@transaction.atomic
def update_work_order(
    *, work_order: WorkOrder, by: User, expected_version: int | None = None, **changes: Any
) -> WorkOrder:
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    _ensure_not_done(work_order)
    unknown = set(changes) - set(_WORK_ORDER_FIELDS) - {"status"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field can't be changed here."))
    if "checklist" in changes:
        changes["checklist"] = _clean_checklist(changes["checklist"])
    for name in ("desk", "device", "instructions"):
        if name in changes:
            changes[name] = _text_field(name, changes[name])
    if "status" in changes and changes["status"] not in (
        WorkOrder.Status.SCHEDULED,
        WorkOrder.Status.IN_PROGRESS,
    ):
        raise ValidationError({"status": "Use complete or cancel to finish a work order."})
    old = {name: getattr(work_order, name) for name in changes}
    for name, value in changes.items():
        setattr(work_order, name, value)
    _validate_work_order(work_order)
    save_versioned(work_order, changes, expected_version=expected_version)
    record_changes(work_order, by, [(n, old[n], getattr(work_order, n)) for n in changes])
    return work_order


@transaction.atomic
def complete_work_order(
    *,
    work_order: WorkOrder,
    by: User,
    outcome: str,
    signoff_name: str,
    time_spent_minutes: int,
    checklist: Any = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Record the visit: outcome, time, the requester's sign-off."""
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    _ensure_not_done(work_order, "already ")
    errors: dict[str, str] = {}
    outcome = require_text(errors, "outcome", outcome, max_length=10000, label="The outcome")
    signoff_name = require_text(
        errors,
        "signoff_name",
        signoff_name,
        max_length=120,
        label="The sign-off name",
        multiline=False,
    )
    if not isinstance(time_spent_minutes, int) or not 0 <= time_spent_minutes <= 24 * 60:
        errors["time_spent_minutes"] = "Time spent must be between 0 and 1440 minutes."
    raise_if(errors)
    if checklist is not None:
        work_order.checklist = _clean_checklist(checklist)
    work_order.status = WorkOrder.Status.DONE
    work_order.outcome, work_order.signoff_name = outcome, signoff_name
    work_order.time_spent_minutes = time_spent_minutes
    work_order.completed_at = timezone.now()
    save_versioned(
        work_order,
        ["status", "outcome", "signoff_name", "time_spent_minutes", "completed_at", "checklist"],
        expected_version=expected_version,
    )
    record(
        work_order,
        by,
        "completed",
        field="status",
        new=WorkOrder.Status.DONE.label,
        summary=f"signed off by {signoff_name}",
    )
    ticket = Ticket.objects.select_for_update().get(pk=work_order.ticket_id)
    append_to_ticket(ticket, minutes=time_spent_minutes)  # adds, never a stale refusal
    record(
        ticket,
        by,
        "work order done",
        summary=f"{work_order.number}: {time_spent_minutes} min, signed off by {signoff_name}",
    )
    events.publish(
        WorkOrderCompleted(
            ticket_id=ticket.pk,
            actor_id=by.pk,
            work_order_id=work_order.pk,
            time_spent_minutes=time_spent_minutes,
        )
    )
    return work_order


@transaction.atomic
def cancel_work_order(*, work_order: WorkOrder, by: User, reason: str) -> WorkOrder:
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    _ensure_not_done(work_order, "already ")
    errors: dict[str, str] = {}
    reason = require_text(
        errors, "reason", reason, max_length=1000, label="A reason", multiline=False
    )
    raise_if(errors)
    old = work_order.status
    work_order.status = WorkOrder.Status.CANCELLED
    save_versioned(work_order, ["status"])
    record(
        work_order, by, "cancelled", field="status", old=old, new=work_order.status, summary=reason
    )
    record(work_order.ticket, by, "work order cancelled", summary=f"{work_order.number}: {reason}")
    events.publish(
        WorkOrderCancelled(
            ticket_id=work_order.ticket_id,
            actor_id=by.pk,
            work_order_id=work_order.pk,
            reason=reason,
        )
    )
    return work_order
