"""Every change to a change record: one function each, one transaction each, a history entry
(core.history) for every edit and every move along the state machine (TRANSITIONS).

Who may do what: the help desk (technicians and up) creates, edits, submits, schedules and
implements; an approver decides only their own approval; leads and administrators cancel.
A refusal by role is PermissionDenied (the pages answer 403); a refusal by the rules is a
ChangeError whose message is for a person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from tierline.changes.models import (
    ChangeApproval,
    ChangeAsset,
    ChangeRequest,
    ChangeTicket,
    Decision,
    Kind,
    Risk,
    Status,
)
from tierline.core.history import record, record_changes
from tierline.core.labels import Label, known, labels_for
from tierline.core.text import normalise_text
from tierline.desk import permissions as perms

# The state machine: where a change may go from each status. Approved and rejected are
# reached through the approvals (or submitting a standard change), never picked by hand.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.SUBMITTED, Status.CANCELLED),
    Status.SUBMITTED: (Status.APPROVED, Status.REJECTED, Status.IN_PROGRESS, Status.CANCELLED),
    Status.APPROVED: (Status.SCHEDULED, Status.IN_PROGRESS, Status.CANCELLED),
    Status.REJECTED: (),
    Status.SCHEDULED: (Status.IN_PROGRESS, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.IMPLEMENTED, Status.FAILED, Status.ROLLED_BACK),
    Status.FAILED: (Status.ROLLED_BACK,),
    Status.IMPLEMENTED: (),
    Status.ROLLED_BACK: (),
    Status.CANCELLED: (),
}
BY_APPROVALS = (Status.APPROVED, Status.REJECTED)
OUTCOMES = (Status.IMPLEMENTED, Status.FAILED, Status.ROLLED_BACK)
# While a change is still being decided; an emergency change's approvers may decide after it
# went ahead (a decision after the fact is recorded and moves nothing).
DECIDING = (Status.SUBMITTED,)
EMERGENCY_DECIDING = (Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS)
EMERGENCY_DECIDING += OUTCOMES

# The fields people edit on a draft, and how each is checked.
TEXT_FIELDS = ("title", "description", "impact", "plan", "rollback_plan")
EDITABLE = (*TEXT_FIELDS, "kind", "risk", "window_start", "window_end", "owner")
TITLE_MAX = 200
TEXT_MAX = 20000
MAX_APPROVERS = 20


class ChangeError(ValueError):
    """A change the rules refuse; the message says why, for a person (and `field`, when one
    field is at fault, says which)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- checks ---------------------------------------------------------------------------------


def is_desk(user: Any) -> bool:
    return bool(user is not None and perms.is_staff_member(user))


def can_cancel(user: Any) -> bool:
    return bool(is_desk(user) and (getattr(user, "is_lead", False) or user.is_system))


def _require_desk(by: Any) -> None:
    if not is_desk(by):
        raise PermissionDenied("Only the help desk works on change records.")


def _text(value: Any, *, field: str, label: str, required: bool = False) -> str:
    multiline = field != "title"
    try:
        text = normalise_text(value or "", label=label, multiline=multiline).strip()
    except ValidationError as error:
        raise ChangeError(error.messages[0], field) from None
    limit = TITLE_MAX if field == "title" else TEXT_MAX
    if len(text) > limit:
        raise ChangeError(f"{label} is longer than {limit} characters.", field)
    if required and not text:
        raise ChangeError(f"{label} is required.", field)
    return text


