"""Forms of the workspace lists: bulk actions, saved views, calls, call report, work orders.

They only parse and check the shape of input; the services decide what is allowed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone

from tierline.core.inputs import BoundedDateField, BoundedDateTimeField, parse_id
from tierline.core.text import accepts_plain_text
from tierline.desk.models import Call, Status, WorkOrder
from tierline.people import queries as directory
from tierline.people.models import User

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
_DATETIME_INPUTS = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# --- queue ----------------------------------------------------------------------------------


@accepts_plain_text()
class BulkForm(forms.Form):
    """Several tickets ticked in the queue (`ids`, checked by the view), and what to do.

    Each row also sends the version the queue showed (`version-<id>`), gathered into
    `versions`: the service refuses the whole action if any ticked ticket changed since.
    """

    ACTIONS = [("assign", "Assign"), ("status", "Change status")]
    action = forms.ChoiceField(choices=ACTIONS)
    assignee = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(
        required=False, choices=[("", "—")] + [(s.value, s.label) for s in Status]
    )

    MAX_TICKETS = 500

    def clean(self) -> dict:
        data = super().clean()
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        ids = (parse_id(v) for v in raw)
        data["ids"] = [i for i in ids if i is not None][: self.MAX_TICKETS]
        if not data["ids"]:
            self.add_error(None, "Tick at least one ticket.")
        data["versions"] = {}
        for ticket_id in data["ids"]:
            raw_version = self.data.get(f"version-{ticket_id}")
            if raw_version in (None, ""):
                continue  # a client that sends none gets no check (as the API without "version")
            version = parse_id(raw_version)
            if version is None:
                self.add_error(None, "The page sent a garbled ticket version; reload the queue.")
                break
            data["versions"][ticket_id] = version
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if data.get("action") == "assign":
            value = (data.get("assignee") or "").strip()
            if value not in ("", "me", "nobody") and parse_id(value) is None:
                self.add_error("assignee", "Choose a technician, “me” or nobody.")
        return data


@accepts_plain_text()
class SaveViewForm(forms.Form):
    name = forms.CharField(max_length=60, label="Name of this view")
    query = forms.CharField(max_length=1000, required=False)


# --- calls ----------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """“4:05”, “1:02:03” or “245” (seconds) -> seconds."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{1,6}", text):
        return int(text)
    match = re.fullmatch(r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2})", text)
    if not match:
        raise forms.ValidationError("Write the talk time as mm:ss (4:05) or as seconds (245).")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    if seconds >= 60 or (match.group(1) and minutes >= 60):
        raise forms.ValidationError("Seconds and minutes go up to 59.")
    return hours * 3600 + minutes * 60 + seconds


