"""Forms of the technician workspace: the ticket page's reply box and its action dialogs.

Forms only parse and check the shape of input; the rules (transitions, tiers, permissions,
sanitising) live in desk.services, whose ValidationErrors are put back on these forms.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tierline.core.idempotency import FormTokenField
from tierline.core.text import accepts_plain_text
from tierline.desk.models import (
    Category,
    Channel,
    Level,
    Macro,
    ResolutionCode,
    Status,
    Ticket,
)
from tierline.people import queries as directory
from tierline.people.models import Team, User

MAX_MINUTES = 24 * 60


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (none allowed); the service checks their type and size."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def minutes_field(label: str = _("Time spent (minutes)")) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=MAX_MINUTES, initial=0
    )


def team_label(team: Team) -> str:
    return f"Tier {team.tier} · {team.name}"


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return team_label(obj)


class TicketNumberField(forms.CharField):
    """A ticket number as typed ("tl-12", " TL-000012 "), normalised to the stored form."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return super().to_python(value).strip().upper()


def seen_values(ticket: Ticket) -> str:
    """What a page showed of the values an edit must not overwrite unseen, as a hidden field:
    on a refusal the page names which of them changed since (desk.views.ticket.stale_message).
    """
    return urlencode(
        {
            "status": ticket.status,
            "priority": ticket.priority,
            "team": ticket.team_id or "",
            "assignee": ticket.assignee.username if ticket.assignee_id else "",
        }
    )


class VersionedTicketForm(forms.Form):
    """An edit of a ticket from a page: it carries the version (and the values) it was loaded
    with, and the service refuses it when the ticket has moved on since (StaleEdit).

    Optional, so a client that sends none gets no check (as the API without "version").
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    seen = forms.CharField(widget=forms.HiddenInput, max_length=500, required=False)

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", ticket.version)
        self.initial.setdefault("seen", seen_values(ticket))


class TakeForm(VersionedTicketForm):
    """The Take button: only the version its page showed."""


@accepts_plain_text()
class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    internal = forms.BooleanField(
        label=_("Internal note (only the help desk sees it)"), required=False
    )
    time_spent_minutes = minutes_field()
    attachments = MultipleFileField(label=_("Attach files"))

    def clean_time_spent_minutes(self) -> int:
        return self.cleaned_data.get("time_spent_minutes") or 0


class AttachForm(forms.Form):
    attachments = MultipleFileField(label=_("Files"))
    visibility = forms.ChoiceField(
        label=_("Who can see these files?"),
        choices=[
            ("public", _("Public: the requester and the help desk")),
            ("internal", _("Internal: only the help desk")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the requester can see these files.")},
    )

    def clean_attachments(self) -> list:
        files = self.cleaned_data.get("attachments") or []
        if not files:
            raise ValidationError(_("Choose at least one file."))
        return files


class AssignForm(VersionedTicketForm):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=directory.staff_people().none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["assignee"].queryset = directory.members_and_leads(ticket.team_id)
        self.initial.setdefault("assignee", ticket.assignee_id)


@accepts_plain_text()
class FieldsForm(VersionedTicketForm):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("None"),
    )
    impact = forms.TypedChoiceField(label=_("Impact"), choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Level.choices, coerce=int)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "subject": ticket.subject,
                "category": ticket.category_id,
                "impact": ticket.impact,
                "urgency": ticket.urgency,
            },
        )
        super().__init__(*args, ticket=ticket, **kwargs)


class MacroForm(VersionedTicketForm):
    macro = forms.ModelChoiceField(
        label=_("Macro"),
        queryset=Macro.objects.filter(is_active=True),
        empty_label=_("Choose a macro…"),
        error_messages={"required": _("Choose a macro."), "invalid_choice": _("No such macro.")},
    )


class StatusForm(VersionedTicketForm):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.initial.setdefault("status", ticket.status)


@accepts_plain_text()
class EscalateForm(VersionedTicketForm):
    summary = forms.CharField(
        label=_("What was tried"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The next tier must not start from zero: checks done, results, ideas."),
    )
    team = TeamChoiceField(
        label=_("To team"),
        queryset=directory.teams().none(),
        required=False,
        empty_label=_("Default team of the next tier"),
    )

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["team"].queryset = directory.teams_at_or_above(ticket.tier).exclude(
            pk=ticket.team_id
        )


@accepts_plain_text()
class DeescalateForm(VersionedTicketForm):
    summary = forms.CharField(
        label=_("Why it goes back"), max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    team = TeamChoiceField(
        label=_("To team"),
        queryset=directory.teams().none(),
        required=False,
        empty_label=_("Default team of the tier below"),
    )

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["team"].queryset = directory.teams_below(ticket.tier)


@accepts_plain_text()
class ResolveForm(VersionedTicketForm):
    resolution_code = forms.ModelChoiceField(
        label=_("Resolution"),
        queryset=ResolutionCode.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Choose…"),
    )
    body = forms.CharField(
        label=_("Resolution note (the requester reads it)"),
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    time_spent_minutes = minutes_field()

    def clean_time_spent_minutes(self) -> int:
        return self.cleaned_data.get("time_spent_minutes") or 0


@accepts_plain_text()
class ReopenForm(VersionedTicketForm):
    reason = forms.CharField(
        label=_("Why reopen"), max_length=50000, widget=forms.Textarea(attrs={"rows": 3})
    )


@accepts_plain_text()
class MergeForm(forms.Form):
    into = TicketNumberField(
        label=_("Merge into ticket"), help_text=_("The number of the ticket that stays open.")
    )


@accepts_plain_text()
class LinkForm(forms.Form):
    other = TicketNumberField(label=_("Ticket number"))


@accepts_plain_text()
class ChildForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    team = TeamChoiceField(
        label=_("Team"), queryset=directory.teams(), required=False, empty_label=_("Same team")
    )


@accepts_plain_text()
class TicketCreateForm(forms.Form):
    """A technician opens a ticket for someone who phoned, mailed or walked in."""

    form_token = FormTokenField()

    CHANNELS = [
        (Channel.PHONE, Channel.PHONE.label),
        (Channel.EMAIL, Channel.EMAIL.label),
        (Channel.WALK_IN, Channel.WALK_IN.label),
    ]

    # Typed (name, email or phone; looked up on submit, as the call form does) or picked among
    # the lookup's matches (`requester_pick`, radio buttons filled by htmx or by a refused try).
    requester = forms.CharField(
        label=_("Requester"),
        max_length=254,
        # Required in clean(): a pick alone names the person too.
        required=False,
        help_text=_("Name, email or phone number of the person who needs help."),
    )
    requester_pick = forms.ModelChoiceField(
        queryset=directory.active_people(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That person is not in the directory.")},
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("Not sure"),
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Level.choices, coerce=int, initial=Level.MEDIUM
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Level.choices, coerce=int, initial=Level.MEDIUM
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS, initial=Channel.PHONE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.matches: list[User] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        picked = data.get("requester_pick")
        if picked is not None:
            data["requester"] = picked
            self.matches = [picked]
            return data
        typed = (data.get("requester") or "").strip()
        if "requester_pick" in self.errors:
            return data
        if not typed:
            self.add_error("requester", _("Say who needs help: their name, email or phone."))
            return data
        person, self.matches = directory.person_for(typed, limit=10)
        if person is not None:
            data["requester"] = person
        elif not self.matches:
            self.add_error("requester", _("Nobody in the directory matches “%s”.") % typed)
        else:
            self.add_error("requester", _("Several people match: pick one below."))
        return data