LABELS = {
    "title": "The title",
    "description": "The description",
    "impact": "The impact",
    "plan": "The plan",
    "rollback_plan": "The rollback plan",
}


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Both ends or neither; the end after the start."""
    if (start is None) != (end is None):
        field = "window_end" if end is None else "window_start"
        raise ChangeError("Give the window's start and its end, or neither.", field)
    if start is not None and end is not None and end <= start:
        raise ChangeError("The window must end after it starts.", "window_end")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ChangeError(f"Not an editable field: {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in set(TEXT_FIELDS) & set(cleaned):
        cleaned[name] = _text(
            cleaned[name], field=name, label=LABELS[name], required=name == "title"
        )
    if "kind" in cleaned and cleaned["kind"] not in Kind.values:
        raise ChangeError(f"Unknown kind “{cleaned['kind']}”.", "kind")
    if "risk" in cleaned and cleaned["risk"] not in Risk.values:
        raise ChangeError(f"Unknown risk “{cleaned['risk']}”.", "risk")
    owner = cleaned.get("owner")
    if owner is not None and not (is_desk(owner) and owner.is_active):
        raise ChangeError("The implementer must be an active member of the help desk.", "owner")
    return cleaned


def _check_approvers(approvers: Iterable[Any]) -> list[Any]:
    people = list(dict.fromkeys(approvers))
    if len(people) > MAX_APPROVERS:
        raise ChangeError(f"At most {MAX_APPROVERS} approvers.", "approvers")
    for person in people:
        if not (is_desk(person) and person.is_active) or person.is_system:
            raise ChangeError(f"{person} is not on the help desk: not an approver.", "approvers")
    return people


def _locked(change: ChangeRequest, version: int | None) -> ChangeRequest:
    """The change's row, locked for this transaction; refused when it moved on since the page
    that sent `version` was shown (None: no check, as a script that sends none)."""
    row = ChangeRequest.objects.select_for_update().filter(pk=change.pk).first()
    if row is None:
        raise ChangeError("This change record no longer exists.")
    if version is not None and row.version != version:
        raise ChangeError(
            "Someone changed this change record after you opened it; "
            "look at it again and redo your edit."
        )
    return row


def _save(change: ChangeRequest, fields: Iterable[str]) -> None:
    change.version += 1
    change.updated_at = timezone.now()
    change.save(update_fields=[*fields, "version", "updated_at"])


def _move(change: ChangeRequest, to: str, by: Any, note: str = "") -> None:
    """One step along TRANSITIONS: saved, and one history entry."""
    if to not in TRANSITIONS[change.status]:
        raise ChangeError(
            f"A change that is {Status(change.status).label.lower()} cannot become "
            f"{Status(to).label.lower()}."
        )
    old = change.status
    change.status = to
    _save(change, ["status"])
    record(
        change,
        by,
        "status changed",
        field="status",
        old=Status(old).label,
        new=Status(to).label,
        summary=note,
    )


# --- writing a change -----------------------------------------------------------------------


@transaction.atomic
def create_change(*, by: Any, approvers: Iterable[Any] = (), **values: Any) -> ChangeRequest:
    """A new change record, a draft, requested by `by`."""
    _require_desk(by)
    cleaned = _clean(values)
    if "title" not in cleaned:
        raise ChangeError("The title is required.", "title")
    check_window(cleaned.get("window_start"), cleaned.get("window_end"))
    people = _check_approvers(approvers)
    now = timezone.now()
    change = ChangeRequest.objects.create(
        requested_by=by, created_at=now, updated_at=now, **cleaned
    )
    change.number = f"CHG-{change.pk:06d}"
    change.save(update_fields=["number"])
    ChangeApproval.objects.bulk_create(
        ChangeApproval(change=change, approver=person) for person in people
    )
    record(change, by, "created", summary=change.title)
    return change


@transaction.atomic
def update_change(
    *,
    change: ChangeRequest,
    by: Any,
    version: int | None,
    approvers: Iterable[Any] | None = None,
    **values: Any,
) -> ChangeRequest:
    """Edit a draft; one history entry per changed field (and one for the approvers)."""
    _require_desk(by)
    cleaned = _clean(values)
    row = _locked(change, version)
    if row.status != Status.DRAFT:
        raise ChangeError("Only a draft is edited; this change has been submitted.")
    start = cleaned.get("window_start", row.window_start)
    end = cleaned.get("window_end", row.window_end)
    check_window(start, end)
    people = _check_approvers(approvers) if approvers is not None else None
    changed = [
        (name, getattr(row, name), value)
        for name, value in cleaned.items()
        if getattr(row, name) != value
    ]
    for name, _old, new in changed:
        setattr(row, name, new)
    if changed:
        _save(row, [name for name, _o, _n in changed])
        record_changes(row, by, [(_label(n), _shown(n, o), _shown(n, v)) for n, o, v in changed])
    if people is not None:
        _set_approvers(row, by, people)
    return row


def _label(name: str) -> str:
    return str(ChangeRequest._meta.get_field(name).verbose_name)


def _shown(name: str, value: Any) -> Any:
    if name == "kind" and value:
        return Kind(value).label
    if name == "risk" and value:
        return Risk(value).label
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value


def _set_approvers(change: ChangeRequest, by: Any, people: list[Any]) -> None:
    current = {a.approver_id: a for a in change.approvals.select_related("approver")}
    wanted = {p.pk: p for p in people}
    gone = [a for pk, a in current.items() if pk not in wanted]
    new = [p for pk, p in wanted.items() if pk not in current]
    if not gone and not new:
        return
    ChangeApproval.objects.filter(pk__in=[a.pk for a in gone]).delete()
    ChangeApproval.objects.bulk_create(ChangeApproval(change=change, approver=p) for p in new)
    record(
        change,
        by,
        "changed",
        field="approvers",
        old=", ".join(str(a.approver) for a in current.values()),
        new=", ".join(str(p) for p in people),
    )
    _save(change, [])  # the approvers are part of what a version covers


# --- moving a change along ------------------------------------------------------------------


@transaction.atomic
def submit(*, change: ChangeRequest, by: Any, version: int | None) -> ChangeRequest:
    """Draft -> submitted. A standard change is pre-approved on the spot; a normal change
    needs at least one named approver."""
    _require_desk(by)
    row = _locked(change, version)
    if row.status != Status.DRAFT:
        _move(row, Status.SUBMITTED, by)  # refused with the state machine's message
    if not row.plan:
        raise ChangeError("Write the plan before submitting.", "plan")
    if row.kind != Kind.STANDARD and not row.rollback_plan:
        raise ChangeError("Write the rollback plan before submitting.", "rollback_plan")
    if row.kind == Kind.NORMAL and not row.approvals.exists():
        raise ChangeError("A normal change needs at least one approver.", "approvers")
    _move(row, Status.SUBMITTED, by)
    if row.kind == Kind.STANDARD:
        _move(row, Status.APPROVED, by, note="Pre-approved: a standard change.")
    return row


@transaction.atomic
def decide(
    *, approval: ChangeApproval, by: Any, decision: str, comment: str = ""
) -> ChangeApproval:
    """An approver approves or rejects, with a comment (required to reject). One rejection
    rejects the change; the last approval approves it. An emergency change's approvers may
    decide after it went ahead: recorded, and the change stays where it is."""
    if by is None or approval.approver_id != getattr(by, "pk", None):
        raise PermissionDenied("Only the named approver decides this approval.")
    if decision not in (Decision.APPROVED, Decision.REJECTED):
        raise ChangeError("Approve or reject.", "decision")
    comment = _text(
        comment, field="comment", label="The comment", required=decision == Decision.REJECTED
    )
    change = _locked(approval.change, None)
    row = ChangeApproval.objects.select_for_update().get(pk=approval.pk)
    if row.decision != Decision.PENDING:
        raise ChangeError(f"You have already {row.get_decision_display().lower()} this change.")
    allowed = EMERGENCY_DECIDING if change.kind == Kind.EMERGENCY else DECIDING
    if change.status not in allowed:
        raise ChangeError(
            f"A change that is {Status(change.status).label.lower()} is not awaiting approval."
        )
    row.decision, row.comment, row.decided_at = decision, comment, timezone.now()
    row.save(update_fields=["decision", "comment", "decided_at"])
    record(
        change,
        by,
        "approved" if decision == Decision.APPROVED else "rejected",
        summary=comment,
    )
    if change.status == Status.SUBMITTED:
        if decision == Decision.REJECTED:
            _move(change, Status.REJECTED, by, note=f"Rejected by {by}.")
        elif not change.approvals.exclude(decision=Decision.APPROVED).exists():
            _move(change, Status.APPROVED, by, note="Every approver approved.")
        else:
            _save(change, [])
    else:
        _save(change, [])
    approval.change = change
    return row


@transaction.atomic
def schedule(
    *,
    change: ChangeRequest,
    by: Any,
    version: int | None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> ChangeRequest:
    """Approved -> scheduled, in a window (given here or already on the change)."""
    _require_desk(by)
    row = _locked(change, version)
    if Status.SCHEDULED not in TRANSITIONS[row.status]:
        _move(row, Status.SCHEDULED, by)
    start = window_start or row.window_start
    end = window_end or row.window_end
    if start is None or end is None:
        raise ChangeError("A scheduled change needs its window.", "window_start")
    check_window(start, end)
    if (start, end) != (row.window_start, row.window_end):
        record_changes(
            row,
            by,
            [
                (_label("window_start"), _shown("", row.window_start), _shown("", start)),
                (_label("window_end"), _shown("", row.window_end), _shown("", end)),
            ],
        )
        row.window_start, row.window_end = start, end
        row.save(update_fields=["window_start", "window_end"])
    _move(row, Status.SCHEDULED, by)
    return row


@transaction.atomic
def start(
    *, change: ChangeRequest, by: Any, version: int | None, reason: str = ""
) -> ChangeRequest:
    """Scheduled -> in progress. An emergency change may start before it is approved (or
    scheduled): the reason why is required and kept on the change."""
    _require_desk(by)
    row = _locked(change, version)
    if Status.IN_PROGRESS not in TRANSITIONS[row.status]:
        _move(row, Status.IN_PROGRESS, by)
    note = ""
    if row.status != Status.SCHEDULED:
        if row.kind != Kind.EMERGENCY:
            raise ChangeError(
                f"A {Kind(row.kind).label.lower()} change starts once it is scheduled."
            )
        if row.status == Status.SUBMITTED:
            reason = _text(
                reason, field="reason", label="Why it goes ahead before approval", required=True
            )
            row.emergency_reason = reason
            row.save(update_fields=["emergency_reason"])
            note = f"Before approval: {reason}"
    _move(row, Status.IN_PROGRESS, by, note=note)
    return row


@transaction.atomic
def finish(
    *, change: ChangeRequest, by: Any, version: int | None, outcome: str, result: str
) -> ChangeRequest:
    """In progress -> implemented, failed or rolled back (failed -> rolled back), with what
    happened (required)."""
    _require_desk(by)
    if outcome not in OUTCOMES:
        raise ChangeError("Choose implemented, failed or rolled back.", "outcome")
    result = _text(result, field="result", label="The result", required=True)
    row = _locked(change, version)
    if outcome not in TRANSITIONS[row.status]:
        _move(row, outcome, by)
    row.result = f"{row.result}\n\n{result}" if row.result else result
    row.save(update_fields=["result"])
    _move(row, outcome, by, note=result)
    return row


@transaction.atomic
def cancel(
    *, change: ChangeRequest, by: Any, version: int | None, reason: str = ""
) -> ChangeRequest:
    """Leads and administrators cancel a change that has not started."""
    if not can_cancel(by):
        raise PermissionDenied("Only a team lead or an administrator cancels a change.")
    reason = _text(reason, field="reason", label="The reason")
    row = _locked(change, version)
    _move(row, Status.CANCELLED, by, note=reason)
    return row


def moves_for(change: ChangeRequest, user: Any) -> list[str]:
    """The moves this user may try from the change's page, in TRANSITIONS order."""
    if not is_desk(user):
        return []
    moves = [to for to in TRANSITIONS[change.status] if to not in BY_APPROVALS]
    if change.kind != Kind.EMERGENCY and change.status != Status.SCHEDULED:
        moves = [to for to in moves if to != Status.IN_PROGRESS]
    if not can_cancel(user):
        moves = [to for to in moves if to != Status.CANCELLED]
    return moves