@accepts_plain_text()
class CallForm(forms.Form):
    """Log a call. The caller is picked from the directory (`caller`, filled by the lookup) or
    typed (`caller_lookup`, resolved on submit when it names one person), or just a name/phone."""

    caller = forms.ModelChoiceField(
        queryset=directory.active_people(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That person is not in the directory."},
    )
    caller_lookup = forms.CharField(
        label="Find the caller",
        required=False,
        max_length=120,
        help_text="Name, email or phone number.",
    )
    caller_name = forms.CharField(label="Caller name", required=False, max_length=120)
    caller_phone = forms.CharField(label="Caller phone", required=False, max_length=40)
    direction = forms.ChoiceField(
        choices=Call.Direction.choices, initial=Call.Direction.INBOUND, widget=forms.RadioSelect
    )
    duration = forms.CharField(
        label="Talk time",
        required=False,
        max_length=12,
        help_text="mm:ss or seconds. Leave empty to use the timer.",
    )
    duration_seconds = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    notes = forms.CharField(label="Notes", required=False, max_length=20000, widget=forms.Textarea)
    outcome = forms.ChoiceField(
        choices=Call.Outcome.choices, initial=Call.Outcome.SOLVED, widget=forms.RadioSelect
    )
    subject = forms.CharField(label="Subject of the new ticket", required=False, max_length=200)
    ticket_number = forms.CharField(label="Existing ticket", required=False, max_length=20)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matches: list[User] = []

    def clean_duration(self) -> int | None:
        text = self.cleaned_data.get("duration", "")
        return parse_duration(text) if text.strip() else None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("duration") is None and "duration" not in self.errors:
            data["duration"] = data.get("duration_seconds") or 0
        if data.get("caller") is None and (lookup := (data.get("caller_lookup") or "").strip()):
            person, self.matches = directory.person_for(lookup, limit=10)
            if person is not None:
                data["caller"] = person
            elif not self.matches and not (data.get("caller_name") or data.get("caller_phone")):
                self.add_error("caller_lookup", f"Nobody in the directory matches “{lookup}”.")
            elif self.matches:
                self.add_error("caller_lookup", "Several people match: pick one below.")
        return data


# --- call list and report ----------------------------------------------------------------------


class DateRangeForm(forms.Form):
    start = BoundedDateField(label="From", required=False, widget=DateInput)
    end = BoundedDateField(label="Until", required=False, widget=DateInput)

    MAX_DAYS = 366

    def __init__(self, *args, default_days: int | None = 7, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_days = default_days

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The range can't end before it starts.")
        elif start and end and (end - start).days >= self.MAX_DAYS:
            self.add_error("end", f"At most {self.MAX_DAYS} days at a time.")
        return data

    def range(self) -> tuple[date | None, date | None]:
        """The chosen range; the last `default_days` days when nothing (valid) was chosen."""
        data = self.cleaned_data if self.is_valid() else {}
        start, end = data.get("start"), data.get("end")
        if self.default_days is None:
            return start, end
        today = timezone.localdate()
        end = end or (start + timedelta(days=self.default_days - 1) if start else today)
        start = start or end - timedelta(days=self.default_days - 1)
        return start, end


# --- work orders ----------------------------------------------------------------------------


def checklist_from_lines(text: str, previous: list[dict] | None = None) -> list[dict]:
    """One item per non-empty line; an item that already existed keeps its tick."""
    done = {item["text"]: item.get("done", False) for item in previous or []}
    return [
        {"text": line.strip(), "done": done.get(line.strip(), False)}
        for line in (text or "").splitlines()
        if line.strip()
    ]


@accepts_plain_text()
class WorkOrderForm(forms.Form):
    technician = forms.ModelChoiceField(queryset=directory.staff_people(), label="Technician")
    scheduled_start = BoundedDateTimeField(
        label="From", widget=DateTimeLocalInput, input_formats=_DATETIME_INPUTS
    )
    scheduled_end = BoundedDateTimeField(
        label="Until", widget=DateTimeLocalInput, input_formats=_DATETIME_INPUTS
    )
    location = forms.ModelChoiceField(
        queryset=directory.locations(), required=False, label="Location"
    )
    desk = forms.CharField(label="Desk", required=False, max_length=60)
    device = forms.CharField(label="Device", required=False, max_length=120)
    instructions = forms.CharField(
        label="Instructions", required=False, max_length=10000, widget=forms.Textarea
    )
    checklist = forms.CharField(
        label="Checklist",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One item per line.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = directory.staff_people()

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("scheduled_start"), data.get("scheduled_end")
        if start and end and end < start:
            self.add_error("scheduled_end", "The visit can't end before it starts.")
        return data


class WorkOrderUpdateForm(WorkOrderForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


@accepts_plain_text()
class WorkOrderCompleteForm(forms.Form):
    outcome = forms.CharField(label="Outcome", max_length=10000, widget=forms.Textarea)
    signoff_name = forms.CharField(label="Signed off by", max_length=120)
    time_spent_minutes = forms.IntegerField(
        label="Time spent (minutes)", min_value=0, max_value=24 * 60
    )
    done = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, work_order: WorkOrder, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.work_order = work_order
        self.fields["done"].choices = [
            (i, item["text"]) for i, item in enumerate(work_order.checklist or [])
        ]

    def checklist(self) -> list[dict]:
        ticked = set(self.cleaned_data.get("done") or [])
        return [
            {"text": item["text"], "done": i in ticked}
            for i, item in enumerate(self.work_order.checklist or [])
        ]


@accepts_plain_text()
class WorkOrderCancelForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=1000)
