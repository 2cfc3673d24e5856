"""Forms of the change pages. They check the shape of input and put errors next to their
fields; the services decide what the rules allow (and their refusals are put back on the
field they name)."""

from __future__ import annotations

from typing import Any

from django import forms

from tierline.changes.models import ChangeRequest, Decision, Kind, Risk, Status
from tierline.changes.services import OUTCOMES, TEXT_MAX, TITLE_MAX
from tierline.core.inputs import BoundedDateTimeField, IdValuesMixin
from tierline.core.text import accepts_plain_text
from tierline.desk.forms_lists import DATETIME_LOCAL, DateTimeLocalInput
from tierline.people import queries as directory

WINDOW_INPUTS = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class StaffChoices(IdValuesMixin, forms.ModelMultipleChoiceField):
    pass


def _window_field(label: str) -> BoundedDateTimeField:
    return BoundedDateTimeField(
        label=label, required=False, widget=DateTimeLocalInput, input_formats=WINDOW_INPUTS
    )


def _check_window(form: forms.Form, data: dict[str, Any]) -> None:
    start, end = data.get("window_start"), data.get("window_end")
    if (start is None) != (end is None) and not form.errors.get("window_start"):
        missing = "window_end" if end is None else "window_start"
        if not form.errors.get(missing):
            form.add_error(missing, "Give the window's start and its end, or neither.")
    elif start and end and end <= start:
        form.add_error("window_end", "The window must end after it starts.")


@accepts_plain_text()
class ChangeForm(forms.Form):
    title = forms.CharField(label="Title", max_length=TITLE_MAX)
    kind = forms.ChoiceField(
        label="Kind",
        choices=Kind.choices,
        initial=Kind.NORMAL,
        help_text="Standard: pre-approved routine. Normal: every approver must approve. "
        "Emergency: may go ahead before approval, with the reason why.",
    )
    risk = forms.ChoiceField(label="Risk", choices=Risk.choices, initial=Risk.MEDIUM)
    description = forms.CharField(
        label="Description", required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    impact = forms.CharField(
        label="Impact",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who and what is affected, and for how long.",
    )
    plan = forms.CharField(label="Plan", required=False, max_length=TEXT_MAX, widget=forms.Textarea)
    rollback_plan = forms.CharField(
        label="Rollback plan", required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    window_start = _window_field("Window starts")
    window_end = _window_field("Window ends")
    owner = forms.ModelChoiceField(
        label="Implementer", queryset=directory.staff_people(), required=False
    )
    approvers = StaffChoices(
        label="Approvers",
        queryset=directory.staff_people(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="A normal change needs every one of them to approve.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = directory.staff_people().filter(is_system=False)
        self.fields["owner"].queryset = staff
        self.fields["approvers"].queryset = staff

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _check_window(self, data)
        return data

    @classmethod
    def initial_for(cls, change: ChangeRequest) -> dict[str, Any]:
        values = {
            name: getattr(change, name)
            for name in (
                "title",
                "kind",
                "risk",
                "description",
                "impact",
                "plan",
                "rollback_plan",
                "window_start",
                "window_end",
            )
        }
        values["owner"] = change.owner_id
        values["approvers"] = [a.approver_id for a in change.approvals.all()]
        values["version"] = change.version
        return values


@accepts_plain_text()
class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[(Decision.APPROVED, "Approve"), (Decision.REJECTED, "Reject")],
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == Decision.REJECTED and not (data.get("comment") or "").strip():
            self.add_error("comment", "Say why you reject it.")
        return data


MOVE_CHOICES = [
    (Status.SUBMITTED, "Submit"),
    (Status.SCHEDULED, "Schedule"),
    (Status.IN_PROGRESS, "Start"),
    *[(o, o.label) for o in OUTCOMES],
    (Status.CANCELLED, "Cancel the change"),
]


@accepts_plain_text()
class MoveForm(forms.Form):
    to = forms.ChoiceField(label="Move to", choices=MOVE_CHOICES)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The result (implemented, failed, rolled back), why an emergency change goes "
        "ahead before approval, or why it is cancelled.",
    )
    window_start = _window_field("Window starts")
    window_end = _window_field("Window ends")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _check_window(self, data)
        return data


class LinkTicketForm(forms.Form):
    ticket = forms.CharField(label="Ticket number", max_length=30)


class LinkAssetForm(forms.Form):
    asset = forms.IntegerField(label="Asset number", min_value=1, max_value=2**31 - 1)