# --- links ----------------------------------------------------------------------------------


@transaction.atomic
def link_ticket(*, change: ChangeRequest, ticket: Any, by: Any) -> bool:
    """Link a ticket; True when the link is new (linking twice changes nothing)."""
    _require_desk(by)
    _, created = ChangeTicket.objects.get_or_create(
        change=change, ticket=ticket, defaults={"linked_by": by}
    )
    if created:
        record(change, by, "ticket linked", summary=ticket.number)
    return created


@transaction.atomic
def unlink_ticket(*, change: ChangeRequest, ticket: Any, by: Any) -> bool:
    _require_desk(by)
    deleted, _ = ChangeTicket.objects.filter(change=change, ticket=ticket).delete()
    if deleted:
        record(change, by, "ticket unlinked", summary=ticket.number)
    return bool(deleted)


ASSET_ID_MAX = 2**31 - 1
# The assets app answers for its assets' names through core.labels (changes may not import it).
ASSET = "assets.asset"


@transaction.atomic
def link_asset(*, change: ChangeRequest, asset_id: int, by: Any) -> bool:
    """Link an asset by its id (the assets app is not imported here; see ChangeAsset)."""
    _require_desk(by)
    if not isinstance(asset_id, int) or not 0 < asset_id <= ASSET_ID_MAX:
        raise ChangeError("An asset is linked by its number (a positive whole number).", "asset")
    label = labels_for(ASSET, [asset_id]).get(asset_id)
    if label is None and known(ASSET):
        raise ChangeError(f"There is no asset #{asset_id}.", "asset")
    _, created = ChangeAsset.objects.get_or_create(
        change=change, asset_id=asset_id, defaults={"linked_by": by}
    )
    if created:
        record(change, by, "asset linked", summary=_asset_name(asset_id, label))
    return created


def _asset_name(asset_id: int, label: Label | None) -> str:
    return f"Asset #{asset_id}" + (f" ({label.text})" if label is not None else "")


@transaction.atomic
def unlink_asset(*, change: ChangeRequest, asset_id: int, by: Any) -> bool:
    _require_desk(by)
    deleted, _ = ChangeAsset.objects.filter(change=change, asset_id=asset_id).delete()
    if deleted:
        label = labels_for(ASSET, [asset_id]).get(asset_id)
        record(change, by, "asset unlinked", summary=_asset_name(asset_id, label))
    return bool(deleted)
